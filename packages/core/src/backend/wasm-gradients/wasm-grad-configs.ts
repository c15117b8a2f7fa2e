import * as tf from '@tensorflow/tfjs-core';
import { conv2dFilterGrad } from './conv2d-filter-grad.js';
import {
  type Conv2dPad,
  type Conv2dStrides,
  conv2dInputGrad,
  type RoundingMode,
} from './conv2d-input-grad.js';
import { gatherGrad } from './gather-grad.js';
import { maxPoolGrad } from './max-pool-grad.js';

interface ConvAttrs {
  strides: Conv2dStrides;
  pad: Conv2dPad;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: Conv2dStrides;
  dimRoundingMode?: RoundingMode;
}

function assertSupported(kernel: string, { dataFormat, dilations }: ConvAttrs): void {
  const dilated = dilations !== undefined && [dilations].flat().some((rate) => rate !== 1);
  if ((dataFormat !== undefined && dataFormat !== 'NHWC') || dilated) {
    throw new Error(`The wasm gradient of ${kernel} supports NHWC with dilation 1 only.`);
  }
}

export const conv2dWasmGradConfig: tf.GradConfig = {
  kernelName: tf.Conv2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const conv = attrs as unknown as ConvAttrs;
    assertSupported(tf.Conv2D, conv);
    const { strides, pad, dimRoundingMode } = conv;
    return {
      x: () => conv2dInputGrad(dy as tf.Tensor4D, filter, x.shape, strides, pad, dimRoundingMode),
      filter: () => conv2dFilterGrad(x, dy as tf.Tensor4D, filter.shape, strides, pad, dimRoundingMode),
    };
  },
};

/** conv2dTranspose's kernel; its filter gradient in tfjs needs the Conv2DBackpropFilter wasm lacks. */
export const conv2dBackpropInputWasmGradConfig: tf.GradConfig = {
  kernelName: tf.Conv2DBackpropInput,
  inputsToSave: ['dy', 'filter'],
  gradFunc: (ddx, saved, attrs) => {
    const [dy, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const conv = attrs as unknown as ConvAttrs;
    assertSupported(tf.Conv2DBackpropInput, conv);
    const { strides, pad, dimRoundingMode } = conv;
    return {
      dy: () => tf.conv2d(ddx as tf.Tensor4D, filter, strides, pad, 'NHWC', 1, dimRoundingMode),
      filter: () => conv2dFilterGrad(ddx as tf.Tensor4D, dy, filter.shape, strides, pad, dimRoundingMode),
    };
  },
};

export const gatherV2WasmGradConfig: tf.GradConfig = {
  kernelName: tf.GatherV2,
  inputsToSave: ['x', 'indices'],
  gradFunc: (dy, saved, attrs) => {
    const [x, indices] = saved as [tf.Tensor, tf.Tensor];
    const { axis, batchDims } = attrs as unknown as { axis: number; batchDims: number };
    const parsedAxis = tf.util.parseAxisParam(axis, x.shape)[0]!;
    return {
      x: () => gatherGrad(dy as tf.Tensor, indices, x.shape, parsedAxis, batchDims),
      indices: () => indices,
    };
  },
};

export const maxPoolWasmGradConfig: tf.GradConfig = {
  kernelName: tf.MaxPool,
  inputsToSave: ['x'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, y] = saved as [tf.Tensor4D, tf.Tensor4D];
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as ConvAttrs & {
      filterSize: Conv2dStrides;
    };
    return { x: () => maxPoolGrad(dy as tf.Tensor4D, x, y, filterSize, strides, pad, dimRoundingMode) };
  },
};
