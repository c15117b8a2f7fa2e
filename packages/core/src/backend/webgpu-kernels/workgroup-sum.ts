/** Threads of a workgroup that reduces one row (a group, a channel, a chunk). */
export const REDUCE_THREADS = 256;

/**
 * WGSL: a workgroup-wide sum in shared memory, for programs of REDUCE_THREADS threads; every
 * thread of the workgroup must call it.
 */
export const WORKGROUP_SUM = `
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
