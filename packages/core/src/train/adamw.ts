import * as tf from '@tensorflow/tfjs-core';
import { AdamWMoments } from './adamw-moments.js';
import { applyAdamW } from './apply-adamw.js';
import { type Gradients, gradientList } from './gradients.js';
import { namedVariables, type ParameterSource } from './named-variables.js';

export interface AdamWOptions {
  /** Default 1e-3 (PyTorch's default). */
  lr?: number;
  /** Default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay; default 0.01. */
  weightDecay?: number;
  /** Which parameters decay; default: rank >= 2 only, so biases, norms and scalars do not. */
  decays?: (name: string, variable: tf.Variable) => boolean;
}

export interface AdamWStepOptions {
  /** A scalar every gradient is multiplied by before the update; the caller keeps it. */
  gradScale?: tf.Scalar;
}

interface SlotState {
  step: number;
  moments: AdamWMoments;
}

/**
 * `torch.optim.AdamW` (single-tensor path, amsgrad off), with per-parameter step counts as in PyTorch.
 * Moment buffers are created on a parameter's first gradient.
 */
export class AdamW {
  private readonly params: Map<string, tf.Variable>;
  private readonly nameOf = new Map<tf.Variable, string>();
  private readonly byTfName = new Map<string, string>();
  private readonly state = new Map<string, SlotState>();
  private lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly decays: (name: string, variable: tf.Variable) => boolean;

  constructor(params: ParameterSource, options: AdamWOptions = {}) {
    this.params = namedVariables(params);
    for (const [name, variable] of this.params) {
      this.nameOf.set(variable, name);
      this.byTfName.set(variable.name, name);
    }
    this.lr = options.lr ?? 1e-3;
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    this.decays = options.decays ?? ((_, variable) => variable.rank >= 2);
    assertRange('lr', this.lr, 0, Number.POSITIVE_INFINITY);
    assertRange('betas[0]', this.beta1, 0, 1);
    assertRange('betas[1]', this.beta2, 0, 1);
    assertRange('eps', this.eps, 0, Number.POSITIVE_INFINITY);
    assertRange('weightDecay', this.weightDecay, 0, Number.POSITIVE_INFINITY);
  }

  /** Parameter names in order; an array of gradients passed to `step` is aligned with this. */
  get names(): string[] {
    return [...this.params.keys()];
  }

  get learningRate(): number {
    return this.lr;
  }

  setLearningRate(lr: number): void {
    assertRange('lr', lr, 0, Number.POSITIVE_INFINITY);
    this.lr = lr;
  }

  /**
   * One update. Parameters without a gradient are left alone, as PyTorch skips `grad is None`.
   * With `gradScale` (a scalar, such as `clipCoefficient`'s), every gradient is multiplied by it
   * first, inside the update.
   */
  step(grads: Gradients, options: AdamWStepOptions = {}): void {
    const { gradScale } = options;
    if (gradScale !== undefined && gradScale.rank !== 0) {
      throw new Error(`AdamW.step: gradScale must be a scalar, got shape [${gradScale.shape.join(', ')}]`);
    }
    for (const [name, grad] of this.resolve(grads)) this.update(name, grad, gradScale);
  }

