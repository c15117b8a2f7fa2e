import * as tf from '@tensorflow/tfjs-core';
import { boxMuller16 } from './avx2-box-muller.js';
import { MT19937, type MT19937State } from './mt19937.js';
import type { Rng } from './rng.js';

const TWO_POW_24 = 2 ** 24;
const TWO_POW_53 = 2 ** 53;
const MIN_FILL = 16;

/** A JSON-serialisable snapshot of a {@link TorchGenerator}, for checkpoints. */
export interface TorchGeneratorState {
  /** The seed last given to `manualSeed`, as a decimal string (it may exceed 2^53). */
  seed: string;
  mt: MT19937State;
  /** The second Box-Muller sample that PyTorch's scalar normal path keeps for its next call. */
  nextDoubleNormal: number | null;
}

/** Reduces a seed the way PyTorch does: any integer in [-2^63, 2^64), taken modulo 2^64. */
function toSeed(seed: number | bigint): bigint {
  if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
    throw new Error(`seed must be a safe integer or a bigint, got ${seed}`);
  }
  const big = BigInt(seed);
  if (big < -(2n ** 63n) || big >= 2n ** 64n) {
    throw new Error(`seed must lie in [-2^63, 2^64), got ${big}`);
  }
  return BigInt.asUintN(64, big);
}

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

/**
 * PyTorch's CPU random generator: `new TorchGenerator(s).randn(shape)` equals
 * `torch.manual_seed(s); torch.randn(shape)` bit for bit, and `rand` equals `torch.rand`.
 * Calls draw from one stream in order, as with a `torch.Generator`. Float32 tensors of 16 or
 * more elements follow PyTorch's x86-64 (AVX2) kernel; builds without it (e.g. ARM) round a few
 * of those draws differently (by up to about 2e-6).
 */
export class TorchGenerator implements Rng {
  private readonly engine = new MT19937();
  private seed = 0n;
  private nextDoubleNormal: number | null = null;

  constructor(seed: number | bigint) {
    this.manualSeed(seed);
  }

  /** Restarts the stream, like `generator.manual_seed(seed)`; returns `this`. */
  manualSeed(seed: number | bigint): this {
    this.seed = toSeed(seed);
    this.engine.seed(this.seed);
    this.nextDoubleNormal = null;
    return this;
  }

  /** The seed the stream started from, like `generator.initial_seed()`. */
  initialSeed(): bigint {
    return this.seed;
  }

  /** Float32 standard normals in row-major order, like `torch.randn(shape, generator=g)`. */
  randn(shape: readonly number[]): Float32Array {
    const n = numel(shape);
    const out = new Float32Array(n);
    if (n >= MIN_FILL) this.fillNormal(out);
    else for (let i = 0; i < n; i++) out[i] = this.scalarNormal();
    return out;
  }

  /** Float32 uniforms in [0, 1), like `torch.rand(shape, generator=g)`. */
  rand(shape: readonly number[]): Float32Array {
    const out = new Float32Array(numel(shape));
    for (let i = 0; i < out.length; i++) out[i] = this.uniformFloat();
    return out;
  }

  /** `randn(shape)` as a float32 tensor the caller owns. */
  randnTensor(shape: readonly number[]): tf.Tensor {
    return tf.tensor(this.randn(shape), [...shape], 'float32');
  }

  /** `rand(shape)` as a float32 tensor the caller owns. */
  randTensor(shape: readonly number[]): tf.Tensor {
    return tf.tensor(this.rand(shape), [...shape], 'float32');
  }

  normal(n: number): Float32Array {
    return this.randn([n]);
  }

  uniform(n: number): Float32Array {
    return this.rand([n]);
  }

  getState(): TorchGeneratorState {
    return {
      seed: this.seed.toString(),
      mt: this.engine.getState(),
      nextDoubleNormal: this.nextDoubleNormal,
    };
  }

  setState(state: TorchGeneratorState): void {
    this.engine.setState(state.mt);
    this.seed = toSeed(BigInt(state.seed));
    this.nextDoubleNormal = state.nextDoubleNormal;
  }

  /** Like `torch.Generator.clone_state`: a generator at the same point of the same stream. */
  clone(): TorchGenerator {
    const copy = new TorchGenerator(0);
    copy.setState(this.getState());
    return copy;
  }

  private uniformFloat(): number {
    return (this.engine.nextUint32() & 0xffffff) / TWO_POW_24;
  }

  private uniformDouble(): number {
    // random64() = (first draw << 32) | second draw, masked to 53 bits.
    const hi = this.engine.nextUint32() & 0x1fffff;
    const lo = this.engine.nextUint32();
    return (hi * 2 ** 32 + lo) / TWO_POW_53;
  }

  // Tensors of 16 or more elements: all uniforms first, then Box-Muller on blocks of 16; a
  // ragged tail redraws the last 16 uniforms and redoes that block.
  private fillNormal(out: Float32Array): void {
    const n = out.length;
    for (let i = 0; i < n; i++) out[i] = this.uniformFloat();
    for (let i = 0; i + MIN_FILL <= n; i += MIN_FILL) boxMuller16(out, i);
    if (n % MIN_FILL !== 0) {
      const start = n - MIN_FILL;
      for (let i = start; i < n; i++) out[i] = this.uniformFloat();
      boxMuller16(out, start);
    }
  }

  // Smaller tensors: `at::normal_distribution<double>`, which caches its second sample.
  private scalarNormal(): number {
    if (this.nextDoubleNormal !== null) {
      const cached = this.nextDoubleNormal;
      this.nextDoubleNormal = null;
      return cached;
    }
    const u1 = this.uniformDouble();
    const u2 = this.uniformDouble();
    const radius = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = 2 * Math.PI * u1;
    this.nextDoubleNormal = radius * Math.sin(theta);
    return radius * Math.cos(theta);
  }
}
