/** Threads of a workgroup that reduces one row (a group, a channel, a chunk). */
export const REDUCE_THREADS = 256;

/**
 * WGSL: `fn ${name}(value : f32) -> f32`, a reduction over a workgroup of `threads` threads in
 * shared memory, combining two partial results with `combine` (a WGSL expression of a and b);
 * every thread of the workgroup must call it.
 */
export function workgroupReduction(name: string, threads: number, combine: string): string {
  const shared = `${name}Partials`;
  return `
  var<workgroup> ${shared} : array<f32, ${threads}>;
  fn ${name}(value : f32) -> f32 {
    ${shared}[localId.x] = value;
    workgroupBarrier();
    for (var stride = ${threads / 2}u; stride > 0u; stride = stride / 2u) {
      if (localId.x < stride) {
        let a = ${shared}[localId.x];
        let b = ${shared}[localId.x + stride];
        ${shared}[localId.x] = ${combine};
      }
      workgroupBarrier();
    }
    let total = ${shared}[0];
    workgroupBarrier();
    return total;
  }
`;
}

/** WGSL: `workgroupSum(value)` over REDUCE_THREADS threads. */
export const WORKGROUP_SUM = workgroupReduction('workgroupSum', REDUCE_THREADS, 'a + b');