  /**
   * A copy of the state, keyed `<param>.exp_avg`, `<param>.exp_avg_sq` and `<param>.step` (int32 scalar).
   * The tensors are the caller's.
   */
  exportState(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, slot] of this.state) {
      const [expAvg, expAvgSq] = slot.moments.read();
      out.set(`${name}.exp_avg`, expAvg);
      out.set(`${name}.exp_avg_sq`, expAvgSq);
      out.set(`${name}.step`, tf.scalar(slot.step, 'int32'));
    }
    return out;
  }

  /**
   * Replaces the whole state with a copy of `state` (as `exportState` wrote it); `state` stays the
   * caller's. Checks everything before it changes anything. Async: step counts are read with
   * `data()`, since `dataSync()` fails on WebGPU in Node.
   */
  async importState(state: ReadonlyMap<string, tf.Tensor>): Promise<void> {
    const known = new Set<string>();
    const next = new Map<string, { step: tf.Tensor; expAvg: tf.Tensor; expAvgSq: tf.Tensor }>();
    for (const [name, variable] of this.params) {
      const keys = [`${name}.exp_avg`, `${name}.exp_avg_sq`, `${name}.step`] as const;
      const [expAvg, expAvgSq, step] = keys.map((key) => state.get(key));
      if (expAvg === undefined && expAvgSq === undefined && step === undefined) continue;
      if (expAvg === undefined || expAvgSq === undefined || step === undefined) {
        throw new Error(`AdamW.importState: incomplete state for "${name}", need ${keys.join(', ')}`);
      }
      for (const moment of [expAvg, expAvgSq]) {
        if (!tf.util.arraysEqual(moment.shape, variable.shape)) {
          throw new Error(
            `AdamW.importState: "${name}" has shape [${variable.shape.join(', ')}], state has [${moment.shape.join(', ')}]`,
          );
        }
      }
      for (const key of keys) known.add(key);
      next.set(name, { step, expAvg, expAvgSq });
    }
    const unknown = [...state.keys()].filter((key) => !known.has(key));
    if (unknown.length > 0) throw new Error(`AdamW.importState: unknown keys ${unknown.join(', ')}`);
    const steps = await Promise.all([...next.values()].map(async ({ step }) => (await step.data())[0] ?? 0));
    this.disposeState();
    for (const [i, [name, { expAvg, expAvgSq }]] of [...next].entries()) {
      this.state.set(name, {
        step: steps[i] as number,
        moments: AdamWMoments.from(expAvg, expAvgSq),
      });
    }
  }

  dispose(): void {
    this.disposeState();
  }

  private disposeState(): void {
    for (const slot of this.state.values()) slot.moments.dispose();
    this.state.clear();
  }

  private resolve(grads: Gradients): [string, tf.Tensor][] {
    if (grads instanceof Map) {
      return [...grads].map(([variable, grad]) => {
        const name = this.nameOf.get(variable);
        if (name === undefined)
          throw new Error(`AdamW.step: variable "${variable.name}" is not optimized here`);
        return [name, grad];
      });
    }
    if (Array.isArray(grads)) {
      const names = this.names;
      if (grads.length !== names.length) {
        throw new Error(`AdamW.step: got ${grads.length} gradients for ${names.length} parameters`);
      }
      return gradientList(grads).map((grad, i) => [names[i]!, grad]);
    }
    return Object.entries(grads as tf.NamedTensorMap).map(([tfName, grad]) => {
      const name = this.byTfName.get(tfName);
      if (name === undefined) throw new Error(`AdamW.step: variable "${tfName}" is not optimized here`);
      return [name, grad];
    });
  }

  private update(name: string, grad: tf.Tensor, gradScale: tf.Scalar | undefined): void {
    const param = this.params.get(name)!;
    if (!tf.util.arraysEqual(grad.shape, param.shape)) {
      throw new Error(
        `AdamW.step: gradient for "${name}" has shape [${grad.shape.join(', ')}], parameter has [${param.shape.join(', ')}]`,
      );
    }
    let slot = this.state.get(name);
    if (slot === undefined) {
      slot = { step: 0, moments: AdamWMoments.zeros(param.shape) };
      this.state.set(name, slot);
    }
    slot.step += 1;
    const { beta1, beta2, eps, lr } = this;
    const decay = this.weightDecay > 0 && this.decays(name, param) ? this.weightDecay : 0;
    // Per-step scalars in float64, as PyTorch computes them on the host.
    applyAdamW(param, grad, slot.moments, {
      beta1,
      beta2,
      eps,
      stepSize: lr / (1 - beta1 ** slot.step),
      biasCorrection2Sqrt: Math.sqrt(1 - beta2 ** slot.step),
      decayFactor: 1 - lr * decay,
      gradScale,
    });
  }
}

function assertRange(name: string, value: number, min: number, maxExclusive: number): void {
  if (!(value >= min && value < maxExclusive)) {
    throw new Error(`AdamW: ${name} must be in [${min}, ${maxExclusive}), got ${value}`);
  }
}
