import * as tf from '@tensorflow/tfjs-core';
import {
  GROUP_NORM_GRAD_KERNEL,
  GROUP_NORM_KERNEL,
  GROUP_NORM_MODULATED_SILU_GRAD_KERNEL,
  GROUP_NORM_MODULATED_SILU_KERNEL,
  GROUP_NORM_SILU_GRAD_KERNEL,
  GROUP_NORM_SILU_KERNEL,
} from '../backend/group-norm-contract.js';
import { ownKernelEnabled } from '../backend/webgpu-kernels/webgpu-kernels-switch.js';
import { Module } from '../nn/module.js';
import { silu } from './activations.js';
import { assertLastDim, assertPositiveInteger, assertRank } from './check-shape.js';

export interface GroupNormOptions {
  /** Default 1e-5. */
  eps?: number;
}

export interface GroupNormApplyOptions {
  /** An activation applied to the output, fused into the norm's kernels where a backend has them. */
  activation?: 'silu';
  /**
   * [B, 2C]: a scale and a shift per batch entry and channel (scales first), applied as
   * y (1 + scale) + shift after the norm and before the activation, as a diffusion U-Net's ResNet
   * blocks condition on the time step. Fused with SiLU into the norm's kernels on webgpu.
   */
  scaleShift?: tf.Tensor;
}

/** `torch.nn.GroupNorm(numGroups, numChannels)` on NHWC input. */
export class GroupNorm extends Module {
  readonly weight: tf.Variable; // [C]
  readonly bias: tf.Variable; // [C]
  readonly eps: number;

  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    options: GroupNormOptions = {},
  ) {
    super();
    assertPositiveInteger('GroupNorm', 'numGroups', numGroups);
    assertPositiveInteger('GroupNorm', 'numChannels', numChannels);
    if (numChannels % numGroups !== 0) {
      throw new Error(`GroupNorm: numChannels ${numChannels} is not divisible by numGroups ${numGroups}`);
    }
    this.eps = options.eps ?? 1e-5;
    this.weight = tf.tidy(() => this.addParameter('weight', tf.ones([numChannels])));
    this.bias = tf.tidy(() => this.addParameter('bias', tf.zeros([numChannels])));
  }

  /** [B, H, W, C] -> [B, H, W, C] */
  apply(x: tf.Tensor, { activation, scaleShift }: GroupNormApplyOptions = {}): tf.Tensor {
    assertRank('GroupNorm', x, 4, `[B, H, W, ${this.numChannels}]`);
    assertLastDim('GroupNorm', x, this.numChannels, 'channels');
    if (activation !== undefined && activation !== 'silu') {
      throw new Error(`GroupNorm: unknown activation "${String(activation)}"; valid: silu`);
    }
    const batch = x.shape[0] as number;
    if (scaleShift !== undefined && !tf.util.arraysEqual(scaleShift.shape, [batch, 2 * this.numChannels])) {
      throw new Error(
        `GroupNorm: expected scaleShift of shape [${batch}, ${2 * this.numChannels}], got [${scaleShift.shape.join(', ')}]`,
      );
    }
    const args = [x, this.weight, this.bias, this.numGroups, this.eps] as const;
    if (activation === 'silu' && scaleShift !== undefined) {
      if (ownKernelEnabled(GROUP_NORM_MODULATED_SILU_KERNEL, 'groupNorm')) {
        return fusedGroupNorm(...args, MODULATED_SILU_KERNELS, scaleShift);
      }
    } else if (activation === 'silu' && ownKernelEnabled(GROUP_NORM_SILU_KERNEL, 'groupNorm')) {
      return fusedGroupNorm(...args, SILU_KERNELS);
    }
    // Inside one tidy: the normalized tensor is an intermediate when a modulation or SiLU follows.
    return tf.tidy(() => {
      let y = ownKernelEnabled(GROUP_NORM_KERNEL, 'groupNorm')
        ? fusedGroupNorm(...args, PLAIN_KERNELS)
        : groupNorm(...args);
      if (scaleShift !== undefined) {
        const [scale, shift] = tf.split(
          tf.reshape(scaleShift, [batch, 1, 1, 2 * this.numChannels]),
          2,
          3,
        ) as [tf.Tensor, tf.Tensor];
        y = tf.add(tf.mul(y, tf.add(scale, 1)), shift);
      }
      return activation === 'silu' ? silu(y) : y;
    });
  }
}

/** A backend's GroupNorm kernels: forward, backward, and whether the backward takes the bias. */
interface GroupNormKernels {
  forward: string;
  backward: string;
  backwardTakesBias: boolean;
}

