import * as tf from '@tensorflow/tfjs-core';

/**
 * The gradient of `tf.gather(x, indices, axis, batchDims)` with respect to `x`: the rows of `dy`
 * summed into the rows they were gathered from, with one ScatterNd (which adds repeated indices).
 * wasm has no UnsortedSegmentSum; a oneHot matMul would need an [indices, rows] matrix, too big
 * for 49408-row vocabularies.
 */
export function gatherGrad(
  dy: tf.Tensor,
  indices: tf.Tensor,
  xShape: number[],
  axis: number,
  batchDims: number,
): tf.Tensor {
  return tf.tidy(() => {
    const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
    const batch = size(xShape.slice(0, batchDims));
    const outer = size(xShape.slice(batchDims, axis));
    const rows = xShape[axis]!;
    const inner = size(xShape.slice(axis + 1));
    const picked = size(indices.shape.slice(batchDims));
    let values = tf.reshape(dy, [batch, outer, picked, inner]);
    if (outer > 1) values = tf.transpose(values, [0, 2, 1, 3]); // [batch, picked, outer, inner]
    let targets = tf.reshape(indices, [batch, picked]);
    if (batch > 1) {
      // Batch b gathers from its own block of rows: offset its indices by b * rows.
      const offsets = tf.mul(tf.range(0, batch, 1, 'int32'), tf.scalar(rows, 'int32'));
      targets = tf.add(targets, tf.reshape(offsets, [batch, 1]));
    }
    const summed = tf.scatterND(
      tf.reshape(targets, [batch * picked, 1]),
      tf.reshape(values, [batch * picked, outer * inner]),
      [batch * rows, outer * inner],
    );
    let grad = tf.reshape(summed, [batch, rows, outer, inner]);
    if (outer > 1) grad = tf.transpose(grad, [0, 2, 1, 3]); // [batch, outer, rows, inner]
    return tf.reshape(grad, xShape);
  });
}
