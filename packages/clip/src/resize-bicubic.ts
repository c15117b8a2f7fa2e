/**
 * Bicubic resampling as Pillow does it (`Image.resize(size, Image.BICUBIC)`, which is what
 * Hugging Face's `CLIPImageProcessor` calls):
 * - the kernel is Keys' cubic with a = -0.5, support 2;
 * - when downscaling by a factor s > 1 the kernel is stretched to support 2s and its argument
 *   divided by s (antialiasing); upscaling uses the plain kernel;
 * - output pixel i is centred at (i + 0.5) * inSize / outSize in input coordinates; taps outside
 *   the image are dropped and the remaining weights renormalised to sum to 1;
 * - the two axes are separable: width first, then height.
 * For 8-bit images Pillow also rounds the weights to 22-bit fixed point and rounds and clamps to
 * 0..255 after each pass; {@link resizeBicubicUint8} does the same and so matches Pillow exactly.
 */

/** Keys' cubic convolution kernel with a = -0.5, as in Pillow. */
export function bicubicKernel(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

/** For each output index: the first input index it reads and the normalised weights of its taps. */
export interface ResampleTaps {
  readonly start: number;
  readonly weights: Float64Array;
}

/** Pillow's `precompute_coeffs` for the bicubic filter over the whole axis. */
export function bicubicTaps(inSize: number, outSize: number): ResampleTaps[] {
  if (!Number.isInteger(inSize) || inSize < 1 || !Number.isInteger(outSize) || outSize < 1) {
    throw new Error(`bicubicTaps: sizes must be positive integers, got ${inSize} -> ${outSize}`);
  }
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const taps: ResampleTaps[] = [];
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    // Pillow truncates toward zero, then clamps.
    const start = Math.max(Math.trunc(center - support + 0.5), 0);
    const end = Math.min(Math.trunc(center + support + 0.5), inSize);
    const weights = new Float64Array(end - start);
    let total = 0;
    for (let x = start; x < end; x++) {
      const w = bicubicKernel((x - center + 0.5) / filterScale);
      weights[x - start] = w;
      total += w;
    }
    if (total !== 0) for (let k = 0; k < weights.length; k++) weights[k] = (weights[k] as number) / total;
    taps.push({ start, weights });
  }
  return taps;
}

/** The resampling as a dense matrix [outSize, inSize] (rows `rows` only, when given), for tensor inputs. */
export function bicubicMatrix(inSize: number, outSize: number, rows?: readonly number[]): Float32Array {
  const taps = bicubicTaps(inSize, outSize);
  const picked = rows ?? taps.map((_, i) => i);
  const matrix = new Float32Array(picked.length * inSize);
  picked.forEach((row, r) => {
    const tap = taps[row];
    if (tap === undefined) throw new RangeError(`bicubicMatrix: row ${row} outside [0, ${outSize})`);
    tap.weights.forEach((w, k) => {
      matrix[r * inSize + tap.start + k] = w;
    });
  });
  return matrix;
}

/** An 8-bit image, row-major [height, width, channels]. */
export interface Uint8Image {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Uint8Array;
}

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;

/** Pillow's bicubic resize of an 8-bit image, bit for bit (fixed-point weights, rounding after each pass). */
export function resizeBicubicUint8(image: Uint8Image, width: number, height: number): Uint8Image {
  let out = image;
  if (width !== image.width) out = resamplePass(out, width, 'horizontal');
  if (height !== image.height) out = resamplePass(out, height, 'vertical');
  return out;
}

function resamplePass(image: Uint8Image, outSize: number, axis: 'horizontal' | 'vertical'): Uint8Image {
  const { width, height, channels: c, data } = image;
  const horizontal = axis === 'horizontal';
  const taps = bicubicTaps(horizontal ? width : height, outSize).map(({ start, weights }) => ({
    start,
    // Pillow rounds half away from zero.
    weights: Int32Array.from(weights, (w) => Math.trunc(w < 0 ? w * ONE - 0.5 : w * ONE + 0.5)),
  }));
  const outWidth = horizontal ? outSize : width;
  const outHeight = horizontal ? height : outSize;
  const result = new Uint8Array(outWidth * outHeight * c);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const { start, weights } = taps[horizontal ? x : y] as { start: number; weights: Int32Array };
      for (let ch = 0; ch < c; ch++) {
        let sum = ONE / 2;
        for (let k = 0; k < weights.length; k++) {
          const source = horizontal ? (y * width + start + k) * c + ch : ((start + k) * width + x) * c + ch;
          sum += (data[source] as number) * (weights[k] as number);
        }
        result[(y * outWidth + x) * c + ch] = Math.min(255, Math.max(0, Math.floor(sum / ONE)));
      }
    }
  }
  return { width: outWidth, height: outHeight, channels: c, data: result };
}
