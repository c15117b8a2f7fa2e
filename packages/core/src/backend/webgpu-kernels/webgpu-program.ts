import * as tf from '@tensorflow/tfjs-core';

/**
 * The parts of tfjs-backend-webgpu's `WebGPUProgram` that our programs set. tfjs compiles
 * `getUserCode()` after a preamble that declares each input in `variableNames` as a storage array
 * of that name, a `uniforms` struct (input and output shapes, `size` when asked for, then the
 * fields in `uniforms`), `localId`, `workgroupId`, `setOutputAtIndex` and `main`'s header, and it
 * caches the pipeline under `shaderKey` plus the ranks and dtypes: sizes must come as uniforms.
 */
export interface WebGpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size?: boolean;
  /** Per input, 4 to read it as an array of vec4s; default 1. */
  variableComponents?: number[];
  uniforms?: string;
  getUserCode(): string;
}

/** A program-defined uniform value, in the order of the program's `uniforms` fields. */
export interface ProgramUniform {
  type: 'int32' | 'float32';
  data: number[];
}

/** What the kernels use of tfjs-backend-webgpu's `WebGPUBackend`. */
export interface WebGpuBackend extends tf.KernelBackend {
  runWebGPUProgram(
    program: WebGpuProgram,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    programDefinedUniform?: ProgramUniform[],
  ): tf.TensorInfo;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  device: { limits: { maxComputeWorkgroupStorageSize: number; maxStorageBuffersPerShaderStage: number } };
}

/** The most workgroups WebGPU guarantees along one dispatch dimension. */
const MAX_WORKGROUPS_PER_DIMENSION = 65535;

/**
 * Workgroups for `count` invocations of `workgroupSize`, spread over two dimensions when one is
 * not enough, as tfjs does (its `getGlobalIndex` then flattens them).
 */
export function flatDispatch(count: number, workgroupSize: number): [number, number, number] {
  const groups = Math.ceil(count / workgroupSize);
  if (groups <= MAX_WORKGROUPS_PER_DIMENSION) return [groups, 1, 1];
  const side = Math.ceil(Math.sqrt(groups));
  return [side, side, 1];
}

/** int32 uniforms, one per value. */
export function intUniforms(...values: number[]): ProgramUniform[] {
  return values.map((value) => ({ type: 'int32', data: [value] }));
}

/** float32 uniforms, one per value. */
export function floatUniforms(...values: number[]): ProgramUniform[] {
  return values.map((value) => ({ type: 'float32', data: [value] }));
}

/**
 * The fields of an element-wise program over a tensor of `shape`: a thread per element in
 * workgroups of `threads`, `main(index)` given the flat index, `uniforms.size` the element count.
 */
export function elementwiseFields(shape: number[], threads: number) {
  return {
    outputShape: shape,
    dispatchLayout: { x: shape.map((_, axis) => axis) },
    dispatch: flatDispatch(tf.util.sizeFromShape(shape), threads),
    workgroupSize: [threads, 1, 1] as [number, number, number],
    size: true,
  };
}

/** Runs another of the webgpu backend's kernels on tensors of ours; the caller disposes the result. */
export function runWebGpuKernel(
  name: string,
  backend: WebGpuBackend,
  inputs: tf.NamedTensorInfoMap | tf.TensorInfo[],
  attrs: tf.NamedAttrMap,
): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'webgpu');
  if (!kernel) throw new Error(`The webgpu backend has no ${name} kernel.`);
  // Concat takes its inputs as a list, the other kernels by name.
  return kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend, attrs }) as tf.TensorInfo;
}

/** `result` + `residual` through tfjs' Add, disposing `result`: where a kernel of ours cannot add it as it stores. */
export function addResidual(
  gpu: WebGpuBackend,
  result: tf.TensorInfo,
  residual: tf.TensorInfo,
): tf.TensorInfo {
  try {
    return runWebGpuKernel(tf.Add, gpu, { a: result, b: residual }, {});
  } finally {
    gpu.disposeData(result.dataId);
  }
}

/** `size` entries of `x` from `begin` (per axis), as a tensor of `shape`; the caller disposes it. */
export function slicePart(
  gpu: WebGpuBackend,
  x: tf.TensorInfo,
  begin: number[],
  size: number[],
  shape: number[],
): tf.TensorInfo {
  const piece = runWebGpuKernel(tf.Slice, gpu, { x }, { begin, size });
  try {
    return runWebGpuKernel(tf.Reshape, gpu, { x: piece }, { shape });
  } finally {
    gpu.disposeData(piece.dataId);
  }
}
