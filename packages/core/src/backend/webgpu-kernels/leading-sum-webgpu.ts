import * as tf from '@tensorflow/tfjs-core';
import { overrideKernel } from '../override-kernel.js';
import { sumSplits } from './split-sum.js';
import { webGpuKernelEnabled } from './webgpu-kernels-switch.js';
import { intUniforms, type WebGpuBackend, type WebGpuProgram } from './webgpu-program.js';

/** Columns a workgroup sums, one thread each per lane. */
const COLUMNS = 64;
/** Threads summing one column, each every LANES-th row. */
const LANES = 4;
/** Workgroups that keep a large GPU busy; long sums are cut into chunks of rows to reach it. */
const TARGET_WORKGROUPS = 512;
/** The fewest rows a chunk takes. */
const MIN_CHUNK_ROWS = 256;

/**
 * out [chunks, cols]: for each chunk of `uniforms.chunkRows` rows of x viewed as [rows, cols], the
 * sums of its columns. 64 columns a workgroup, each summed by four threads over every fourth row
 * (consecutive threads read consecutive columns), then added in shared memory.
 */
function columnSumProgram(chunks: number, cols: number): WebGpuProgram {
  return {
    variableNames: ['x'],
    outputShape: [chunks, cols],
    shaderKey: 'dalle2js_column_sum',
    dispatchLayout: { x: [0, 1] },
    dispatch: [Math.ceil(cols / COLUMNS), chunks, 1],
    workgroupSize: [COLUMNS * LANES, 1, 1],
    uniforms: 'rows : i32, cols : i32, chunkRows : i32,',
    getUserCode: () => `
      var<workgroup> laneSums : array<array<f32, ${COLUMNS}>, ${LANES}>;
      fn main(index : i32) {
        let column = i32(localId.x) % ${COLUMNS};
        let lane = i32(localId.x) / ${COLUMNS};
        let col = i32(workgroupId.x) * ${COLUMNS} + column;
        let chunk = i32(workgroupId.y);
        let end = min((chunk + 1) * uniforms.chunkRows, uniforms.rows);
        var sum = 0.0;
        if (col < uniforms.cols) {
          for (var row = chunk * uniforms.chunkRows + lane; row < end; row = row + ${LANES}) {
            sum = sum + x[row * uniforms.cols + col];
          }
        }
        laneSums[lane][column] = sum;
        workgroupBarrier();
        if (lane == 0 && col < uniforms.cols) {
          var total = 0.0;
          for (var l = 0; l < ${LANES}; l = l + 1) {
            total = total + laneSums[l][column];
          }
          setOutputAtIndex(chunk * uniforms.cols + col, total);
        }
      }
    `,
  };
}

/**
 * How many chunks the rows of a [rows, cols] column sum are cut into: enough for about
 * TARGET_WORKGROUPS workgroups, each chunk at least MIN_CHUNK_ROWS rows (one chunk, and one
 * dispatch, for short sums).
 */
export function columnSumChunks(rows: number, cols: number): number {
  const wanted = Math.ceil(TARGET_WORKGROUPS / Math.ceil(cols / COLUMNS));
  return Math.max(1, Math.min(wanted, Math.floor(rows / MIN_CHUNK_ROWS)));
}

/**
 * Replaces tfjs-backend-webgpu's Sum where it reduces float32 over leading axes only (a bias
 * gradient: dy summed over batch and pixels) by a column sum: tfjs transposes the reduced axes to
 * the end first, a copy of the whole input and a second dispatch. Switched by
 * `setWebGpuKernels({ sum })`.
 */
export function overrideLeadingSumOnWebGpu(): void {
  overrideKernel('webgpu', tf.Sum, (original) => (args) => {
    const x = (args.inputs as { x: tf.TensorInfo }).x;
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const leading = leadingAxes(x.shape, axis);
    if (!webGpuKernelEnabled('sum') || x.dtype !== 'float32' || leading === 0) return original(args);
    const rows = tf.util.sizeFromShape(x.shape.slice(0, leading));
    const rest = x.shape.slice(leading);
    const cols = tf.util.sizeFromShape(rest);
    if (rows === 0 || cols === 0) return original(args);
    const gpu = args.backend as WebGpuBackend;
    const chunks = columnSumChunks(rows, cols);
    const chunkRows = Math.ceil(rows / chunks);
    const partial = gpu.runWebGPUProgram(
      columnSumProgram(chunks, cols),
      [x],
      'float32',
      intUniforms(rows, cols, chunkRows),
    );
    return sumSplits(gpu, partial, chunks, keepDims ? [...Array(leading).fill(1), ...rest] : rest);
  });
}

/**
 * How many leading axes `axis` reduces when it is exactly axes 0 .. k - 1 of `shape`, leaving at
 * least one; otherwise 0.
 */
export function leadingAxes(shape: number[], axis: number | number[]): number {
  if (shape.length < 2) return 0;
  const axes = [...new Set(tf.util.parseAxisParam(axis, shape))].sort((a, b) => a - b);
  const leading = axes.every((a, i) => a === i);
  return leading && axes.length < shape.length ? axes.length : 0;
}
