import * as tf from '@tensorflow/tfjs-core';
import type { Conv2dPad, Conv2dStrides, RoundingMode } from './conv2d-input-grad.js';
import { frameSpatial } from './spatial-frame.js';

/** The framed grid may be this much larger than the output for the taps to run along whole rows. */
const MAX_FRAME_OVERHEAD = 1.15;

/** Input channels up to which the taps are one matMul (on one wasm thread 128 and 256 gain, 512 and 1024 lose). */
const STACK_TAPS_UP_TO = 256;

/**
 * The gradient of an NHWC conv2d with respect to its filter, from matMuls of the input pixels each
 * filter tap saw (channels first) with `dy`. wasm has no Conv2DBackpropFilter kernel, and on wasm a
 * matMul with transposeA and a strided slice are each several times slower than a plain one, so
 * the input is rearranged once (channels first, split by stride phase) and every tap is a plain
 * slice of it. With few input channels the taps are stacked into one [taps * in, pixels] matrix
 * and multiplied once: a product with few rows and a long reduction runs well below XNNPACK's
 * best, and nine of them cost more than one nine times as tall.
 */
export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: Conv2dStrides,
  pad: Conv2dPad,
  dimRoundingMode?: RoundingMode,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, strides, 1, pad, dimRoundingMode);
    const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, padInfo } = info;
    const inChannels = x.shape[3];
    const [, outHeight, outWidth] = dy.shape;
    // Rows [top pad, input, bottom pad] that the taps read, rounded up to a whole number of strides.
    const framedHeight = Math.ceil(((outHeight - 1) * sh + kh) / sh) * sh;
    const framedWidth = Math.ceil(((outWidth - 1) * sw + kw) / sw) * sw;
    const framed = frameSpatial(
      x,
      [padInfo.top, framedHeight - info.inHeight - padInfo.top],
      [padInfo.left, framedWidth - info.inWidth - padInfo.left],
    ); // [N, framedHeight, framedWidth, in]
    const phases = stridePhases(framed, sh, sw); // [sh * sw * in, N, framedHeight / sh, framedWidth / sw]
    const [dyRows, seen] =
      sh === 1 && sw === 1 && framedHeight * framedWidth <= MAX_FRAME_OVERHEAD * outHeight * outWidth
        ? tapsAlongRows(phases, dy, kh, kw)
        : tapsAsWindows(phases, dy, kh, kw, sh, sw);
    if (seen.length > 1 && inChannels <= STACK_TAPS_UP_TO) {
      return tf.reshape(tf.matMul(tf.concat(seen), dyRows), filterShape); // [kh * kw * in, out]
    }
    return tf.reshape(tf.stack(seen.map((tap) => tf.matMul(tap, dyRows))), filterShape); // [kh, kw, in, out]
  });
}

/**
 * Each tap's input pixels [in, N * Ho * Wo], as one strided window of the phases per tap (the
 * general case), with `dy` as [N * Ho * Wo, out].
 */
function tapsAsWindows(
  phases: tf.Tensor4D,
  dy: tf.Tensor4D,
  kh: number,
  kw: number,
  sh: number,
  sw: number,
): [tf.Tensor2D, tf.Tensor2D[]] {
  const [n, outHeight, outWidth, outChannels] = dy.shape;
  const inChannels = phases.shape[0] / (sh * sw);
  const seen: tf.Tensor2D[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const phase = (i % sh) * sw + (j % sw);
      const tap = tf.slice(
        phases,
        [phase * inChannels, 0, Math.floor(i / sh), Math.floor(j / sw)],
        [inChannels, n, outHeight, outWidth],
      ); // [in, N, Ho, Wo]
      seen.push(tf.reshape(tap, [inChannels, -1]));
    }
  }
  return [tf.reshape(dy, [n * outHeight * outWidth, outChannels]) as tf.Tensor2D, seen];
}

/**
 * Stride 1: each tap's input pixels as one run of whole framed rows, [in, L], so that a tap is a
 * few long copies instead of one per output row and channel. Position p = (n, h, w) of the framed
 * grid [N, Hf, Wf] sees the input at p + i * Wf + j through tap (i, j); `dy` framed with zeros to
 * the same grid, [L, out], drops the positions outside the output (w >= Wo, h >= Ho), so the
 * products gain (Hf * Wf) / (Ho * Wo) - 1 in work, a few percent at 32 px and above.
 */
function tapsAlongRows(
  phases: tf.Tensor4D,
  dy: tf.Tensor4D,
  kh: number,
  kw: number,
): [tf.Tensor2D, tf.Tensor2D[]] {
  const [inChannels, n, framedHeight, framedWidth] = phases.shape;
  const [, outHeight, outWidth, outChannels] = dy.shape;
  const total = n * framedHeight * framedWidth;
  const length = total - (kh - 1) * framedWidth - (kw - 1);
  const flat = tf.reshape(phases, [inChannels, total]);
  const dyFramed = tf.pad(dy, [
    [0, 0],
    [0, framedHeight - outHeight],
    [0, framedWidth - outWidth],
    [0, 0],
  ]); // [N, Hf, Wf, out]
  const dyRows = tf.slice(
    tf.reshape(dyFramed, [total, outChannels]),
    [0, 0],
    [length, outChannels],
  ) as tf.Tensor2D;
  const seen: tf.Tensor2D[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      seen.push(tf.slice(flat, [0, i * framedWidth + j], [inChannels, length]) as tf.Tensor2D);
    }
  }
  return [dyRows, seen];
}

/**
 * Rearranges an NHWC tensor so that row `a` and column `b` of every stride block, channel `c`,
 * sit at channel `(a * strideCols + b) * C + c` of a channels-first [phases * C, N, H / sh, W / sw].
 * Two 4-D transposes: wasm transposes 6-D tensors some 30x slower.
 */
function stridePhases(x: tf.Tensor4D, strideRows: number, strideCols: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const [rows, cols] = [h / strideRows, w / strideCols];
  let blocks = tf.reshape(x, [n * rows, strideRows, cols, strideCols * c]);
  if (strideRows > 1) blocks = tf.transpose(blocks, [1, 0, 2, 3]); // [sh, N * rows, cols, sw * C]
  const pixels = tf.reshape(blocks, [strideRows, n * rows * cols, strideCols, c]);
  const phases = tf.transpose(pixels, [0, 2, 3, 1]); // [sh, sw, C, N * rows * cols]
  return tf.reshape(phases, [strideRows * strideCols * c, n, rows, cols]);
}
