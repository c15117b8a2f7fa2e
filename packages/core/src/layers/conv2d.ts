import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../nn/module.js';
import type { Rng } from '../random/rng.js';
import { assertLastDim, assertPositiveInteger, assertRank } from './check-shape.js';
import { conv2dResidualAvailable, conv2dWithResidual } from './conv2d-residual.js';
import { biasBound, kaimingUniformBound, resolveRng, uniformInit } from './init.js';

export interface Conv2dApplyOptions {
  /**
   * A tensor of the output's shape added to it (a ResNet block's skip): on webgpu inside the conv's
   * kernel, elsewhere by an add after it.
   */
  residual?: tf.Tensor;
}

export interface Conv2dOptions {
  /** Default 1. */
  stride?: number;
  /**
   * A number pads every spatial side with that many zeros, like PyTorch (default 0).
   * 'same' (stride 1 only, as in PyTorch) and 'valid' are also accepted.
   */
  padding?: number | 'same' | 'valid';
  /** Default true. */
  bias?: boolean;
  /** Default: the global generator. */
  rng?: Rng;
}

/** `torch.nn.Conv2d` on NHWC input; the weight is stored HWIO (layout 'conv2d'). */
export class Conv2d extends Module {
  readonly weight: tf.Variable; // [k, k, in, out]
  readonly bias: tf.Variable | undefined; // [out]
  readonly stride: number;
  readonly padding: number | 'same' | 'valid';

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    options: Conv2dOptions = {},
  ) {
    super();
    assertPositiveInteger('Conv2d', 'inChannels', inChannels);
    assertPositiveInteger('Conv2d', 'outChannels', outChannels);
    assertPositiveInteger('Conv2d', 'kernelSize', kernelSize);
    this.stride = options.stride ?? 1;
    assertPositiveInteger('Conv2d', 'stride', this.stride);
    this.padding = options.padding ?? 0;
    const padding = this.padding;
    if (padding === 'same') {
      if (this.stride !== 1)
        throw new Error(`Conv2d: padding 'same' needs stride 1, got stride ${this.stride}`);
    } else if (padding !== 'valid' && !(Number.isInteger(padding) && padding >= 0)) {
      throw new Error(
        `Conv2d: padding must be a non-negative integer, 'same' or 'valid', got ${String(padding)}`,
      );
    }
    const rng = resolveRng(options.rng);
    const fanIn = inChannels * kernelSize * kernelSize;
    const torchShape = [outChannels, inChannels, kernelSize, kernelSize];
    this.weight = tf.tidy(() =>
      this.addParameter(
        'weight',
        uniformInit(rng, torchShape, kaimingUniformBound(fanIn), [2, 3, 1, 0]),
        'conv2d',
      ),
    );
    this.bias =
      options.bias === false
        ? undefined
        : tf.tidy(() => this.addParameter('bias', uniformInit(rng, [outChannels], biasBound(fanIn))));
  }

  /** [B, H, W, in] -> [B, H', W', out], plus `residual` when given. */
  apply(x: tf.Tensor, { residual }: Conv2dApplyOptions = {}): tf.Tensor {
    assertRank('Conv2d', x, 4, `[B, H, W, ${this.inChannels}]`);
    assertLastDim('Conv2d', x, this.inChannels, 'channels');
    return tf.tidy(() => {
      const { input, pad } = this.padded(x as tf.Tensor4D);
      const filter = this.weight as tf.Tensor4D;
      if (residual === undefined) return this.convolve(input, filter, pad);
      const { outShape } = tf.backend_util.computeConv2DInfo(input.shape, filter.shape, this.stride, 1, pad);
      if (!tf.util.arraysEqual(residual.shape, outShape)) {
        throw new Error(
          `Conv2d: expected residual of the output's shape [${outShape.join(', ')}], got [${residual.shape.join(', ')}]`,
        );
      }
      if (this.bias !== undefined && residual.dtype === 'float32' && conv2dResidualAvailable()) {
        return conv2dWithResidual(input, filter, this.bias, residual, this.stride, pad);
      }
      return tf.add(this.convolve(input, filter, pad), residual);
    });
  }

  /** The input with a numeric padding applied, and the padding left for the conv. */
  private padded(x: tf.Tensor4D): { input: tf.Tensor4D; pad: 'same' | 'valid' } {
    if (this.padding === 'same') return { input: x, pad: 'same' };
    if (typeof this.padding === 'number' && this.padding > 0) {
      const p = this.padding;
      const input = tf.pad(x, [
        [0, 0],
        [p, p],
        [p, p],
        [0, 0],
      ]);
      return { input, pad: 'valid' };
    }
    return { input: x, pad: 'valid' };
  }

  private convolve(input: tf.Tensor4D, filter: tf.Tensor4D, pad: 'same' | 'valid'): tf.Tensor {
    if (this.bias === undefined) return tf.conv2d(input, filter, this.stride, pad);
    if (!canFuseBias()) return tf.add(tf.conv2d(input, filter, this.stride, pad), this.bias);
    // One kernel with the bias added in (the backends' FusedConv2D), not a conv and an add.
    return tf.fused.conv2d({ x: input, filter, strides: this.stride, pad, bias: this.bias });
  }
}

/**
 * Whether tf.fused.conv2d can run here: always outside gradient recording, and under it where the
 * backend has Conv2DBackpropFilter, which tfjs' gradient of the fused op calls directly. wasm lacks
 * it and trains through the plain conv, whose gradient core replaces there.
 */
function canFuseBias(): boolean {
  return (
    tf.engine().state.gradientDepth === 0 ||
    tf.getKernel(tf.Conv2DBackpropFilter, tf.getBackend()) !== undefined
  );
}
