export interface AdamWReferenceOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** PyTorch's single-tensor AdamW, in float64: the parameter and its moments after one step per entry of `grads`. */
export function referenceAdamW(
  param: ArrayLike<number>,
  grads: ArrayLike<number>[],
  o: AdamWReferenceOptions,
): { param: number[]; expAvg: number[]; expAvgSq: number[] } {
  const p = Array.from(param);
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, s) => {
    const step = s + 1;
    const stepSize = o.lr / (1 - o.beta1 ** step);
    const bc2Sqrt = Math.sqrt(1 - o.beta2 ** step);
    for (let i = 0; i < p.length; i++) {
      const gi = g[i]!;
      p[i] = p[i]! * (1 - o.lr * o.weightDecay);
      m[i] = o.beta1 * m[i]! + (1 - o.beta1) * gi;
      v[i] = o.beta2 * v[i]! + (1 - o.beta2) * gi * gi;
      p[i] = p[i]! - (stepSize * m[i]!) / (Math.sqrt(v[i]!) / bc2Sqrt + o.eps);
    }
  });
  return { param: p, expAvg: m, expAvgSq: v };
}
