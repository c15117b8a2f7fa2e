import * as tf from '@tensorflow/tfjs-core';

/**
 * Nearest-neighbour upsampling by an integer factor, built from reshape and concat so that its
 * gradient (a sum over each factor x factor block) is right on every backend; tfjs-core's
 * `resizeNearestNeighbor` gradient is wrong on the cpu backend.
 *
 * [B, H, W, C] -> [B, H * factor, W * factor, C]
 */
export function upsampleNearest(x: tf.Tensor, factor: number): tf.Tensor4D {
  if (x.rank !== 4)
    throw new Error(`upsampleNearest: expected [B, H, W, C], got shape [${x.shape.join(', ')}]`);
  if (!Number.isInteger(factor) || factor <= 0) {
    throw new Error(`upsampleNearest: factor must be a positive integer, got ${factor}`);
  }
  const [b, h, w, c] = x.shape as [number, number, number, number];
  if (factor === 1) return tf.clone(x) as tf.Tensor4D;
  return tf.tidy(() => {
    // Concatenated copies rather than tf.tile: wasm's Tile is some 30x slower here, and tfjs-core
    // has no tile gradient above rank 4.
    const copies = (t: tf.Tensor, axis: number) => tf.concat(new Array<tf.Tensor>(factor).fill(t), axis);
    const columns = copies(tf.reshape(x, [b * h, w, 1, c]), 2); // [B*H, W, f, C]
    const rows = copies(tf.reshape(columns, [b * h, 1, w * factor * c]), 1); // [B*H, f, W*f*C]
    return tf.reshape(rows, [b, h * factor, w * factor, c]);
  });
}
