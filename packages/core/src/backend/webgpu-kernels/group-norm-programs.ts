import { flatDispatch, type WebGpuProgram } from './webgpu-program.js';

/** Threads of a workgroup that reduces one group (or one channel). */
const REDUCE_THREADS = 256;
/** Threads of a workgroup of the element-wise programs. */
const ELEMENT_THREADS = 128;

/** The sizes every GroupNorm program takes as uniforms. */
export interface GroupNormSizes {
  batch: number;
  pixels: number;
  channels: number;
  groups: number;
}

const SIZE_UNIFORMS = 'pixels : i32, channels : i32, groupChannels : i32, rows : i32,';

/** Uniform values for SIZE_UNIFORMS. */
export function sizeUniformValues({ batch, pixels, channels, groups }: GroupNormSizes): number[] {
  return [pixels, channels, channels / groups, batch * groups];
}

/** A workgroup-wide sum in shared memory; every thread of the workgroup must call it. */
const WORKGROUP_SUM = `
  var<workgroup> partialSums : array<f32, ${REDUCE_THREADS}>;
  fn workgroupSum(value : f32) -> f32 {
    partialSums[localId.x] = value;
    workgroupBarrier();
    for (var stride = ${REDUCE_THREADS / 2}u; stride > 0u; stride = stride / 2u) {
      if (localId.x < stride) {
        partialSums[localId.x] = partialSums[localId.x] + partialSums[localId.x + stride];
      }
      workgroupBarrier();
    }
    let total = partialSums[0];
    workgroupBarrier();
    return total;
  }
`;

/**
 * Where element k of group row (b, g) sits in NHWC, walking the group pixel by pixel, channel by
 * channel within the group; and that row's first element.
 */
const GROUP_INDEX = `
  fn groupStart(row : i32) -> i32 {
    let groups = uniforms.channels / uniforms.groupChannels;
    let b = row / groups;
    return b * uniforms.pixels * uniforms.channels + (row - b * groups) * uniforms.groupChannels;
  }
  fn groupElement(start : i32, k : i32) -> i32 {
    let p = k / uniforms.groupChannels;
    return start + p * uniforms.channels + (k - p * uniforms.groupChannels);
  }
  fn rowOf(index : i32) -> i32 {
    let c = index % uniforms.channels;
    let b = index / (uniforms.pixels * uniforms.channels);
    return b * (uniforms.channels / uniforms.groupChannels) + c / uniforms.groupChannels;
  }
`;

/**
 * `gradientAt(i)`: the gradient reaching the norm's output at element i. With SiLU fused in, dy
 * times silu'(z) at the pre-activation z = x̂ weight + bias, recomputed; else dy.
 */
function gradientAt(silu: boolean): string {
  if (!silu) return 'fn gradientAt(i : i32) -> f32 { return dy[i]; }';
  return `
    fn gradientAt(i : i32) -> f32 {
      let row = rowOf(i);
      let c = i % uniforms.channels;
      let z = (x[i] - statistics[row]) * statistics[uniforms.rows + row] * weight[c] + bias[c];
      let s = 1.0 / (1.0 + exp(-z));
      return dy[i] * s * (1.0 + z * (1.0 - s));
    }
  `;
}

/** A program's shader key, marked when SiLU is fused in. */
const key = (name: string, silu: boolean) => `dalle2js_group_norm_${name}${silu ? '_silu' : ''}`;

/** The fields of an element-wise program over a tensor of `shape`, a thread per element. */
function elementwise(shape: number[]) {
  return {
    outputShape: shape,
    dispatchLayout: { x: shape.map((_, axis) => axis) },
    dispatch: flatDispatch(
      shape.reduce((total, side) => total * side, 1),
      ELEMENT_THREADS,
    ),
    workgroupSize: [ELEMENT_THREADS, 1, 1] as [number, number, number],
    size: true,
    uniforms: SIZE_UNIFORMS,
  };
}

/** The fields of a program with one workgroup per `rows`, writing `outputShape`. */
function workgroupPerRow(rows: number, outputShape: number[], uniforms: string) {
  return {
    outputShape,
    dispatchLayout: { x: outputShape.map((_, axis) => axis) },
    dispatch: [rows, 1, 1] as [number, number, number],
    workgroupSize: [REDUCE_THREADS, 1, 1] as [number, number, number],
    uniforms,
  };
}

/** The workgroup's group row (b, g), where its elements start, and how many there are. */
const WORKGROUP_GROUP = `
  let row = i32(workgroupId.x);
  let start = groupStart(row);
  let count = uniforms.pixels * uniforms.groupChannels;
`;

/** One workgroup per group row (b, g): [2, B, G] = mean, then 1 / sqrt(variance + eps). */
export function groupStatisticsProgram(sizes: GroupNormSizes): WebGpuProgram {
  return {
    variableNames: ['x'],
    shaderKey: key('statistics', false),
    ...workgroupPerRow(
      sizes.batch * sizes.groups,
      [2, sizes.batch, sizes.groups],
      `${SIZE_UNIFORMS} eps : f32,`,
    ),
    getUserCode: () => `
      ${WORKGROUP_SUM}
      ${GROUP_INDEX}
      fn main(index : i32) {
        ${WORKGROUP_GROUP}
        var sum = 0.0;
        for (var k = i32(localId.x); k < count; k = k + ${REDUCE_THREADS}) {
          sum = sum + x[groupElement(start, k)];
        }
        let mean = workgroupSum(sum) / f32(count);
        // The variance from the centred values, as the plain ops compute it.
        var squares = 0.0;
        for (var k = i32(localId.x); k < count; k = k + ${REDUCE_THREADS}) {
          let d = x[groupElement(start, k)] - mean;
          squares = squares + d * d;
        }
        let variance = workgroupSum(squares) / f32(count);
        if (localId.x == 0u) {
          setOutputAtIndex(row, mean);
          setOutputAtIndex(uniforms.rows + row, 1.0 / sqrt(variance + uniforms.eps));
        }
      }
    `,
  };
}

