/**
 * Which examples each step draws: epoch after epoch, every example once per epoch, in an order
 * shuffled from (seed, epoch). A batch that runs past the end of an epoch takes the rest from the
 * next one. The order is a pure function of the step, so a resumed run draws what an uninterrupted
 * one would have.
 */
export class BatchOrder {
  private epoch = -1;
  private permutation: Uint32Array = new Uint32Array(0);

  constructor(
    readonly count: number,
    readonly batchSize: number,
    readonly seed: number,
  ) {
    if (!Number.isSafeInteger(count) || count < 1)
      throw new Error(`BatchOrder: count must be a positive integer, got ${count}`);
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new Error(`BatchOrder: batchSize must be a positive integer, got ${batchSize}`);
    }
  }

  /** The example indices of step `step` (0-based). */
  indices(step: number): number[] {
    if (!Number.isSafeInteger(step) || step < 0)
      throw new Error(`BatchOrder: step must be a non-negative integer, got ${step}`);
    const out: number[] = [];
    for (let i = step * this.batchSize; i < (step + 1) * this.batchSize; i++) {
      out.push(this.epochOrder(Math.floor(i / this.count))[i % this.count]!);
    }
    return out;
  }

  private epochOrder(epoch: number): Uint32Array {
    if (epoch !== this.epoch) {
      this.permutation = shuffled(
        this.count,
        mulberry32(Math.imul(this.seed, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)),
      );
      this.epoch = epoch;
    }
    return this.permutation;
  }
}

/** 0..n-1 in a Fisher-Yates order. */
function shuffled(n: number, random: () => number): Uint32Array {
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const held = order[i]!;
    order[i] = order[j]!;
    order[j] = held;
  }
  return order;
}

/** A small seeded generator of doubles in [0, 1); good enough to shuffle, and the same everywhere. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
