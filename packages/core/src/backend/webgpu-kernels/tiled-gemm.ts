/**
 * The compute half of our tiled GEMM programs (conv2d input and filter gradients): 16 x 16
 * threads, each computing 4 x 4 entries of every 64 x 64 block of the workgroup's tile of the
 * product, four consecutive rows and columns of each block (one vec4). The programs fill the
 * shared tiles `tileA` [inner][rows as vec4s] and `tileB` [inner][columns as vec4s] themselves.
 */
export const THREADS_PER_SIDE = 16;
export const BLOCK = 4 * THREADS_PER_SIDE;

/** A workgroup's tile of the product: rowBlocks x colBlocks blocks of 64 x 64. */
export interface GemmTiling {
  rowBlocks: number;
  colBlocks: number;
}

/** `sums[4 * rowBlock + r][colBlock]`: row 4 * ty + r of that row block, columns 4 * tx .. */
export function declareSums({ rowBlocks, colBlocks }: GemmTiling): string {
  return `var sums : array<array<vec4<f32>, ${colBlocks}>, ${4 * rowBlocks}>;`;
}

/**
 * Adds the shared tiles' product over `inner` entries to `sums`; a row block of `tileA` (column
 * block of `tileB`) starts every `aStride` (`bStride`) vec4s.
 */
export function accumulateTiles(
  { rowBlocks, colBlocks }: GemmTiling,
  inner: number,
  aStride: number,
  bStride: number,
): string {
  return `
          for (var k = 0; k < ${inner}; k = k + 1) {
            var colsOfB : array<vec4<f32>, ${colBlocks}>;
            for (var g = 0; g < ${colBlocks}; g = g + 1) {
              colsOfB[g] = tileB[k][tx + ${bStride} * g];
            }
            for (var h = 0; h < ${rowBlocks}; h = h + 1) {
              let rowsOfA = tileA[k][ty + ${aStride} * h];
              for (var r = 0; r < 4; r = r + 1) {
                for (var g = 0; g < ${colBlocks}; g = g + 1) {
                  sums[4 * h + r][g] = sums[4 * h + r][g] + rowsOfA[r] * colsOfB[g];
                }
              }
            }
          }`;
}

/** Writes `sums` to the output at `offset` + row * cols + col, inside rows x cols. */
export function storeSums(
  { rowBlocks, colBlocks }: GemmTiling,
  rows: string,
  cols: string,
  offset = '0',
): string {
  return `
        for (var r = 0; r < ${4 * rowBlocks}; r = r + 1) {
          let row = row0 + ${BLOCK} * (r / 4) + 4 * ty + r % 4;
          for (var g = 0; g < ${colBlocks}; g = g + 1) {
            for (var e = 0; e < 4; e = e + 1) {
              let col = col0 + ${BLOCK} * g + 4 * tx + e;
              if (row < ${rows} && col < ${cols}) {
                setOutputAtIndex(${offset} + row * ${cols} + col, sums[r][g][e]);
              }
            }
          }
        }`;
}
