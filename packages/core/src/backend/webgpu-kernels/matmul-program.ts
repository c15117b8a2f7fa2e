import { blockRoles, blocksOf, storeBlock, TILE_INNER } from './conv-gemm.js';
import {
  BLOCK,
  fillTile,
  type GemmTiling,
  splitGemmMain,
  THREADS_PER_SIDE,
  tileCounts,
  widestTiling,
} from './tiled-gemm.js';
import type { WebGpuProgram } from './webgpu-program.js';

/**
 * How an operand lies in memory: contiguous along its tile's dimension (A's rows when A is stored
 * transposed, B's columns when it is not), so that a vec4 read gives four entries of one shared
 * vec4 ('tile'), or along the inner dimension, so that threads read 4 x 4 blocks and store them
 * transposed ('inner').
 */
export type Contiguous = 'tile' | 'inner';

/** The compile-time shape of a batched matMul program; sizes and strides come as uniforms. */
export interface MatMulLayout {
  tiling: GemmTiling;
  a: Contiguous;
  b: Contiguous;
  /** Whether each operand's contiguous extent is a multiple of 4: vec4 reads. */
  vec4A: boolean;
  vec4B: boolean;
  /** A third input [cols], added to each row of every product. */
  bias: boolean;
  /** An input [rows, cols] added to the product (one batch entry only); default none. */
  residual?: boolean;
}

/**
 * Batch entry n is (outer, head) = (n / heads, n % heads): an operand's entry (t, k) of it lies at
 * outer * OuterStride + head * HeadStride + t * TileStride + k * InnerStride, and the output's
 * (row, col) at split * batches * rows * cols + outer * cOuterStride + head * cHeadStride +
 * row * cRowStride + col. Plain batches have heads = 1; attention's heads read and write
 * [B, T, H, D] in place of the transposed [B, H, T, D].
 */
export const MATMUL_UNIFORMS = [
  'rows : i32, cols : i32, inner : i32, stepsPerSplit : i32, splits : i32, batches : i32, heads : i32,',
  'aOuterStride : i32, aHeadStride : i32, aTileStride : i32, aInnerStride : i32,',
  'bOuterStride : i32, bHeadStride : i32, bTileStride : i32, bInnerStride : i32,',
  'cOuterStride : i32, cHeadStride : i32, cRowStride : i32,',
].join(' ');

/** WGSL: where batch entry `batch` of operand or output `x` ('a', 'b', 'c') starts. */
const batchOffset = (x: 'a' | 'b' | 'c') =>
  `(batch / uniforms.heads) * uniforms.${x}OuterStride + (batch % uniforms.heads) * uniforms.${x}HeadStride`;

/**
 * A shared row holds the tile's rows (or columns) as vec4s, plus one where threads store 4 x 4
 * blocks transposed: the four threads that load one row write four rows apart, and the padding
 * spreads them over distinct memory banks.
 */
function sharedRowVec4s(blocks: number, contiguous: Contiguous): number {
  return blocks * (BLOCK / 4) + (contiguous === 'inner' ? 1 : 0);
}

/** The workgroup memory of the two shared tiles. */
export function matMulSharedBytes(tiling: GemmTiling, a: Contiguous, b: Contiguous): number {
  return TILE_INNER * (sharedRowVec4s(tiling.rowBlocks, a) + sharedRowVec4s(tiling.colBlocks, b)) * 16;
}

/** The tiling of a rows x cols product: see `widestTiling`. */
export function matMulTiling(
  rows: number,
  cols: number,
  a: Contiguous,
  b: Contiguous,
  workgroupStorageBytes: number,
): GemmTiling {
  return widestTiling(rows, cols, workgroupStorageBytes, (tiling) => matMulSharedBytes(tiling, a, b));
}

/**
 * WGSL: `load${name}(batch, t, k)`, four consecutive entries in memory of operand `buffer` from
 * (tile index t, inner index k) at `batch`, zero past the ends: along t when `contiguous` is
 * 'tile', else along k; MATMUL_UNIFORMS says where entry (t, k) lies.
 */
function loadFunction(
  name: 'A' | 'B',
  buffer: string,
  tileSize: 'rows' | 'cols',
  contiguous: Contiguous,
  vec4: boolean,
): string {
  const lower = name.toLowerCase();
  const index = (t: string, k: string) =>
    `${batchOffset(lower as 'a' | 'b')} + ${t} * uniforms.${lower}TileStride + ${k} * uniforms.${lower}InnerStride`;
  const body = vec4
    ? `if (t >= uniforms.${tileSize} || k >= uniforms.inner) {
          return vec4<f32>(0.0);
        }
        return ${buffer}[(${index('t', 'k')}) / 4];`
    : `var values = vec4<f32>(0.0);
        for (var e = 0; e < 4; e = e + 1) {
          ${contiguous === 'tile' ? 'let te = t + e;\n          let ke = k;' : 'let te = t;\n          let ke = k + e;'}
          if (te < uniforms.${tileSize} && ke < uniforms.inner) {
            values[e] = ${buffer}[${index('te', 'ke')}];
          }
        }
        return values;`;
  return `
      fn load${name}(batch : i32, t : i32, k : i32) -> vec4<f32> {
        ${body}
      }`;
}

