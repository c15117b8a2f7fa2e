import type { WebGpuProgram } from './webgpu-program.js';

/** Rows (queries in the forward and dq programs, keys in the dk/dv one) per workgroup, a thread each. */
const ROWS_PER_WORKGROUP = 64;
/** Keys (or queries) staged in shared memory at a time. */
const TILE = 16;

/** The sizes of an attention call: N = batch x heads rows of T queries and S keys of size D. */
export interface AttentionSizes {
  n: number;
  queries: number;
  keys: number;
  headSize: number;
}

export const ATTENTION_UNIFORMS = 'batches : i32, queries : i32, keys : i32, scale : f32,';

/**
 * Code shared by the programs: `stage` copies TILE rows of a [N, rows, D] input (read as vec4s),
 * from `first`, into a shared tile (zeros past the end), every thread of the workgroup a part.
 */
function tileCode(name: string, input: string, d: number): string {
  const d4 = d / 4;
  return `
    var<workgroup> ${name} : array<array<vec4<f32>, ${d4}>, ${TILE}>;
    fn stage_${name}(batch : i32, first : i32, rows : i32) {
      for (var e = i32(localId.x); e < ${TILE * d4}; e = e + ${ROWS_PER_WORKGROUP}) {
        let r = e / ${d4};
        let c = e % ${d4};
        let row = first + r;
        if (row < rows) {
          ${name}[r][c] = ${input}[(batch * rows + row) * ${d4} + c];
        } else {
          ${name}[r][c] = vec4<f32>(0.0);
        }
      }
    }
  `;
}

/**
 * The thread's row of a [N, rows, D] input (read as vec4s): its batch entry, its index, whether it
 * is one, and where its vec4s start.
 */
function threadRow(rows: 'queries' | 'keys', d4: number): string {
  return `
    let batch = i32(workgroupId.y);
    let row = i32(workgroupId.x) * ${ROWS_PER_WORKGROUP} + i32(localId.x);
    let inRange = row < uniforms.${rows};
    let base = (batch * uniforms.${rows} + row) * ${d4};
  `;
}

/**
 * A loop over the TILE-row tiles of `rows`: each turn stages `tiles` (and runs `stageMore`), waits
 * for the whole workgroup, runs `body` with the tile's first row in `first`, and waits again.
 */
function overTiles(rows: 'queries' | 'keys', tiles: string[], body: string, stageMore = ''): string {
  return `
    let tileCount = (uniforms.${rows} + ${TILE - 1}) / ${TILE};
    for (var tile = 0; tile < tileCount; tile = tile + 1) {
      let first = tile * ${TILE};
      ${tiles.map((name) => `stage_${name}(batch, first, uniforms.${rows});`).join('\n')}
      ${stageMore}
      workgroupBarrier();
      ${body}
      workgroupBarrier();
    }
  `;
}

/** The start of a program with a thread per query row that stages keys and values: up to `main`'s body. */
function queryRowOverKeys(d: number): string {
  return `
    ${tileCode('keyTile', 'k', d)}
    ${tileCode('valueTile', 'v', d)}
    ${WRITE_VEC4}
    ${LANE_SUM}
    fn main(index : i32) {
      ${threadRow('queries', d / 4)}
  `;
}

function rowPrograms(sizes: AttentionSizes, rows: number) {
  return {
    dispatchLayout: { x: [0] },
    dispatch: [Math.ceil(rows / ROWS_PER_WORKGROUP), sizes.n, 1] as [number, number, number],
    workgroupSize: [ROWS_PER_WORKGROUP, 1, 1] as [number, number, number],
    uniforms: ATTENTION_UNIFORMS,
  };
}

/**
 * Forward, one thread per query row: the keys and values pass through shared memory a tile at a
 * time, with the softmax kept online (running maximum and sum), so the T x S scores are never
 * stored. Rows are read and kept as vec4s. Output, flat: out [N, T, D], then logsumexp [N, T].
 */
