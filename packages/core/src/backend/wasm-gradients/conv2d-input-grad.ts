import * as tf from '@tensorflow/tfjs-core';
import { cropSpatial, dilateSpatial } from './spatial-frame.js';

export type Conv2dStrides = number | [number, number];
export type Conv2dPad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
export type RoundingMode = 'floor' | 'round' | 'ceil';

/**
 * The gradient of an NHWC conv2d with respect to its input, as a stride-1 conv2d: `dy` spread by
 * the stride and framed by `filter - 1 - pad`, convolved with the filter flipped in space and with
 * its channel axes swapped. wasm's own Conv2DBackpropInput is about 20x slower than this.
 */
export function conv2dInputGrad(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  xShape: [number, number, number, number],
  strides: Conv2dStrides,
  pad: Conv2dPad,
  dimRoundingMode?: RoundingMode,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(xShape, filter.shape, strides, 1, pad, dimRoundingMode);
    const { strideHeight, strideWidth, filterHeight, filterWidth, padInfo } = info;
    const spread = dilateSpatial(dy, strideHeight, strideWidth); // [N, (Ho-1)*sh+1, (Wo-1)*sw+1, out]
    const [framed, padding] = cropSpatial(
      spread,
      [filterHeight - 1 - padInfo.top, info.inHeight + padInfo.top - spread.shape[1]],
      [filterWidth - 1 - padInfo.left, info.inWidth + padInfo.left - spread.shape[2]],
    );
    return tf.conv2d(framed, flipFilter(filter), 1, padding); // [N, H, W, in]
  });
}

/**
 * [kh, kw, in, out] to [kh, kw, out, in], reversed in space: the flattened taps in reverse order
 * are the filter flipped on both axes. Split and concat, since wasm's Reverse and GatherV2 take
 * several times longer here.
 */
function flipFilter(filter: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, inChannels, outChannels] = filter.shape;
  const taps = tf.reshape(filter, [kh * kw, inChannels, outChannels]);
  const reversed = kh * kw === 1 ? taps : tf.concat(tf.split(taps, kh * kw).reverse());
  return tf.reshape(tf.transpose(reversed, [0, 2, 1]), [kh, kw, outChannels, inChannels]);
}
