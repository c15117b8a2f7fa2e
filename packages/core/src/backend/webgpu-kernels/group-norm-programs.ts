import { elementwiseFields, type WebGpuProgram } from './webgpu-program.js';
import { REDUCE_THREADS, WORKGROUP_SUM } from './workgroup-sum.js';

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
 * What follows the norm's affine z0 = x̂ weight + bias in the same kernels: nothing, SiLU, or a
 * modulation by `scaleShift` [B, 2C] (per batch entry and channel: z = z0 (1 + scale) + shift, the
 * time conditioning of a U-Net's ResNet block) and then SiLU.
 */
export type GroupNormEpilogue = 'plain' | 'silu' | 'modulatedSilu';

/** The inputs after the norm's own that an epilogue's programs read. */
function epilogueInputs(epilogue: GroupNormEpilogue, names: string[]): string[] {
  if (epilogue === 'plain') return [];
  return epilogue === 'silu' ? names : [...names, 'scaleShift'];
}

/** WGSL: `silu` and its derivative. */
const SILU = `
  fn siluOf(z : f32) -> f32 {
    return z / (1.0 + exp(-z));
  }
  fn siluSlope(z : f32) -> f32 {
    let s = 1.0 / (1.0 + exp(-z));
    return s * (1.0 + z * (1.0 - s));
  }
`;
/** WGSL: `affineAt(i)`, the norm's affine z0 at element i, from the statistics input. */
const AFFINE = `
  fn affineAt(i : i32) -> f32 {
    let row = rowOf(i);
    let c = i % uniforms.channels;
    return (x[i] - statistics[row]) * statistics[uniforms.rows + row] * weight[c] + bias[c];
  }
`;
/** WGSL: `modulationAt(i)`, the (1 + scale, shift) of a modulated epilogue at element i. */
const MODULATION = `
  fn modulationAt(i : i32) -> vec2<f32> {
    let c = i % uniforms.channels;
    let at = (i / (uniforms.pixels * uniforms.channels)) * 2 * uniforms.channels + c;
    return vec2<f32>(1.0 + scaleShift[at], scaleShift[at + uniforms.channels]);
  }
`;

/** WGSL helpers for programs that read weight, bias and the statistics: SILU, AFFINE, and MODULATION where modulated. */
function epilogueCode(epilogue: GroupNormEpilogue): string {
  return `${SILU}${AFFINE}${epilogue === 'modulatedSilu' ? MODULATION : ''}`;
}

/**
 * `gradientAt(i)`: the gradient reaching the norm's affine output z0 at element i: dy, or through
 * the epilogue, recomputed from x: dy silu'(z0), or dy silu'(z) (1 + scale) with z the modulated z0.
 */
function gradientAt(epilogue: GroupNormEpilogue): string {
  if (epilogue === 'plain') return 'fn gradientAt(i : i32) -> f32 { return dy[i]; }';
  if (epilogue === 'silu') {
    return `
    ${epilogueCode(epilogue)}
    fn gradientAt(i : i32) -> f32 {
      return dy[i] * siluSlope(affineAt(i));
    }`;
  }
  return `
    ${epilogueCode(epilogue)}
    fn gradientAt(i : i32) -> f32 {
      let m = modulationAt(i);
      return dy[i] * siluSlope(affineAt(i) * m.x + m.y) * m.x;
    }`;
}

const KEY_SUFFIX: Record<GroupNormEpilogue, string> = {
  plain: '',
  silu: '_silu',
  modulatedSilu: '_modulated_silu',
};

/** A program's shader key, marked with its epilogue. */
const key = (name: string, epilogue: GroupNormEpilogue) =>
  `dalle2js_group_norm_${name}${KEY_SUFFIX[epilogue]}`;

/** The fields of an element-wise program over a tensor of `shape`, a thread per element. */
function elementwise(shape: number[]) {
  return { ...elementwiseFields(shape, ELEMENT_THREADS), uniforms: SIZE_UNIFORMS };
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

/**
 * The workgroup's group row (b, g), where its elements start, and how many there are. Past 65535
 * rows (a LayerNorm over many tokens) tfjs spreads the workgroups over two dispatch dimensions, so
 * the row is their flat index; the workgroups past the last row recompute it (the barriers need
 * every workgroup to run the same code) but write nothing (`inRange`).
 */
const WORKGROUP_GROUP = `
  let flatRow = i32(workgroupId.y * numWorkgroups.x + workgroupId.x);
  let inRange = flatRow < uniforms.rows;
  let row = min(flatRow, uniforms.rows - 1);
  let start = groupStart(row);
  let count = uniforms.pixels * uniforms.groupChannels;
`;

/**
 * WGSL statements, after WORKGROUP_GROUP: the group's `mean` and `rstd` = 1 / sqrt(variance + eps),
 * the variance from the centred values, as the plain ops compute it.
 */
const GROUP_MEAN_AND_RSTD = `
  var sum = 0.0;
  for (var k = i32(localId.x); k < count; k = k + ${REDUCE_THREADS}) {
    sum = sum + x[groupElement(start, k)];
  }
  let mean = workgroupSum(sum) / f32(count);
  var squares = 0.0;
  for (var k = i32(localId.x); k < count; k = k + ${REDUCE_THREADS}) {
    let d = x[groupElement(start, k)] - mean;
    squares = squares + d * d;
  }
  let rstd = 1.0 / sqrt(workgroupSum(squares) / f32(count) + uniforms.eps);
`;

/** One workgroup per group row (b, g): [2, B, G] = mean, then 1 / sqrt(variance + eps). */
export function groupStatisticsProgram(sizes: GroupNormSizes): WebGpuProgram {
  return {
    variableNames: ['x'],
    shaderKey: key('statistics', 'plain'),
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
        ${GROUP_MEAN_AND_RSTD}
        if (localId.x == 0u && inRange) {
          setOutputAtIndex(row, mean);
          setOutputAtIndex(uniforms.rows + row, rstd);
        }
      }
    `,
  };
}

/** WGSL: the output at `index` from z0 = affineAt(index) (and m = modulationAt(index)). */
const EPILOGUE_OUTPUT: Record<GroupNormEpilogue, string> = {
  plain: 'z0',
  silu: 'siluOf(z0)',
  modulatedSilu: 'siluOf(z0 * m.x + m.y)',
};

/**
 * y = (x - mean) rstd weight + bias, then the epilogue, with the statistics [2, B, G] (means,
 * then rstds); `shape` is x's.
 */
export function groupNormalizeProgram(shape: number[], epilogue: GroupNormEpilogue): WebGpuProgram {
  return {
    variableNames: ['x', 'statistics', 'weight', 'bias', ...epilogueInputs(epilogue, [])],
    shaderKey: key('normalize', epilogue),
    ...elementwise(shape),
    getUserCode: () => `
      ${GROUP_INDEX}
      ${epilogueCode(epilogue)}
      fn main(index : i32) {
        if (index < uniforms.size) {
          let z0 = affineAt(index);
          ${epilogue === 'modulatedSilu' ? 'let m = modulationAt(index);' : ''}
          setOutputAtIndex(index, ${EPILOGUE_OUTPUT[epilogue]});
        }
      }
    `,
  };
}

/**
 * The forward in one dispatch, without the statistics (for calls that record no gradient): one
 * workgroup per group row (b, g) finds the group's mean and rstd, then writes its outputs.
 */
export function groupNormOnePassProgram(
  sizes: GroupNormSizes,
  shape: number[],
  epilogue: GroupNormEpilogue,
): WebGpuProgram {
  const modulated = epilogue === 'modulatedSilu';
  return {
    variableNames: ['x', 'weight', 'bias', ...epilogueInputs(epilogue, [])],
    shaderKey: key('one_pass', epilogue),
    ...workgroupPerRow(sizes.batch * sizes.groups, shape, `${SIZE_UNIFORMS} eps : f32,`),
    getUserCode: () => `
      ${WORKGROUP_SUM}
      ${GROUP_INDEX}
      ${SILU}
      ${modulated ? MODULATION : ''}
      fn main(index : i32) {
        ${WORKGROUP_GROUP}
        ${GROUP_MEAN_AND_RSTD}
        for (var k = i32(localId.x); k < count; k = k + ${REDUCE_THREADS}) {
          let i = groupElement(start, k);
          let c = i % uniforms.channels;
          let z0 = (x[i] - mean) * rstd * weight[c] + bias[c];
          ${modulated ? 'let m = modulationAt(i);' : ''}
          if (inRange) {
            setOutputAtIndex(i, ${EPILOGUE_OUTPUT[epilogue]});
          }
        }
      }
    `,
  };
}

/**
 * Backward, one workgroup per channel: [C], dWeight (the sum of g x̂ over batch and pixels, with g
 * the gradient at the norm's output) or dBias (the sum of g). Two programs rather than one writing
 * both: two outputs of one would cost two more dispatches to slice apart.
 */
export function channelGradientSumProgram(
  sizes: GroupNormSizes,
  epilogue: GroupNormEpilogue,
  output: 'weight' | 'bias',
): WebGpuProgram {
  const readsX = output === 'weight' || epilogue !== 'plain';
  const term =
    output === 'weight' ? 'd * (x[i] - statistics[rowOf(i)]) * statistics[uniforms.rows + rowOf(i)]' : 'd';
  return {
    variableNames: [
      'dy',
      ...(readsX ? ['x', 'statistics'] : []),
      ...epilogueInputs(epilogue, ['weight', 'bias']),
    ],
    shaderKey: key(`channel_${output}_sum`, epilogue),
    ...workgroupPerRow(sizes.channels, [sizes.channels], `${SIZE_UNIFORMS} batch : i32,`),
    getUserCode: () => `
      ${WORKGROUP_SUM}
      ${GROUP_INDEX}
      ${gradientAt(epilogue)}
      fn main(index : i32) {
        let c = i32(workgroupId.x);
        let count = uniforms.batch * uniforms.pixels;
        var sum = 0.0;
        for (var k = i32(localId.x); k < count; k = k + ${REDUCE_THREADS}) {
          let i = k * uniforms.channels + c;
          let d = gradientAt(i);
          sum = sum + ${term};
        }
        let total = workgroupSum(sum);
        if (localId.x == 0u) {
          setOutputAtIndex(c, total);
        }
      }
    `,
  };
}

/**
 * dx = rstd (g - mean(g) - x̂ mean(g x̂)) per group, with g = dy weight (through the epilogue) and
 * x̂ = (x - mean) rstd; one workgroup per group row (b, g) finds the two means, then writes the
 * group's dx. `shape` is x's.
 */
export function groupNormInputGradientProgram(
  sizes: GroupNormSizes,
  shape: number[],
  epilogue: GroupNormEpilogue,
): WebGpuProgram {
  return {
    variableNames: ['dy', 'x', 'weight', 'statistics', ...epilogueInputs(epilogue, ['bias'])],
    shaderKey: key('input_gradient', epilogue),
    ...workgroupPerRow(sizes.batch * sizes.groups, shape, SIZE_UNIFORMS),
    getUserCode: () => `
      ${WORKGROUP_SUM}
      ${GROUP_INDEX}
      ${gradientAt(epilogue)}
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
        let meanG = workgroupSum(gSum) / f32(count);
        let meanGx = workgroupSum(gxSum) / f32(count);
        for (var k = i32(localId.x); k < count; k = k + ${REDUCE_THREADS}) {
          let i = groupElement(start, k);
          let xHat = (x[i] - groupMean) * groupRstd;
          let g = gradientAt(i) * weight[i % uniforms.channels];
          if (inRange) {
            setOutputAtIndex(i, groupRstd * (g - meanG - xHat * meanGx));
          }
        }
      }
    `,
  };
}

/**
 * Backward of the modulation, one workgroup per batch entry and channel: [B, 2C] = the sums over
 * the pixels of dz z0 (the scale's gradient) and of dz (the shift's), with dz = dy silu'(z).
 */
export function modulationGradientProgram(sizes: GroupNormSizes): WebGpuProgram {
  return {
    variableNames: ['dy', 'x', 'weight', 'statistics', 'bias', 'scaleShift'],
    shaderKey: key('modulation_gradient', 'modulatedSilu'),
    outputShape: [sizes.batch, 2 * sizes.channels],
    dispatchLayout: { x: [0, 1] },
    dispatch: [sizes.channels, sizes.batch, 1],
    workgroupSize: [REDUCE_THREADS, 1, 1],
    uniforms: SIZE_UNIFORMS,
    getUserCode: () => `
      ${WORKGROUP_SUM}
      ${GROUP_INDEX}
      ${epilogueCode('modulatedSilu')}
      fn main(index : i32) {
        let c = i32(workgroupId.x);
        let b = i32(workgroupId.y);
        var scaleSum = 0.0;
        var shiftSum = 0.0;
        for (var p = i32(localId.x); p < uniforms.pixels; p = p + ${REDUCE_THREADS}) {
          let i = (b * uniforms.pixels + p) * uniforms.channels + c;
          let z0 = affineAt(i);
          let m = modulationAt(i);
          let dz = dy[i] * siluSlope(z0 * m.x + m.y);
          scaleSum = scaleSum + dz * z0;
          shiftSum = shiftSum + dz;
        }
        let scaleGradient = workgroupSum(scaleSum);
        let shiftGradient = workgroupSum(shiftSum);
        if (localId.x == 0u) {
          setOutputAtIndex(b * 2 * uniforms.channels + c, scaleGradient);
          setOutputAtIndex(b * 2 * uniforms.channels + uniforms.channels + c, shiftGradient);
        }
      }
    `,
  };
}
