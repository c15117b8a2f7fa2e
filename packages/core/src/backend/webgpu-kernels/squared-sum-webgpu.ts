import * as tf from '@tensorflow/tfjs-core';
import { intUniforms, type WebGpuBackend, type WebGpuProgram } from './webgpu-program.js';
import { REDUCE_THREADS, WORKGROUP_SUM } from './workgroup-sum.js';

/** Entries one workgroup reduces. */
const SUM_CHUNK = REDUCE_THREADS * 64;

/**
 * WGSL: the workgroup's flat index, where tfjs spreads many workgroups over two dimensions (those
 * past the output, `uniforms.size`, write nothing). Sizes come as uniforms: tfjs caches a pipeline
 * by shader key and ranks, not shapes.
 */
const FLAT_WORKGROUP = 'let w = i32(workgroupId.y * numWorkgroups.x + workgroupId.x);';

/**
 * out [chunks (+ 1)]: a workgroup per chunk of SUM_CHUNK entries of each input x0 .. x{n-1}, the
 * sum of its squares; with `previous` (an earlier program's output), one more workgroup adds up
 * its entries. Input j's chunks are workgroups start_j .. start_{j+1} - 1.
 */
function squaresProgram(inputs: number, previous: boolean, workgroups: number): WebGpuProgram {
  const names = Array.from({ length: inputs }, (_, j) => `x${j}`);
  const starts = Array.from({ length: inputs + 1 }, (_, j) => `start${j} : i32,`).join(' ');
  const lengths = names.map((_, j) => `length${j} : i32,`).join(' ');
  return {
    variableNames: [...(previous ? ['previous'] : []), ...names],
    outputShape: [workgroups],
    shaderKey: `dalle2js_squared_sums_${inputs}_${previous}`,
    dispatchLayout: { x: [0] },
    dispatch: [workgroups, 1, 1],
    workgroupSize: [REDUCE_THREADS, 1, 1],
    size: true,
    uniforms: `${starts} ${lengths} previousLength : i32,`,
    getUserCode: () => `
      ${WORKGROUP_SUM}
      fn main(index : i32) {
        ${FLAT_WORKGROUP}
        var sum = 0.0;
        ${names
          .map(
            (name, j) => `
        if (w >= uniforms.start${j} && w < uniforms.start${j + 1}) {
          let begin = (w - uniforms.start${j}) * ${SUM_CHUNK};
          let end = min(begin + ${SUM_CHUNK}, uniforms.length${j});
          for (var i = begin + i32(localId.x); i < end; i = i + ${REDUCE_THREADS}) {
            let value = ${name}[i];
            sum = sum + value * value;
          }
        }`,
          )
          .join('')}
        ${
          previous
            ? `if (w == uniforms.start${inputs}) {
          for (var i = i32(localId.x); i < uniforms.previousLength; i = i + ${REDUCE_THREADS}) {
            sum = sum + previous[i];
          }
        }`
            : ''
        }
        let total = workgroupSum(sum);
        if (localId.x == 0u && w < uniforms.size) {
          setOutputAtIndex(w, total);
        }
      }
    `,
  };
}

/** out [chunks], or a scalar for one chunk: per chunk of SUM_CHUNK entries of x, their sum. */
function chunkSumProgram(length: number): WebGpuProgram {
  const chunks = Math.ceil(length / SUM_CHUNK);
  return {
    variableNames: ['x'],
    outputShape: chunks === 1 ? [] : [chunks],
    shaderKey: 'dalle2js_chunk_sum',
    dispatchLayout: { x: [] },
    dispatch: [chunks, 1, 1],
    workgroupSize: [REDUCE_THREADS, 1, 1],
    size: true,
    uniforms: 'length : i32,',
    getUserCode: () => `
      ${WORKGROUP_SUM}
      fn main(index : i32) {
        ${FLAT_WORKGROUP}
        let start = w * ${SUM_CHUNK};
        let end = min(start + ${SUM_CHUNK}, uniforms.length);
        var sum = 0.0;
        for (var i = start + i32(localId.x); i < end; i = i + ${REDUCE_THREADS}) {
          sum = sum + x[i];
        }
        let total = workgroupSum(sum);
        if (localId.x == 0u && w < uniforms.size) {
          setOutputAtIndex(w, total);
        }
      }
    `,
  };
}

/**
 * The sum of the squares of every entry of `tensors` (float32, at least one entry in all), a
 * scalar. Each program takes as many inputs as WebGPU binds beside its output, the first of them
 * the previous program's partial sums: a model's hundreds of gradients take one dispatch per
 * seven or so, and one or two more to add up the last partial sums.
 */
export function squaredSumOfAll(gpu: WebGpuBackend, tensors: tf.TensorInfo[]): tf.TensorInfo {
  const inputs = tensors.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
  if (inputs.length === 0) throw new Error('squaredSumOfAll: no entries to sum');
  const perProgram = gpu.device.limits.maxStorageBuffersPerShaderStage - 1;
  let partials: tf.TensorInfo | undefined;
  for (let next = 0; next < inputs.length; ) {
    const group = inputs.slice(next, next + perProgram - (partials ? 1 : 0));
    next += group.length;
    const lengths = group.map((t) => tf.util.sizeFromShape(t.shape));
    const starts = [0];
    for (const length of lengths) starts.push(starts.at(-1)! + Math.ceil(length / SUM_CHUNK));
    const workgroups = starts.at(-1)! + (partials ? 1 : 0);
    const previousLength = partials ? tf.util.sizeFromShape(partials.shape) : 0;
    const result = gpu.runWebGPUProgram(
      squaresProgram(group.length, partials !== undefined, workgroups),
      [...(partials ? [partials] : []), ...group],
      'float32',
      intUniforms(...starts, ...lengths, previousLength),
    );
    if (partials) gpu.disposeData(partials.dataId);
    partials = result;
  }
  let sums = partials!;
  while (sums.shape.length > 0) {
    const length = sums.shape[0] as number;
    const next = gpu.runWebGPUProgram(chunkSumProgram(length), [sums], 'float32', intUniforms(length));
    gpu.disposeData(sums.dataId);
    sums = next;
  }
  return sums;
}
