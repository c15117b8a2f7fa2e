// PyTorch's float32 `randn` on x86-64 (CPU_CAPABILITY_AVX2, also chosen on AVX-512 machines)
// runs Box-Muller on blocks of 16 uniforms with the Cephes-style polynomial log and sincos of
// avx_mathfun.h, compiled with FMA contraction. Reproducing each float32 rounding, including
// where the compiler fused a multiply into an add, gives PyTorch's numbers bit for bit.

const fround = Math.fround;
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** Fused multiply-add in float32: `a * b + c` rounded once (a, b, c float32 values). */
export function fmaf(a: number, b: number, c: number): number {
  const product = a * b; // exact: two 24-bit significands fit in 53 bits
  const sum = product + c;
  const rounded = fround(sum);
  if (rounded === sum) return rounded;
  // The double sum lost `error`; it only matters when `sum` sits exactly halfway between two floats.
  const bv = sum - product;
  const error = product - (sum - bv) + (c - bv);
  if (error === 0) return rounded;
  scratchF32[0] = rounded;
  const bits = scratchU32[0] as number;
  scratchU32[0] = rounded > sum === rounded > 0 ? bits - 1 : bits + 1;
  const neighbour = scratchF32[0] as number;
  if ((rounded + neighbour) / 2 !== sum) return rounded;
  return error > 0 === neighbour > rounded ? neighbour : rounded;
}

const SQRT_HALF = fround(Math.SQRT1_2);
const LOG_POLY = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(fround);
const LOG_Q1 = fround(-2.1219444e-4);
const LOG_Q2 = fround(0.693359375);

/** Natural log of a float32 in (0, 1], as avx_mathfun's `log256_ps` computes it. */
export function logAvx2(x: number): number {
  scratchF32[0] = x;
  const bits = scratchU32[0] as number;
  let exponent = fround((bits >>> 23) - 126);
  scratchU32[0] = (bits & 0x807fffff) | 0x3f000000; // mantissa scaled to [0.5, 1)
  let m = scratchF32[0] as number;
  const small = m < SQRT_HALF;
  const extra = small ? m : 0;
  m = fround(m - 1);
  if (small) exponent = fround(exponent - 1);
  m = fround(m + extra);
  const z = fround(m * m);
  let y = LOG_POLY[0] as number;
  for (let i = 1; i < LOG_POLY.length; i++) y = fmaf(y, m, LOG_POLY[i] as number);
  y = fround(y * m);
  y = fmaf(y, z, fround(exponent * LOG_Q1));
  y = fmaf(-z, 0.5, y);
  return fmaf(exponent, LOG_Q2, fround(m + y));
}

const FOUR_OVER_PI = fround(1.27323954473516);
const DP1 = fround(-0.78515625);
const DP2 = fround(-2.418756484985352e-4);
const DP3 = fround(-3.774894977445941e-8);
const SIN_POLY = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(fround);
const COS_POLY = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(fround);

/** Sine and cosine of a float32 angle in [0, 2 pi), as avx_mathfun's `sincos256_ps` computes them. */
export function sincosAvx2(x: number, out: [number, number]): void {
  let octant = Math.trunc(fround(x * FOUR_OVER_PI));
  octant = (octant + 1) & ~1;
  // Cody-Waite reduction of x by octant * pi / 4 in three float32 parts.
  let r = fmaf(octant, DP1, x);
  r = fmaf(octant, DP2, r);
  r = fmaf(octant, DP3, r);
  const z = fround(r * r);

  let cosPoly = COS_POLY[0] as number;
  cosPoly = fmaf(cosPoly, z, COS_POLY[1] as number);
  cosPoly = fmaf(cosPoly, z, COS_POLY[2] as number);
  cosPoly = fround(cosPoly * z);
  cosPoly = fmaf(cosPoly, z, -fround(z * 0.5));
  cosPoly = fround(cosPoly + 1);

  let sinPoly = SIN_POLY[0] as number;
  sinPoly = fmaf(sinPoly, z, SIN_POLY[1] as number);
  sinPoly = fmaf(sinPoly, z, SIN_POLY[2] as number);
  sinPoly = fround(sinPoly * z);
  sinPoly = fmaf(sinPoly, r, r);

  const swap = (octant & 2) !== 0;
  const sin = swap ? cosPoly : sinPoly;
  const cos = swap ? sinPoly : cosPoly;
  out[0] = (octant & 4) !== 0 ? -sin : sin;
  out[1] = ((octant - 2) & 4) === 0 ? -cos : cos;
}

const TWO_PI = fround(2 * Math.PI);
const sincos: [number, number] = [0, 0];

/**
 * In place, turns 16 uniforms `data[offset .. offset + 16)` into 16 standard normals: the
 * first 8 give the radii, the last 8 the angles.
 */
export function boxMuller16(data: Float32Array, offset: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = fround(1 - (data[offset + j] as number));
    const u2 = data[offset + j + 8] as number;
    const radius = fround(Math.sqrt(fround(-2 * logAvx2(u1))));
    sincosAvx2(fround(TWO_PI * u2), sincos);
    data[offset + j] = radius * sincos[1];
    data[offset + j + 8] = radius * sincos[0];
  }
}
