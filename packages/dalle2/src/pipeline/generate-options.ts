/** How the prior and the decoders sample. */
export type Dalle2Sampler = 'ddpm' | 'ddim';
export const DALLE2_SAMPLERS: readonly Dalle2Sampler[] = ['ddpm', 'ddim'];

/** A stage of generation, as `onProgress` names it: `prior`, then `decoder 0`, `decoder 1`, ... */
export type Dalle2Stage = 'prior' | `decoder ${number}`;

/** Options of `Dalle2.generate` and `Dalle2.variations`; every field is optional. */
export interface GenerateOptions {
  /** Images per prompt (per input image for variations). Default 1. */
  imagesPerPrompt?: number;
  /** Seed of the `TorchGenerator` that draws all noise: the same seed gives the same images. Default: core's global generator. */
  seed?: number | bigint;
  /** Prior denoising steps. Default: the prior's own (all of them for DDPM). */
  priorSteps?: number;
  /** Decoder denoising steps, one number for every stage or one per stage. Default: each decoder's own. */
  decoderSteps?: number | readonly number[];
  /** Classifier-free guidance of the prior. Default: the pipeline's `sampling`, else 4 (as diffusers' unCLIP pipeline). */
  priorGuidance?: number;
  /** Classifier-free guidance of the decoders. Default: the pipeline's `sampling`, else 8 (as diffusers' unCLIP pipeline). */
  decoderGuidance?: number;
  /** Default 'ddim'. */
  sampler?: Dalle2Sampler;
  /** Called after each denoising step of each stage. */
  onProgress?: (stage: Dalle2Stage, step: number, total: number) => void;
  /** Aborting rejects with the signal's reason at the next step; no tensor leaks. */
  signal?: AbortSignal;
}

/**
 * Guidance a pipeline folder recommends for its models (`sampling` in its config.json): small,
 * briefly trained models often draw best with less guidance than the defaults 4 and 8.
 */
export interface SamplingDefaults {
  priorGuidance?: number;
  decoderGuidance?: number;
}

export const SAMPLING_DEFAULT_KEYS: readonly (keyof SamplingDefaults)[] = [
  'priorGuidance',
  'decoderGuidance',
];

/** Throws for keys other than `SAMPLING_DEFAULT_KEYS` and for values the options themselves would refuse. */
export function checkSamplingDefaults(defaults: unknown): SamplingDefaults {
  if (typeof defaults !== 'object' || defaults === null || Array.isArray(defaults)) {
    throw new Error(`sampling defaults must be an object, got ${JSON.stringify(defaults)}`);
  }
  for (const key of Object.keys(defaults)) {
    if (!(SAMPLING_DEFAULT_KEYS as readonly string[]).includes(key)) {
      throw new Error(`unknown sampling default "${key}"; valid: ${SAMPLING_DEFAULT_KEYS.join(', ')}`);
    }
  }
  resolveGenerateOptions(defaults as SamplingDefaults, 1);
  return defaults as SamplingDefaults;
}

/** `options` with each of `defaults` filled in where the option is missing or undefined. */
export function withSamplingDefaults(options: GenerateOptions, defaults: SamplingDefaults): GenerateOptions {
  const filled: GenerateOptions = { ...options };
  for (const key of SAMPLING_DEFAULT_KEYS) {
    if (filled[key] === undefined && defaults[key] !== undefined) filled[key] = defaults[key];
  }
  return filled;
}

export interface ResolvedGenerateOptions {
  imagesPerPrompt: number;
  seed: number | bigint | undefined;
  priorSteps: number | undefined;
  decoderSteps: (number | undefined)[];
  priorGuidance: number;
  decoderGuidance: number;
  sampler: Dalle2Sampler;
  onProgress: GenerateOptions['onProgress'];
  signal: AbortSignal | undefined;
}

const KNOWN: readonly string[] = [
  'imagesPerPrompt',
  'seed',
  'priorSteps',
  'decoderSteps',
  'priorGuidance',
  'decoderGuidance',
  'sampler',
  'onProgress',
  'signal',
];

/** Checks every option once; each error names the option and what it must be. */
export function resolveGenerateOptions(options: GenerateOptions, stages: number): ResolvedGenerateOptions {
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) throw new Error(`unknown option "${key}"; valid: ${KNOWN.join(', ')}`);
  }
  const positiveInteger = (name: string, value: unknown): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new Error(`${name} must be a positive integer, got ${String(value)}`);
    }
    return value;
  };
  const guidance = (name: string, value: unknown): number => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`${name} must be a finite number >= 0, got ${String(value)}`);
    }
    return value;
  };
  const { seed } = options;
  if (seed !== undefined) {
    const valid =
      (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0) ||
      (typeof seed === 'bigint' && seed >= 0n && seed < 2n ** 64n);
    if (!valid) throw new Error(`seed must be a non-negative integer below 2^64, got ${String(seed)}`);
  }
  const sampler = options.sampler ?? 'ddim';
  if (!DALLE2_SAMPLERS.includes(sampler)) {
    throw new Error(`sampler must be one of ${DALLE2_SAMPLERS.join(', ')}, got "${String(sampler)}"`);
  }
  const steps = options.decoderSteps;
  let decoderSteps: (number | undefined)[];
  if (steps === undefined) decoderSteps = Array(stages).fill(undefined);
  else if (typeof steps === 'number')
    decoderSteps = Array(stages).fill(positiveInteger('decoderSteps', steps));
  else {
    if (!Array.isArray(steps) || steps.length !== stages) {
      throw new Error(
        `decoderSteps must be one number or one per decoder (${stages}), got ${JSON.stringify(steps)}`,
      );
    }
    decoderSteps = steps.map((n, i) => positiveInteger(`decoderSteps[${i}]`, n));
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new Error('onProgress must be a function');
  }
  return {
    imagesPerPrompt: positiveInteger('imagesPerPrompt', options.imagesPerPrompt ?? 1),
    seed,
    priorSteps:
      options.priorSteps === undefined ? undefined : positiveInteger('priorSteps', options.priorSteps),
    decoderSteps,
    priorGuidance: guidance('priorGuidance', options.priorGuidance ?? 4),
    decoderGuidance: guidance('decoderGuidance', options.decoderGuidance ?? 8),
    sampler,
    onProgress: options.onProgress,
    signal: options.signal,
  };
}
