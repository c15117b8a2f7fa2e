import * as tf from '@tensorflow/tfjs-core';

/**
 * A parameter's AdamW moments (exp_avg and exp_avg_sq, float32, of its shape). Our webgpu kernel
 * keeps them as one variable [2, ...shape], exp_avg first, which it writes in one dispatch; the
 * plain ops as two variables. Each layout is made from the other when first asked for (zeros
 * before the first step), so switching kernels or backends between steps keeps the state.
 */
export class AdamWMoments {
  private separate: [tf.Variable, tf.Variable] | undefined;
  private packed: tf.Variable | undefined;

  private constructor(private readonly shape: number[]) {}

  /** Zeros of `shape`, made in whichever layout the first step asks for. */
  static zeros(shape: number[]): AdamWMoments {
    return new AdamWMoments(shape);
  }

  /** Copies of `expAvg` and `expAvgSq` (cast to float32); they stay the caller's. */
  static from(expAvg: tf.Tensor, expAvgSq: tf.Tensor): AdamWMoments {
    const moments = new AdamWMoments(expAvg.shape);
    moments.separate = tf.tidy(() => [
      tf.variable(tf.cast(expAvg, 'float32'), false),
      tf.variable(tf.cast(expAvgSq, 'float32'), false),
    ]);
    return moments;
  }

  /** The two moments as variables of the parameter's shape. */
  asSeparate(): [tf.Variable, tf.Variable] {
    if (this.separate === undefined) {
      const packed = this.packed;
      this.separate = tf.tidy(() => {
        const [expAvg, expAvgSq] = packed ? tf.unstack(packed) : [tf.zeros(this.shape), tf.zeros(this.shape)];
        return [tf.variable(expAvg!, false), tf.variable(expAvgSq!, false)];
      });
      packed?.dispose();
      this.packed = undefined;
    }
    return this.separate;
  }

  /** The two moments as one variable [2, ...shape], exp_avg first. */
  asPacked(): tf.Variable {
    if (this.packed === undefined) {
      const separate = this.separate;
      this.packed = tf.tidy(() =>
        tf.variable(separate ? tf.stack(separate) : tf.zeros([2, ...this.shape]), false),
      );
      tf.dispose(separate);
      this.separate = undefined;
    }
    return this.packed;
  }

  /** Copies of exp_avg and exp_avg_sq, owned by the caller. */
  read(): [tf.Tensor, tf.Tensor] {
    if (this.packed !== undefined) return tf.unstack(this.packed) as [tf.Tensor, tf.Tensor];
    const [expAvg, expAvgSq] = this.asSeparate();
    return [tf.clone(expAvg), tf.clone(expAvgSq)];
  }

  dispose(): void {
    tf.dispose(this.separate);
    this.packed?.dispose();
    this.separate = undefined;
    this.packed = undefined;
  }
}
