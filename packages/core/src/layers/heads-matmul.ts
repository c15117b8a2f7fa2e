import * as tf from '@tensorflow/tfjs-core';
import {
  HEADS_MATMUL_KERNEL,
  type HeadsLayout,
  type HeadsMatMulAttrs,
} from '../backend/heads-matmul-contract.js';
import { ownKernelEnabled } from '../backend/webgpu-kernels/webgpu-kernels-switch.js';

export type { HeadsLayout } from '../backend/heads-matmul-contract.js';

/** The most batch entries x heads one product takes (one dispatch dimension of WebGPU). */
const MAX_PRODUCTS = 65535;

export interface HeadsMatMulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
  /** How `a` lies: 'batch' [B, H, rows, cols] (default) or 'heads' [B, rows, H, cols]. */
  layoutA?: HeadsLayout;
  layoutB?: HeadsLayout;
  /** How the result lies; default 'batch'. */
  layoutOut?: HeadsLayout;
}

/**
 * Whether a product over `batch` x `heads` matrices runs as one kernel (webgpu, while
 * `setWebGpuKernels({ matMul })` is on); otherwise headsMatMul transposes.
 */
export function headsMatMulAvailable(batch: number, heads: number): boolean {
  return batch * heads <= MAX_PRODUCTS && ownKernelEnabled(HEADS_MATMUL_KERNEL, 'matMul');
}

/** [B, H, rows, cols] from either layout. */
function asBatch(x: tf.Tensor, layout: HeadsLayout): tf.Tensor {
  return layout === 'heads' ? tf.transpose(x, [0, 2, 1, 3]) : x;
}

/**
 * tf.matMul over a [B, H] batch of matrices whose operands and result may each lie as
 * [B, rows, H, cols] ('heads') instead of [B, H, rows, cols]: attention's q, k, v and output
 * without the transposes between [B, T, H, D] and [B, H, T, D]. On webgpu one kernel (with its own
 * gradient, the same kernel again); elsewhere the transposes and tf.matMul.
 */
export function headsMatMul(a: tf.Tensor, b: tf.Tensor, options: HeadsMatMulOptions = {}): tf.Tensor {
  const attrs: HeadsMatMulAttrs = {
    transposeA: options.transposeA ?? false,
    transposeB: options.transposeB ?? false,
    layoutA: options.layoutA ?? 'batch',
    layoutB: options.layoutB ?? 'batch',
    layoutOut: options.layoutOut ?? 'batch',
  };
  const [batchA, headsA] = batchAndHeads(a, attrs.layoutA, 'a');
  const [batchB, headsB] = batchAndHeads(b, attrs.layoutB, 'b');
  if (batchA !== batchB || headsA !== headsB) {
    throw new Error(
      `headsMatMul: a has ${batchA} x ${headsA} matrices, b ${batchB} x ${headsB} (shapes [${a.shape}] and [${b.shape}])`,
    );
  }
  const innerA = matrixSide(a, attrs.layoutA, attrs.transposeA ? 'rows' : 'cols');
  const innerB = matrixSide(b, attrs.layoutB, attrs.transposeB ? 'cols' : 'rows');
  if (innerA !== innerB) {
    throw new Error(
      `headsMatMul: inner sizes differ, ${innerA} in a [${a.shape}] and ${innerB} in b [${b.shape}]`,
    );
  }
  const useKernel = a.dtype === 'float32' && b.dtype === 'float32' && headsMatMulAvailable(batchA, headsA);
  if (!useKernel) {
    return tf.tidy(() => {
      const product = tf.matMul(
        asBatch(a, attrs.layoutA),
        asBatch(b, attrs.layoutB),
        attrs.transposeA,
        attrs.transposeB,
      );
      return attrs.layoutOut === 'heads' ? tf.transpose(product, [0, 2, 1, 3]) : product;
    });
  }
  const multiply = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([x, y]);
    return {
      value: tf
        .engine()
        .runKernel(HEADS_MATMUL_KERNEL, { a: x, b: y }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, [savedA, savedB]: tf.Tensor[]) =>
        headsMatMulGradients(dy, savedA!, savedB!, attrs),
    };
  });
  return multiply(a, b);
}

/**
 * dA and dB of C = op(A) op(B), each a heads product again, in its operand's layout:
 * C = A B: dA = dC B^T, dB = A^T dC; C = A B^T: dA = dC B, dB = dC^T A;
 * C = A^T B: dA = B dC^T, dB = A dC; C = A^T B^T: dA = B^T dC^T, dB = dC^T A^T.
 */
function headsMatMulGradients(
  dC: tf.Tensor,
  a: tf.Tensor,
  b: tf.Tensor,
  attrs: HeadsMatMulAttrs,
): tf.Tensor[] {
  const { transposeA: tA, transposeB: tB, layoutA, layoutB, layoutOut } = attrs;
  const product = (
    x: tf.Tensor,
    xLayout: HeadsLayout,
    y: tf.Tensor,
    yLayout: HeadsLayout,
    transposeA: boolean,
    transposeB: boolean,
    out: HeadsLayout,
  ) => headsMatMul(x, y, { transposeA, transposeB, layoutA: xLayout, layoutB: yLayout, layoutOut: out });
  const dA = tA
    ? product(b, layoutB, dC, layoutOut, tB, true, layoutA)
    : product(dC, layoutOut, b, layoutB, false, !tB, layoutA);
  const dB = tB
    ? product(dC, layoutOut, a, layoutA, true, tA, layoutB)
    : product(a, layoutA, dC, layoutOut, !tA, false, layoutB);
  return [dA, dB];
}

function batchAndHeads(x: tf.Tensor, layout: HeadsLayout, name: string): [number, number] {
  if (x.rank !== 4) {
    throw new Error(
      `headsMatMul: ${name} must have rank 4 (${layout === 'heads' ? '[B, rows, H, cols]' : '[B, H, rows, cols]'}), got shape [${x.shape}]`,
    );
  }
  return [x.shape[0] as number, x.shape[layout === 'heads' ? 2 : 1] as number];
}

/** The rows or columns of each matrix of `x`. */
function matrixSide(x: tf.Tensor, layout: HeadsLayout, side: 'rows' | 'cols'): number {
  if (side === 'cols') return x.shape[3] as number;
  return x.shape[layout === 'heads' ? 1 : 2] as number;
}