export function attentionForwardProgram(sizes: AttentionSizes): WebGpuProgram {
  const d = sizes.headSize;
  const d4 = d / 4;
  return {
    variableNames: ['q', 'k', 'v'],
    variableComponents: [4, 4, 4],
    outputShape: [sizes.n * sizes.queries * (d + 1)],
    shaderKey: `dalle2js_attention_forward_${d}`,
    ...rowPrograms(sizes, sizes.queries),
    getUserCode: () => `
      ${queryRowOverKeys(d)}
        var query : array<vec4<f32>, ${d4}>;
        var sum : array<vec4<f32>, ${d4}>;
        if (inRange) {
          for (var c = 0; c < ${d4}; c = c + 1) {
            query[c] = q[base + c] * uniforms.scale;
          }
        }
        var runningMax = -3.0e38;
        var runningSum = 0.0;
        ${overTiles(
          'keys',
          ['keyTile', 'valueTile'],
          `
          if (inRange) {
            var scores : array<f32, ${TILE}>;
            var tileMax = -3.0e38;
            for (var j = 0; j < ${TILE}; j = j + 1) {
              var s = -3.0e38;
              if (first + j < uniforms.keys) {
                var dotSum = vec4<f32>(0.0);
                for (var c = 0; c < ${d4}; c = c + 1) {
                  dotSum = dotSum + query[c] * keyTile[j][c];
                }
                s = laneSum(dotSum);
              }
              scores[j] = s;
              tileMax = max(tileMax, s);
            }
            let newMax = max(runningMax, tileMax);
            let correction = exp(runningMax - newMax);
            runningSum = runningSum * correction;
            for (var c = 0; c < ${d4}; c = c + 1) {
              sum[c] = sum[c] * correction;
            }
            for (var j = 0; j < ${TILE}; j = j + 1) {
              if (first + j < uniforms.keys) {
                let p = exp(scores[j] - newMax);
                runningSum = runningSum + p;
                for (var c = 0; c < ${d4}; c = c + 1) {
                  sum[c] = sum[c] + p * valueTile[j][c];
                }
              }
            }
            runningMax = newMax;
          }
        `,
        )}
        if (inRange) {
          for (var c = 0; c < ${d4}; c = c + 1) {
            writeVec4(4 * (base + c), sum[c] / runningSum);
          }
          let outputs = uniforms.batches * uniforms.queries * ${d};
          setOutputAtIndex(outputs + batch * uniforms.queries + row, runningMax + log(runningSum));
        }
      }
    `,
  };
}

/**
 * delta [N, T] = the sum over D of dOut out (the forward's output), for each query row, summed in
 * the same lane order as the dq and dk programs sum dOut v, so that they agree exactly where out = v
 * (a single key).
 */
export function attentionDeltaProgram(sizes: AttentionSizes): WebGpuProgram {
  const d = sizes.headSize;
  const d4 = d / 4;
  return {
    // Not `out`: tfjs declares a uniform `outShape` for the output.
    variableNames: ['dOut', 'attended'],
    variableComponents: [4, 4],
    outputShape: [sizes.n, sizes.queries],
    shaderKey: `dalle2js_attention_delta_${d}`,
    ...rowPrograms(sizes, sizes.queries),
    getUserCode: () => `
      fn main(index : i32) {
        ${threadRow('queries', d4)}
        if (inRange) {
          var total = vec4<f32>(0.0);
          for (var c = 0; c < ${d4}; c = c + 1) {
            total = total + dOut[base + c] * attended[base + c];
          }
          setOutputAtIndex(batch * uniforms.queries + row, total.x + total.y + total.z + total.w);
        }
      }
    `,
  };
}

/** The four lanes of a vec4 written to consecutive output elements from `at`. */
const WRITE_VEC4 = `
  fn writeVec4(at : i32, value : vec4<f32>) {
    setOutputAtIndex(at, value.x);
    setOutputAtIndex(at + 1, value.y);
    setOutputAtIndex(at + 2, value.z);
    setOutputAtIndex(at + 3, value.w);
  }
`;

/** The lanes of a vec4 added up. */
const LANE_SUM = `
  fn laneSum(value : vec4<f32>) -> f32 {
    return value.x + value.y + value.z + value.w;
  }
`;

/**
 * dq, one thread per query row, the keys and values through shared memory: with the probabilities
 * p = exp(q k scale - logsumexp) recomputed, dq = scale * sum over keys of p (dOut v - delta) k.
 */
