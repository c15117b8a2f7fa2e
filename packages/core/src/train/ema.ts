import * as tf from '@tensorflow/tfjs-core';
import { EMA_KERNEL, type EmaKernelAttrs } from '../backend/optimizer-kernels-contract.js';
import { ownKernelEnabled } from '../backend/webgpu-kernels/webgpu-kernels-switch.js';
import type { Module } from '../nn/module.js';
import { namedVariables } from './named-variables.js';

export interface EMAOptions {
  /** Default 0.9999. */
  decay?: number;
  /**
   * Use min(decay, (1 + n) / (10 + n)) for the update after n earlier ones (so 0.1 for the
   * first), like diffusers' `EMAModel` with `use_ema_warmup`; default false.
   */
  warmup?: boolean;
}

/**
 * An exponential moving average of a module's trainable parameters:
 * shadow <- shadow - (1 - d) * (shadow - param) on each `update()`.
 */
export class EMA {
  private readonly params: Map<string, tf.Variable>;
  private readonly shadow = new Map<string, tf.Variable>();
  private updates = 0;
  readonly decay: number;
  readonly warmup: boolean;

  constructor(
    readonly module: Module,
    options: EMAOptions = {},
  ) {
    this.decay = options.decay ?? 0.9999;
    this.warmup = options.warmup ?? false;
    if (!(this.decay >= 0 && this.decay <= 1))
      throw new Error(`EMA: decay must be in [0, 1], got ${this.decay}`);
    this.params = namedVariables(module);
    for (const [name, variable] of this.params) {
      this.shadow.set(
        name,
        tf.tidy(() => tf.variable(tf.clone(variable), false)),
      );
    }
  }

  /** Updates done so far. */
  get step(): number {
    return this.updates;
  }

  /** The decay the next `update()` will use. */
  currentDecay(): number {
    if (!this.warmup) return this.decay;
    return Math.min(this.decay, (1 + this.updates) / (10 + this.updates));
  }

  update(): void {
    const oneMinusDecay = 1 - this.currentDecay();
    const kernel = ownKernelEnabled(EMA_KERNEL, 'optimizer');
    tf.tidy(() => {
      for (const [name, shadow] of this.shadow) {
        const param = this.params.get(name)!;
        if (kernel && param.dtype === 'float32') {
          const attrs: EmaKernelAttrs = { oneMinusDecay };
          const inputs = { shadow, param };
          shadow.assign(
            tf.engine().runKernel(EMA_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
          );
        } else {
          shadow.assign(tf.sub(shadow, tf.mul(tf.sub(shadow, param), oneMinusDecay)));
        }
      }
    });
    this.updates += 1;
  }

  /** Writes the averaged weights into `target` (default: the tracked module), matched by parameter name. */
  copyTo(target: Module = this.module): void {
    const targets = namedVariables(target);
    for (const [name, shadow] of this.shadow) {
      const variable = targets.get(name);
      if (variable === undefined) throw new Error(`EMA.copyTo: target has no parameter "${name}"`);
      if (!tf.util.arraysEqual(variable.shape, shadow.shape)) {
        throw new Error(
          `EMA.copyTo: "${name}" has shape [${variable.shape.join(', ')}], EMA has [${shadow.shape.join(', ')}]`,
        );
      }
      tf.tidy(() => variable.assign(tf.clone(shadow)));
    }
  }

  /** Exchanges the tracked module's weights with the averaged ones; a second call swaps them back. */
  swap(): void {
    tf.tidy(() => {
      for (const [name, shadow] of this.shadow) {
        const param = this.params.get(name)!;
        const live = tf.clone(param);
        param.assign(tf.clone(shadow));
        shadow.assign(live);
      }
    });
  }

  /** A copy of the state: `step` (int32 scalar) and `shadow.<param>`; the tensors are the caller's. */
  exportState(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>([['step', tf.scalar(this.updates, 'int32')]]);
    for (const [name, shadow] of this.shadow) out.set(`shadow.${name}`, tf.clone(shadow));
    return out;
  }

  /** Restores what `exportState` wrote; every key must match. `state` stays the caller's. */
  async importState(state: ReadonlyMap<string, tf.Tensor>): Promise<void> {
    const expected = new Set(['step', ...[...this.shadow.keys()].map((name) => `shadow.${name}`)]);
    const missing = [...expected].filter((key) => !state.has(key));
    const unknown = [...state.keys()].filter((key) => !expected.has(key));
    if (missing.length > 0 || unknown.length > 0) {
      throw new Error(
        `EMA.importState: missing keys [${missing.join(', ')}], unknown keys [${unknown.join(', ')}]`,
      );
    }
    for (const [name, shadow] of this.shadow) {
      const value = state.get(`shadow.${name}`)!;
      if (!tf.util.arraysEqual(value.shape, shadow.shape)) {
        throw new Error(
          `EMA.importState: "${name}" has shape [${shadow.shape.join(', ')}], state has [${value.shape.join(', ')}]`,
        );
      }
    }
    // data(), not dataSync(): the latter fails on WebGPU in Node.
    const updates = (await state.get('step')!.data())[0] ?? 0;
    for (const [name, shadow] of this.shadow) {
      tf.tidy(() => shadow.assign(tf.cast(state.get(`shadow.${name}`)!, 'float32')));
    }
    this.updates = updates;
  }

  dispose(): void {
    for (const shadow of this.shadow.values()) shadow.dispose();
    this.shadow.clear();
  }
}
