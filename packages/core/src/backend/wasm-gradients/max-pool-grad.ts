import * as tf from '@tensorflow/tfjs-core';
import type { Conv2dPad, Conv2dStrides, RoundingMode } from './conv2d-input-grad.js';
import { dilateSpatial, frameSpatial } from './spatial-frame.js';

/**
 * The gradient of an NHWC maxPool: each window's `dy` goes to the first input (in row-major
 * order, as tfjs' cpu backend and TensorFlow do) that equals the window's max. Built from one
 * strided slice per filter tap; wasm's MaxPoolGrad gives wrong results for overlapping windows.
 */
export function maxPoolGrad(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  filterSize: Conv2dStrides,
  strides: Conv2dStrides,
  pad: Conv2dPad,
  dimRoundingMode?: RoundingMode,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computePool2DInfo(x.shape, filterSize, strides, 1, pad, dimRoundingMode);
    const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, padInfo } = info;
    const [n, outHeight, outWidth, channels] = dy.shape;
    const spanHeight = (outHeight - 1) * sh + 1;
    const spanWidth = (outWidth - 1) * sw + 1;
    const framedRows: [number, number] = [padInfo.top, spanHeight + kh - 1 - info.inHeight - padInfo.top];
    const framedCols: [number, number] = [padInfo.left, spanWidth + kw - 1 - info.inWidth - padInfo.left];
    // Padding never wins a window: it is -Infinity, like the positions tfjs skips.
    const framed = frameSpatial(x, framedRows, framedCols, Number.NEGATIVE_INFINITY);
    let claimed: tf.Tensor | undefined;
    const routed: tf.Tensor4D[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const seen = tf.stridedSlice(
          framed,
          [0, i, j, 0],
          [n, i + spanHeight, j + spanWidth, channels],
          [1, sh, sw, 1],
        ) as tf.Tensor4D; // [N, Ho, Wo, C]
        const isMax = tf.equal(seen, y);
        const first = claimed ? tf.logicalAnd(isMax, tf.logicalNot(claimed)) : isMax;
        claimed = claimed ? tf.logicalOr(claimed, isMax) : isMax;
        const share = tf.mul<tf.Tensor4D>(dy, tf.cast(first, dy.dtype));
        routed.push(frameSpatial(dilateSpatial(share, sh, sw), [i, kh - 1 - i], [j, kw - 1 - j]));
      }
    }
    const dxFramed = tf.addN(routed); // [N, spanHeight + kh - 1, spanWidth + kw - 1, C]
    return frameSpatial(dxFramed, [-framedRows[0], -framedRows[1]], [-framedCols[0], -framedCols[1]]);
  });
}