const PLAIN_KERNELS: GroupNormKernels = {
  forward: GROUP_NORM_KERNEL,
  backward: GROUP_NORM_GRAD_KERNEL,
  backwardTakesBias: false,
};
const SILU_KERNELS: GroupNormKernels = {
  forward: GROUP_NORM_SILU_KERNEL,
  backward: GROUP_NORM_SILU_GRAD_KERNEL,
  backwardTakesBias: true,
};
const MODULATED_SILU_KERNELS: GroupNormKernels = {
  forward: GROUP_NORM_MODULATED_SILU_KERNEL,
  backward: GROUP_NORM_MODULATED_SILU_GRAD_KERNEL,
  backwardTakesBias: true,
};

/**
 * Whether the active backend runs GroupNorm through kernels of ours (wasm, and webgpu while the
 * `groupNorm` switch is on).
 */
export function groupNormKernelsEnabled(): boolean {
  return ownKernelEnabled(GROUP_NORM_KERNEL, 'groupNorm');
}

/** GroupNorm on [B, H, W, C] through the backend's own kernels; see `groupNormKernelsEnabled`. */
export function groupNormThroughKernels(
  x: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor,
  groups: number,
  eps: number,
): tf.Tensor {
  return fusedGroupNorm(x, weight, bias, groups, eps, PLAIN_KERNELS);
}

/**
 * GroupNorm through the backend's own kernels (registered for wasm and webgpu); with `scaleShift`,
 * the kernels take it as a fourth input, and the backward returns its gradient last.
 */
function fusedGroupNorm(
  x: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor,
  groups: number,
  eps: number,
  kernels: GroupNormKernels,
  scaleShift?: tf.Tensor,
): tf.Tensor {
  const attrs = { groups, eps } as unknown as tf.NamedAttrMap;
  const modulationInput: tf.NamedTensorMap = scaleShift ? { scaleShift } : {};
  if (tf.engine().state.gradientDepth === 0) {
    // No gradient will need the statistics: a backend may skip them (webgpu: one dispatch, not two).
    const [y, ...rest] = tf.engine().runKernel(
      kernels.forward,
      { x, weight, bias, ...modulationInput },
      {
        ...attrs,
        withStatistics: false,
      },
    ) as tf.Tensor[];
    tf.dispose(rest);
    return y!;
  }
  const normalize = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [input, scale, shift, modulation] = args as tf.Tensor[];
    const [y, statistics] = tf
      .engine()
      .runKernel(
        kernels.forward,
        { x: input!, weight: scale!, bias: shift!, ...(modulation ? { scaleShift: modulation } : {}) },
        attrs,
      ) as tf.Tensor[];
    save([input!, scale!, shift!, statistics!, ...(modulation ? [modulation] : [])]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedX, savedWeight, savedBias, savedStatistics, savedModulation] = saved;
        return tf.engine().runKernel(kernels.backward, {
          dy,
          x: savedX!,
          weight: savedWeight!,
          ...(kernels.backwardTakesBias ? { bias: savedBias! } : {}),
          ...(savedModulation ? { scaleShift: savedModulation } : {}),
          statistics: savedStatistics!,
        }) as tf.Tensor[];
      },
    };
  });
  return normalize(x, weight, bias, ...(scaleShift ? [scaleShift] : []));
}

/**
 * GroupNorm on NHWC input with its gradient written out: dx = rstd (g - mean(g) - x̂ mean(g x̂)) per
 * group, with g = dy * weight. Autodiff of the forward ops would run about twice as many kernels
 * over the whole activation in the backward pass, and a U-Net has one norm before every conv.
 */
function groupNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, groups: number, eps: number): tf.Tensor {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const groupedShape = [b, h, w, groups, c / groups]; // [B, H, W, G, C/G]
  const groupAxes = [1, 2, 4];
  const channelAxes = [0, 1, 2];
  const normalize = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, scale, shift, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const grouped = tf.reshape(input, groupedShape);
    const centered = tf.sub(grouped, tf.mean(grouped, groupAxes, true));
    const variance = tf.mean(tf.square(centered), groupAxes, true); // [B, 1, 1, G, 1]
    const rstd = tf.rsqrt(tf.add(variance, eps));
    const normalized = tf.reshape(tf.mul(centered, rstd), input.shape); // x̂
    save([normalized, rstd, scale]);
    return {
      value: tf.add(tf.mul(normalized, scale), shift),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xHat, r, gamma] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const g = tf.reshape(tf.mul(dy, gamma), groupedShape);
        const xHatGrouped = tf.reshape(xHat, groupedShape);
        const meanG = tf.mean(g, groupAxes, true);
        const meanGxHat = tf.mean(tf.mul(g, xHatGrouped), groupAxes, true);
        const dx = tf.mul(tf.sub(tf.sub(g, meanG), tf.mul(xHatGrouped, meanGxHat)), r);
        return [tf.reshape(dx, dy.shape), tf.sum(tf.mul(dy, xHat), channelAxes), tf.sum(dy, channelAxes)];
      },
    };
  });
  return normalize(x, weight, bias);
}
