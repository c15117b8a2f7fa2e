/**
 * How a [B, H] batch of matrices lies: 'batch' as [B, H, rows, cols] (tf.matMul's), or 'heads' as
 * [B, rows, H, cols], attention's projections [B, T, H * D] reshaped, without a transpose.
 */
export type HeadsLayout = 'batch' | 'heads';

/**
 * A product per (batch entry, head), C = op(A) op(B) with op a transpose where asked; inputs a and
 * b, each in its own layout, and the result in `layoutOut`. Registered for webgpu only, where it
 * saves attention the four transposes forward and four backward around its two products.
 */
export const HEADS_MATMUL_KERNEL = 'Dalle2jsHeadsMatMul';

export interface HeadsMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  layoutA: HeadsLayout;
  layoutB: HeadsLayout;
  layoutOut: HeadsLayout;
}
