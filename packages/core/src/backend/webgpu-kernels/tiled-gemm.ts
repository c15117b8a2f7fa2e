/**
 * The compute half of our tiled GEMM programs (conv2d, its gradients, batched matMul): 16 x 16
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

/**
 * The largest tiling for a rows x cols product whose shared tiles (`sharedBytes`) fit the device's
 * workgroup memory: two blocks of rows where there are more than 64, and two of columns likewise
 * where memory holds them (WebGPU guarantees 16 KB), else one. Each thread then computes up to
 * 8 x 8 entries: twice the multiply-adds per shared-memory read of 4 x 4.
 */
export function widestTiling(
  rows: number,
  cols: number,
  workgroupStorageBytes: number,
  sharedBytes: (tiling: GemmTiling) => number,
): GemmTiling {
  const rowBlocks = rows > BLOCK ? 2 : 1;
  const wide: GemmTiling = { rowBlocks, colBlocks: 2 };
  if (cols > BLOCK && sharedBytes(wide) <= workgroupStorageBytes) return wide;
  return { rowBlocks, colBlocks: 1 };
}

/** `sums[4 * rowBlock + r][colBlock]`: row 4 * ty + r of that row block, columns 4 * tx .. */
function declareSums({ rowBlocks, colBlocks }: GemmTiling): string {
  return `var sums : array<array<vec4<f32>, ${colBlocks}>, ${4 * rowBlocks}>;`;
}

/**
 * Adds the shared tiles' product over `inner` entries to `sums`; a row block of `tileA` (column
 * block of `tileB`) starts every `aStride` (`bStride`) vec4s.
 */