/**
 * C [batches, rows, cols] = A B, one product per batch entry, as a tiled GEMM: each step, the
 * workgroup takes TILE_INNER entries of the inner sum of its rows of A and its columns of B into
 * shared memory, then every thread accumulates its entries of the tile (see `splitGemmMain`).
 * An operand contiguous along its tile is read a vec4 (four rows or columns) at a time by all
 * threads; one contiguous along the inner sum is read in 4 x 4 blocks (a vec4 of four inner entries
 * for each of four rows), each block stored transposed. The inner sum is split `splits` ways; the
 * output [splits, batches, rows, cols] holds the partial sums (the bias in the first split's).
 */
export function matMulProgram(
  { tiling, a, b, vec4A, vec4B, bias, residual = false }: MatMulLayout,
  rows: number,
  cols: number,
  batches: number,
  splits: number,
): WebGpuProgram {
  const { rowBlocks, colBlocks } = tiling;
  const tileVec4s = [rowBlocks * (BLOCK / 4), colBlocks * (BLOCK / 4)] as const;
  const aBlocks = a === 'inner' ? blocksOf(rowBlocks) : 0;
  const bBlocks = b === 'inner' ? blocksOf(colBlocks) : 0;
  const blockLoad = (name: 'A' | 'B', first: 'row0' | 'col0') => `
              for (var r = 0; r < 4; r = r + 1) {
                v[r] = load${name}(batch, ${first} + 4 * rq + r, k0 + 4 * kq);
              }
${storeBlock(`tile${name}`)}`;
  const directLoad = (name: 'A' | 'B', first: 'row0' | 'col0', vec4s: number) =>
    fillTile(
      `tile${name}`,
      TILE_INNER,
      vec4s,
      (k, v) => `load${name}(batch, ${first} + 4 * ${v}, k0 + ${k})`,
    );
  const blockLoads =
    aBlocks + bBlocks === 0
      ? ''
      : `
          if (loads) {
            // Initialised explicitly: Dawn on lavapipe kept values from the previous iteration.
            var v = array<vec4<f32>, 4>();
            if (isA) {${a === 'inner' ? blockLoad('A', 'row0') : ''}
            } else {${b === 'inner' ? blockLoad('B', 'col0') : ''}
            }
          }`;
  return {
    variableNames: ['matrixA', 'matrixB', ...(bias ? ['bias'] : []), ...(residual ? ['residual'] : [])],
    outputShape: [splits, batches, rows, cols],
    shaderKey: `dalle2js_matmul_${rowBlocks}x${colBlocks}_${a}_${b}_${vec4A}_${vec4B}_${bias}_${residual}`,
    dispatchLayout: { x: [0, 1, 2, 3] },
    dispatch: [...tileCounts(rows, cols, tiling), batches * splits],
    workgroupSize: [THREADS_PER_SIDE, THREADS_PER_SIDE, 1],
    variableComponents: [vec4A ? 4 : 1, vec4B ? 4 : 1, ...(bias ? [1] : []), ...(residual ? [1] : [])],
    uniforms: MATMUL_UNIFORMS,
    getUserCode: () => `
      var<workgroup> tileA : array<array<vec4<f32>, ${sharedRowVec4s(rowBlocks, a)}>, ${TILE_INNER}>;
      var<workgroup> tileB : array<array<vec4<f32>, ${sharedRowVec4s(colBlocks, b)}>, ${TILE_INNER}>;
${loadFunction('A', 'matrixA', 'rows', a, vec4A)}
${loadFunction('B', 'matrixB', 'cols', b, vec4B)}

${splitGemmMain({
  tiling,
  batched: true,
  bias,
  residual,
  setup: aBlocks + bBlocks === 0 ? '' : blockRoles(aBlocks, bBlocks),
  load: `
          let k0 = step * ${TILE_INNER};
${blockLoads}
${a === 'tile' ? directLoad('A', 'row0', tileVec4s[0]) : ''}
${b === 'tile' ? directLoad('B', 'col0', tileVec4s[1]) : ''}`,
  inner: TILE_INNER,
  aStride: BLOCK / 4,
  bStride: BLOCK / 4,
  store: {
    offset: `split * uniforms.batches * uniforms.rows * uniforms.cols + ${batchOffset('c')}`,
    rowStride: 'uniforms.cRowStride',
  },
})}
    `,
  };
}
