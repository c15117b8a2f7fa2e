import * as tf from '@tensorflow/tfjs-core';
import { cropSpatial, dilateSpatial } from './spatial-frame.js';

export type Conv2dStrides = number | [number, number];
export type Conv2dPad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
export type RoundingMode = 'floor' | 'round' | 'ceil';

/**
 * The gradient of an NHWC conv2d with respect to its input, as a stride-1 conv2d: `dy` spread by
 * the stride and framed by `filter - 1 - pad`, convolved with the filter flipped in space and with
 * its channel axes swapped. wasm's own Conv2DBackpropInput is about 20x slower than this. Where the
 * filter outweighs `dy` (few pixels, many channels: the low-resolution levels of a U-Net) it is one
 * matMul and a sum of shifted taps instead, which never rearranges the filter: wasm transposes and
 * repacks a new conv filter on every call, and at 8 x 8 pixels that costs five times the conv.
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
    const [n, outHeight, outWidth, outChannels] = dy.shape;
    if (strideHeight === 1 && strideWidth === 1 && n * outHeight * outWidth <= 2 * outChannels) {
      return inputGradByMatMul(dy, filter, xShape, padInfo);
    }
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
 * The stride-1 input gradient as filter [taps * in, out] times dy^T [out, pixels]: row (tap, c) of
 * the product is what input channel c receives through that tap from every output pixel, so each
 * tap's block, shifted by the tap's offset, adds into the (padded) input, channels first.
 */
function inputGradByMatMul(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  xShape: [number, number, number, number],
  padInfo: { top: number; left: number },
): tf.Tensor4D {
  const [n, height, width, inChannels] = xShape;
  const [kh, kw, , outChannels] = filter.shape;
  const [, outHeight, outWidth] = dy.shape;
  const pixels = n * outHeight * outWidth;
  const dyT = tf.transpose(tf.reshape(dy, [pixels, outChannels])); // [out, P]
  const received = tf.matMul(tf.reshape(filter, [kh * kw * inChannels, outChannels]), dyT); // [taps * in, P]
  const taps = tf.split(tf.reshape(received, [kh * kw * inChannels, n, outHeight, outWidth]), kh * kw);
  const shifted = taps.map((tap, t) => {
    const [i, j] = [Math.floor(t / kw), t % kw];
    return tf.pad(tap, [
      [0, 0],
      [0, 0],
      [i, kh - 1 - i],
      [j, kw - 1 - j],
    ]);
  }); // each [in, N, Ho + kh - 1, Wo + kw - 1], row r holding input row r - pad top
  const summed = shifted.length === 1 ? shifted[0]! : tf.addN(shifted);
  const dx = tf.slice(summed, [0, 0, padInfo.top, padInfo.left], [inChannels, n, height, width]); // [in, N, H, W]
  return tf.reshape(tf.transpose(tf.reshape(dx, [inChannels, n * height * width])), xShape);
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