export function attentionQueryGradProgram(sizes: AttentionSizes): WebGpuProgram {
  const d = sizes.headSize;
  const d4 = d / 4;
  return {
    variableNames: ['dOut', 'q', 'k', 'v', 'logsumexp', 'delta'],
    variableComponents: [4, 4, 4, 4, 1, 1],
    outputShape: [sizes.n, sizes.queries, d],
    shaderKey: `dalle2js_attention_query_grad_${d}`,
    ...rowPrograms(sizes, sizes.queries),
    getUserCode: () => `
      ${queryRowOverKeys(d)}
        var query : array<vec4<f32>, ${d4}>;
        var gradOut : array<vec4<f32>, ${d4}>;
        var grad : array<vec4<f32>, ${d4}>;
        var lse = 0.0;
        var rowDelta = 0.0;
        if (inRange) {
          for (var c = 0; c < ${d4}; c = c + 1) {
            query[c] = q[base + c] * uniforms.scale;
            gradOut[c] = dOut[base + c];
          }
          lse = logsumexp[batch * uniforms.queries + row];
          rowDelta = delta[batch * uniforms.queries + row];
        }
        ${overTiles(
          'keys',
          ['keyTile', 'valueTile'],
          `
          if (inRange) {
            for (var j = 0; j < ${TILE}; j = j + 1) {
              if (first + j < uniforms.keys) {
                var s = vec4<f32>(0.0);
                var dp = vec4<f32>(0.0);
                for (var c = 0; c < ${d4}; c = c + 1) {
                  s = s + query[c] * keyTile[j][c];
                  dp = dp + gradOut[c] * valueTile[j][c];
                }
                let ds = exp(laneSum(s) - lse) * (laneSum(dp) - rowDelta);
                for (var c = 0; c < ${d4}; c = c + 1) {
                  grad[c] = grad[c] + ds * keyTile[j][c];
                }
              }
            }
          }
        `,
        )}
        if (inRange) {
          for (var c = 0; c < ${d4}; c = c + 1) {
            writeVec4(4 * (base + c), grad[c] * uniforms.scale);
          }
        }
      }
    `,
  };
}

/**
 * dk and dv, one thread per key row, the queries, dOut, logsumexp and delta through shared memory:
 * dv = sum over queries of p dOut, dk = scale * sum over queries of p (dOut v - delta) q. Output,
 * flat: dk [N, S, D], then dv [N, S, D].
 */
export function attentionKeyValueGradProgram(sizes: AttentionSizes): WebGpuProgram {
  const d = sizes.headSize;
  const d4 = d / 4;
  return {
    variableNames: ['dOut', 'q', 'k', 'v', 'logsumexp', 'delta'],
    variableComponents: [4, 4, 4, 4, 1, 1],
    outputShape: [2 * sizes.n * sizes.keys * d],
    shaderKey: `dalle2js_attention_key_value_grad_${d}`,
    ...rowPrograms(sizes, sizes.keys),
    getUserCode: () => `
      ${tileCode('queryTile', 'q', d)}
      ${tileCode('gradOutTile', 'dOut', d)}
      ${WRITE_VEC4}
      ${LANE_SUM}
      var<workgroup> lseTile : array<f32, ${TILE}>;
      var<workgroup> deltaTile : array<f32, ${TILE}>;
      fn main(index : i32) {
        ${threadRow('keys', d4)}
        var key : array<vec4<f32>, ${d4}>;
        var value : array<vec4<f32>, ${d4}>;
        var keyGrad : array<vec4<f32>, ${d4}>;
        var valueGrad : array<vec4<f32>, ${d4}>;
        if (inRange) {
          for (var c = 0; c < ${d4}; c = c + 1) {
            key[c] = k[base + c] * uniforms.scale;
            value[c] = v[base + c];
          }
        }
        ${overTiles(
          'queries',
          ['queryTile', 'gradOutTile'],
          `
          if (inRange) {
            for (var i = 0; i < ${TILE}; i = i + 1) {
              if (first + i < uniforms.queries) {
                var s = vec4<f32>(0.0);
                var dp = vec4<f32>(0.0);
                for (var c = 0; c < ${d4}; c = c + 1) {
                  s = s + queryTile[i][c] * key[c];
                  dp = dp + gradOutTile[i][c] * value[c];
                }
                let p = exp(laneSum(s) - lseTile[i]);
                let ds = p * (laneSum(dp) - deltaTile[i]);
                for (var c = 0; c < ${d4}; c = c + 1) {
                  valueGrad[c] = valueGrad[c] + p * gradOutTile[i][c];
                  keyGrad[c] = keyGrad[c] + ds * queryTile[i][c];
                }
              }
            }
          }
        `,
          `
          if (i32(localId.x) < ${TILE}) {
            let i = first + i32(localId.x);
            if (i < uniforms.queries) {
              lseTile[localId.x] = logsumexp[batch * uniforms.queries + i];
              deltaTile[localId.x] = delta[batch * uniforms.queries + i];
            }
          }
        `,
        )}
        if (inRange) {
          let half = uniforms.batches * uniforms.keys * ${d};
          for (var c = 0; c < ${d4}; c = c + 1) {
            writeVec4(4 * (base + c), keyGrad[c] * uniforms.scale);
            writeVec4(half + 4 * (base + c), valueGrad[c]);
          }
        }
      }
    `,
  };
}
