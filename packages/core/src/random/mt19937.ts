const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** A snapshot of an {@link MT19937}: the 624 words and the read position. */
export interface MT19937State {
  state: number[];
  index: number;
}

/**
 * The 32-bit Mersenne Twister, seeded like `std::mt19937(seed)` (and like PyTorch's
 * `at::mt19937`, which keeps only the low 32 bits of a 64-bit seed).
 */
export class MT19937 {
  private readonly mt = new Uint32Array(N);
  private index = N;

  constructor(seed: number | bigint = 5489) {
    this.seed(seed);
  }

  seed(seed: number | bigint): void {
    const mt = this.mt;
    mt[0] = Number(BigInt.asUintN(32, BigInt(seed)));
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] as number;
      mt[i] = Math.imul(1812433253, (prev ^ (prev >>> 30)) >>> 0) + i;
    }
    this.index = N;
  }

  /** The next 32-bit output as a non-negative integer. */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++] as number;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  getState(): MT19937State {
    return { state: Array.from(this.mt), index: this.index };
  }

  setState(state: MT19937State): void {
    if (state.state.length !== N || !(state.index >= 0 && state.index <= N)) {
      throw new Error(`MT19937 state needs ${N} words and an index in [0, ${N}]`);
    }
    this.mt.set(state.state);
    this.index = state.index;
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < N; i++) {
      const y = ((mt[i] as number) & UPPER_MASK) | ((mt[(i + 1) % N] as number) & LOWER_MASK);
      let next = (mt[(i + M) % N] as number) ^ (y >>> 1);
      if (y & 1) next ^= MATRIX_A;
      mt[i] = next;
    }
    this.index = 0;
  }
}
