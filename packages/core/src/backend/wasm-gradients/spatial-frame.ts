import * as tf from '@tensorflow/tfjs-core';

/** Rows (or columns) to add (positive) or remove (negative) before and after an axis. */
export type Frame = [before: number, after: number];

export type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

/**
 * Crops the negative sides of an NHWC tensor's spatial frame and returns the positive sides as the
 * explicit padding still to apply, so that a conv2d can pad without a copy.
 */
export function cropSpatial(x: tf.Tensor4D, rows: Frame, cols: Frame): [tf.Tensor4D, ExplicitPadding] {
  const [n, h, w, c] = x.shape;
  const [top, bottom, left, right] = [...rows, ...cols].map((side) => Math.max(-side, 0)) as number[];
  const cropped =
    top! + bottom! + left! + right! === 0
      ? x
      : tf.slice(x, [0, top!, left!, 0], [n, h - top! - bottom!, w - left! - right!, c]);
  const padding: ExplicitPadding = [
    [0, 0],
    [Math.max(rows[0], 0), Math.max(rows[1], 0)],
    [Math.max(cols[0], 0), Math.max(cols[1], 0)],
    [0, 0],
  ];
  return [cropped, padding];
}

/** Pads (positive sides, with `value`) or crops (negative sides) the spatial axes of an NHWC tensor. */
export function frameSpatial(x: tf.Tensor4D, rows: Frame, cols: Frame, value = 0): tf.Tensor4D {
  const [cropped, padding] = cropSpatial(x, rows, cols);
  if (padding.every(([before, after]) => before === 0 && after === 0)) return cropped;
  return tf.pad(cropped, padding, value);
}

/** Puts `stride - 1` zeros between neighbouring rows and columns of an NHWC tensor. */
export function dilateSpatial(x: tf.Tensor4D, strideRows: number, strideCols: number): tf.Tensor4D {
  if (strideRows === 1 && strideCols === 1) return x;
  const [n, h, w, c] = x.shape;
  const spread = tf.pad(tf.reshape(x, [n, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, strideRows - 1],
    [0, 0],
    [0, strideCols - 1],
    [0, 0],
  ]); // [n, h, strideRows, w, strideCols, c]
  const flat = tf.reshape(spread, [n, h * strideRows, w * strideCols, c]);
  return tf.slice(flat, 0, [n, (h - 1) * strideRows + 1, (w - 1) * strideCols + 1, c]) as tf.Tensor4D;
}