/**
 * y = (x - mean) rstd weight + bias (then SiLU if `silu`), with the statistics [2, B, G] (means,
 * then rstds); `shape` is x's.
 */
export function groupNormalizeProgram(shape: number[], silu: boolean): WebGpuProgram {
  return {
    variableNames: ['x', 'statistics', 'weight', 'bias'],
    shaderKey: key('normalize', silu),
    ...elementwise(shape),
    getUserCode: () => `
      ${GROUP_INDEX}
      fn main(index : i32) {
        if (index < uniforms.size) {
          let row = rowOf(index);
          let c = index % uniforms.channels;
          let normalized = (x[index] - statistics[row]) * statistics[uniforms.rows + row];
          let z = normalized * weight[c] + bias[c];
          setOutputAtIndex(index, ${silu ? 'z / (1.0 + exp(-z))' : 'z'});
        }
      }
    `,
  };
}

/**
 * Backward, one workgroup per group row: [2, B, G] = the sums over the group of g and of g x̂,
 * with g = dy weight and x̂ = (x - mean) rstd.
 */
export function groupGradientSumsProgram(sizes: GroupNormSizes, silu: boolean): WebGpuProgram {
  return {
    variableNames: ['dy', 'x', 'weight', 'statistics', ...(silu ? ['bias'] : [])],
    shaderKey: key('gradient_sums', silu),
    ...workgroupPerRow(sizes.batch * sizes.groups, [2, sizes.batch, sizes.groups], SIZE_UNIFORMS),
    getUserCode: () => `
      ${WORKGROUP_SUM}
      ${GROUP_INDEX}
      ${gradientAt(silu)}
      fn main(index : i32) {
        ${WORKGROUP_GROUP}
        let groupMean = statistics[row];
        let groupRstd = statistics[uniforms.rows + row];
        var gSum = 0.0;
        var gxSum = 0.0;
        for (var k = i32(localId.x); k < count; k = k + ${REDUCE_THREADS}) {
          let i = groupElement(start, k);
          let g = gradientAt(i) * weight[i % uniforms.channels];
          gSum = gSum + g;
          gxSum = gxSum + g * (x[i] - groupMean) * groupRstd;
        }
        let totalG = workgroupSum(gSum);
        let totalGx = workgroupSum(gxSum);
        if (localId.x == 0u) {
          setOutputAtIndex(row, totalG);
          setOutputAtIndex(uniforms.rows + row, totalGx);
        }
      }
    `,
  };
}

/**
 * Backward, one workgroup per channel: [2, C] = dWeight (the sum of dy x̂ over batch and pixels),
 * then dBias (the sum of dy).
 */
export function channelGradientSumsProgram(sizes: GroupNormSizes, silu: boolean): WebGpuProgram {
  return {
    variableNames: ['dy', 'x', 'statistics', ...(silu ? ['weight', 'bias'] : [])],
    shaderKey: key('channel_sums', silu),
    ...workgroupPerRow(sizes.channels, [2, sizes.channels], `${SIZE_UNIFORMS} batch : i32,`),
    getUserCode: () => `
      ${WORKGROUP_SUM}
      ${GROUP_INDEX}
      ${gradientAt(silu)}
      fn main(index : i32) {
        let c = i32(workgroupId.x);
        let count = uniforms.batch * uniforms.pixels;
        var dyXHatSum = 0.0;
        var dySum = 0.0;
        for (var k = i32(localId.x); k < count; k = k + ${REDUCE_THREADS}) {
          let i = k * uniforms.channels + c;
          let row = rowOf(i);
          let d = gradientAt(i);
          dySum = dySum + d;
          dyXHatSum = dyXHatSum + d * (x[i] - statistics[row]) * statistics[uniforms.rows + row];
        }
        let weightGradient = workgroupSum(dyXHatSum);
        let biasGradient = workgroupSum(dySum);
        if (localId.x == 0u) {
          setOutputAtIndex(c, weightGradient);
          setOutputAtIndex(uniforms.channels + c, biasGradient);
        }
      }
    `,
  };
}

/** dx = rstd (g - mean(g) - x̂ mean(g x̂)) per group, from the group sums [2, B, G]; `shape` is x's. */
export function groupNormInputGradientProgram(shape: number[], silu: boolean): WebGpuProgram {
  return {
    variableNames: ['dy', 'x', 'weight', 'statistics', 'sums', ...(silu ? ['bias'] : [])],
    shaderKey: key('input_gradient', silu),
    ...elementwise(shape),
    getUserCode: () => `
      ${GROUP_INDEX}
      ${gradientAt(silu)}
      fn main(index : i32) {
        if (index < uniforms.size) {
          let row = rowOf(index);
          let count = f32(uniforms.pixels * uniforms.groupChannels);
          let groupRstd = statistics[uniforms.rows + row];
          let xHat = (x[index] - statistics[row]) * groupRstd;
          let g = gradientAt(index) * weight[index % uniforms.channels];
          setOutputAtIndex(index, groupRstd * (g - sums[row] / count - xHat * sums[uniforms.rows + row] / count));
        }
      }
    `,
  };
}