function accumulateTiles(
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

/**
 * Writes `sums` (plus `addend`, a WGSL expression of the column `col`, where given) to the output
 * at `offset` + row * rowStride + col, inside rows x cols.
 */
function storeSums(
  { rowBlocks, colBlocks }: GemmTiling,
  rows: string,
  cols: string,
  offset: string,
  rowStride: string,
  addend?: string,
): string {
  return `
        for (var r = 0; r < ${4 * rowBlocks}; r = r + 1) {
          let row = row0 + ${BLOCK} * (r / 4) + 4 * ty + r % 4;
          for (var g = 0; g < ${colBlocks}; g = g + 1) {
            for (var e = 0; e < 4; e = e + 1) {
              let col = col0 + ${BLOCK} * g + 4 * tx + e;
              if (row < ${rows} && col < ${cols}) {
                setOutputAtIndex(${offset} + row * ${rowStride} + col, sums[r][g][e]${addend ? ` + ${addend}` : ''});
              }
            }
          }
        }`;
}

/** Workgroups that keep a large GPU busy; GEMMs with fewer tiles split their inner sum to reach it. */
export const TARGET_WORKGROUPS = 512;

/** The fewest steps (shared tiles of the inner sum) a split takes: fewer would cost more in partial sums than they gain. */
export const MIN_STEPS_PER_SPLIT = 32;

/** How a GEMM's inner sum is split across workgroups (the third dispatch dimension). */
export interface InnerSplit {
  splits: number;
  /** Steps of the inner sum (one shared tile each) per split. */
  stepsPerSplit: number;
}

/**
 * Splits `steps` of the inner sum so that `tiles` x splits reaches TARGET_WORKGROUPS, with at
 * least MIN_STEPS_PER_SPLIT steps in each split: the low-resolution levels of a U-Net have few
 * pixels and long sums, and would otherwise leave most of a GPU idle.
 */
export function splitInner(tiles: number, steps: number): InnerSplit {
  const wanted = Math.ceil(TARGET_WORKGROUPS / tiles);
  const most = Math.max(1, Math.floor(steps / MIN_STEPS_PER_SPLIT));
  const stepsPerSplit = Math.ceil(steps / Math.min(wanted, most));
  return { splits: Math.ceil(steps / stepsPerSplit), stepsPerSplit };
}

/** Tiles of the product for `tiling`: the first two dispatch dimensions. */
export function tileCounts(
  rows: number,
  cols: number,
  { rowBlocks, colBlocks }: GemmTiling,
): [number, number] {
  return [Math.ceil(cols / (BLOCK * colBlocks)), Math.ceil(rows / (BLOCK * rowBlocks))];
}

/**
 * WGSL: the thread (tx, ty, thread), the workgroup's first row and column, and its split; when
 * `batched`, the third dispatch dimension counts batch entries by `uniforms.splits` splits each.
 */
function workgroupOrigin({ rowBlocks, colBlocks }: GemmTiling, batched: boolean): string {
  return `
        let tx = i32(localId.x);
        let ty = i32(localId.y);
        let thread = ty * ${THREADS_PER_SIDE} + tx;
        let col0 = i32(workgroupId.x) * ${BLOCK * colBlocks};
        let row0 = i32(workgroupId.y) * ${BLOCK * rowBlocks};
        ${
          batched
            ? `let batch = i32(workgroupId.z) / uniforms.splits;
        let split = i32(workgroupId.z) % uniforms.splits;`
            : 'let split = i32(workgroupId.z);'
        }`;
}

/**
 * WGSL: fills `tile` [inner][vec4s] with `load(k, v)` for each inner entry k and vec4 v,
 * consecutive threads taking consecutive vec4s (consecutive channels in memory).
 */
export function fillTile(
  tile: string,
  inner: number,
  vec4s: number,
  load: (k: string, v: string) => string,
): string {
  return `
          for (var e = thread; e < ${inner * vec4s}; e = e + ${THREADS_PER_SIDE ** 2}) {
            let k = e / ${vec4s};
            let v = e % ${vec4s};
            ${tile}[k][v] = ${load('k', 'v')};
          }`;
}

/** What a split GEMM program adds to `splitGemmMain`'s skeleton. */
export interface SplitGemmParts {
  tiling: GemmTiling;
  /** WGSL after the origin (and `firstStep`, this split's first step): per-thread state. */
  setup: string;
  /** WGSL that fills `tileA` and `tileB` for step `step` of the inner sum. */
  load: string;
  /** Inner entries per step: the shared tiles' first dimension. */
  inner: number;
  /** Where `tileA`'s row blocks and `tileB`'s column blocks start, in vec4s. */
  aStride: number;
  bStride: number;
  /**
   * A batch of products (uniforms `batches` and `splits`): the third dispatch dimension runs over
   * batch entries (`batch`) and their splits, and the partial sums are [splits, batches, rows, cols].
   */
  batched?: boolean;
  /**
   * A bias per column: the input `bias` [cols], added once, by the first split (the split sums
   * then carry it into the result).
   */
  bias?: boolean;
  /**
   * A residual: the input `residual` [rows, cols] (unbatched products only), added once, by the
   * first split, as the bias is.
   */
  residual?: boolean;
  /**
   * WGSL for where the product of `split` and `batch` starts in the output, and the distance
   * between its rows; by default contiguous partial sums (see `batched`).
   */
  store?: { offset: string; rowStride: string };
}

/**
 * WGSL: `main` of a GEMM program whose workgroups each add `uniforms.stepsPerSplit` steps of the
 * inner sum, from step split * stepsPerSplit on, into their tile, and store it as partial sums
 * [splits, rows, cols] (or [splits, batches, rows, cols]).
 */
export function splitGemmMain({
  tiling,
  setup,
  load,
  inner,
  aStride,
  bStride,
  batched = false,
  bias = false,
  residual = false,
  store,
}: SplitGemmParts): string {
  const addends = [bias ? 'bias[col]' : '', residual ? 'residual[row * uniforms.cols + col]' : ''];
  const addend = addends.filter((term) => term !== '').join(' + ');
  const product = batched ? '(split * uniforms.batches + batch)' : 'split';
  const { offset, rowStride } = store ?? {
    offset: `${product} * uniforms.rows * uniforms.cols`,
    rowStride: 'uniforms.cols',
  };
  return `
      fn main(index : i32) {
${workgroupOrigin(tiling, batched)}
        let firstStep = split * uniforms.stepsPerSplit;
${setup}
        ${declareSums(tiling)}
        // The trip count comes from uniforms alone: barriers need uniform control flow.
        for (var local = 0; local < uniforms.stepsPerSplit; local = local + 1) {
          let step = firstStep + local;
${load}
          workgroupBarrier();
${accumulateTiles(tiling, inner, aStride, bStride)}
          workgroupBarrier();
        }
${storeSums(
  tiling,
  'uniforms.rows',
  'uniforms.cols',
  offset,
  rowStride,
  addend === '' ? undefined : `select(0.0, ${addend}, split == 0)`,
)}
      }`;
}
