import { defaultOptimizerConfig, type OptimizerConfig } from './module-trainer.js';

/** The components `dalle2 train` trains. */
export type TrainKind = 'clip' | 'prior' | 'decoder';
export const TRAIN_KINDS: readonly TrainKind[] = ['clip', 'prior', 'decoder'];

export type DataSource = 'shapes' | 'emoji' | 'folder';
export const DATA_SOURCES: readonly DataSource[] = ['shapes', 'emoji', 'folder'];

/** Where the (caption, image) pairs come from. */
export interface DataConfig {
  source: DataSource;
  /** shapes: examples drawn. Default 2000. */
  count: number;
  /** shapes: 'train' (no held-out pairs), 'heldout' or 'all'. Default 'train'. */
  split: 'train' | 'heldout' | 'all';
  /** shapes: the data set's seed. Default 0. */
  seed: number;
  /** folder: the folder of images with captions; emoji: the emoji-datasource-google folder (default: the installed package). */
  path: string | null;
  /** emoji: include the skin-tone variants. Default true. */
  skinTones: boolean;
  /** Use at most this many examples (null = all). Default null. */
  limit: number | null;
}

/** A `dalle2 train` config file, validated once by `resolveTrainConfig`. Paths are relative to the file. */
export interface TrainConfig extends OptimizerConfig {
  /** The pipeline folder the component is read from and written to (made if missing). */
  model: string;
  /** The run folder: checkpoint.safetensors, log.jsonl, loss.svg, samples/. */
  out: string;
  data: DataConfig;
  /** Optimizer steps to reach (a resumed run continues up to this). */
  steps: number;
  /** Default 16. */
  batchSize: number;
  /** Steps between checkpoints (the last step always saves). Default 100. */
  checkpointEvery: number;
  /** Steps between samples (0 = only at the end). Default 0. */
  sampleEvery: number;
  /** Continue from out/checkpoint.safetensors when it exists. Default true. */
  resume: boolean;
  /** For a new CLIP: its config (Hugging Face field names) and the BPE vocabulary size learned from the captions. */
  clip: Record<string, unknown> & { vocabSize?: number };
  /** For a new prior: its config; the network's sizes default to the CLIP's. */
  prior: Record<string, unknown>;
  /** Decoder training draws timesteps as floor(T * u^timestepPower): below 1 favours high noise. Default 1. */
  timestepPower: number;
  /** For a new decoder stage: its config; `stage` (default 0) is its place in the cascade. */
  decoder: Record<string, unknown> & { stage?: number };
}

export const defaultDataConfig: Readonly<DataConfig> = Object.freeze({
  source: 'shapes',
  count: 2000,
  split: 'train',
  seed: 0,
  path: null,
  skinTones: true,
  limit: null,
});

const DEFAULTS: Omit<TrainConfig, 'model' | 'out' | 'steps' | 'data'> = {
  ...defaultOptimizerConfig,
  batchSize: 16,
  checkpointEvery: 100,
  sampleEvery: 0,
  resume: true,
  timestepPower: 1,
  clip: {},
  prior: {},
  decoder: {},
};

const FIELDS = ['model', 'out', 'data', 'steps', ...Object.keys(DEFAULTS)];
const DATA_FIELDS = Object.keys(defaultDataConfig);

/** Fills in the defaults and checks every field; errors name the file, the field and the valid values. */
export function resolveTrainConfig(
  json: unknown,
  file: string,
  baseDir: string,
  join: (...p: string[]) => string,
): TrainConfig {
  const fail = (field: string, rule: string, ...value: unknown[]): never => {
    const got = value.length > 0 ? `, got ${JSON.stringify(value[0]) ?? 'nothing'}` : '';
    throw new Error(`${file}: field "${field}" ${rule}${got}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    fail('(root)', 'must be a JSON object');
  const input = json as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!FIELDS.includes(key)) fail(key, `is not a known field; valid: ${FIELDS.join(', ')}`);
  }
  const c = { ...DEFAULTS, ...input } as Record<string, unknown>;
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  const string = (field: string) => {
    if (typeof c[field] !== 'string' || c[field] === '')
      fail(field, 'must be a non-empty string (a folder path)', c[field]);
    return join(baseDir, c[field] as string);
  };
  const integer = (field: string, min: number, value = c[field]) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      fail(field, `must be an integer >= ${min}`, value);
    }
    return value as number;
  };
  const positive = (field: string) => {
    if (typeof c[field] !== 'number' || !(Number(c[field]) > 0) || !Number.isFinite(c[field])) {
      fail(field, 'must be a positive number', c[field]);
    }
    return c[field] as number;
  };
  if (input.steps === undefined) fail('steps', 'is required: the number of optimizer steps');
  const steps = integer('steps', 1);
  const betas = c.betas;
  if (
    !Array.isArray(betas) ||
    betas.length !== 2 ||
    !betas.every((b) => typeof b === 'number' && b >= 0 && b < 1)
  ) {
    fail('betas', 'must be two numbers in [0, 1)', betas);
  }
  if (typeof c.weightDecay !== 'number' || !(c.weightDecay >= 0))
    fail('weightDecay', 'must be a number >= 0', c.weightDecay);
  if (typeof c.emaDecay !== 'number' || !(c.emaDecay >= 0 && c.emaDecay <= 1))
    fail('emaDecay', 'must be in [0, 1]', c.emaDecay);
  if (c.maxGradNorm !== null && (typeof c.maxGradNorm !== 'number' || !(c.maxGradNorm > 0))) {
    fail('maxGradNorm', 'must be a positive number or null', c.maxGradNorm);
  }
  const warmupSteps = integer('warmupSteps', 0);
  if (c.totalSteps !== null) integer('totalSteps', Math.max(1, warmupSteps));
  if (typeof c.resume !== 'boolean') fail('resume', 'must be true or false', c.resume);
  for (const field of ['clip', 'prior', 'decoder']) {
    if (!isObject(c[field])) fail(field, 'must be an object (the component config)', c[field]);
  }
  if (!isObject(input.data))
    fail('data', `must be an object with "source": one of ${DATA_SOURCES.join(', ')}`, input.data);
  const dataInput = input.data as Record<string, unknown>;
  for (const key of Object.keys(dataInput)) {
    if (!DATA_FIELDS.includes(key))
      fail(`data.${key}`, `is not a known field; valid: ${DATA_FIELDS.join(', ')}`);
  }
  const data = { ...defaultDataConfig, ...dataInput } as Record<string, unknown>;
  if (!DATA_SOURCES.includes(data.source as DataSource)) {
    fail('data.source', `must be one of ${DATA_SOURCES.join(', ')}`, data.source);
  }
  integer('data.count', 1, data.count);
  integer('data.seed', 0, data.seed);
  if (!['train', 'heldout', 'all'].includes(data.split as string))
    fail('data.split', 'must be one of train, heldout, all', data.split);
  if (typeof data.skinTones !== 'boolean') fail('data.skinTones', 'must be true or false', data.skinTones);
  if (data.limit !== null) integer('data.limit', 1, data.limit);
  if (data.path !== null && (typeof data.path !== 'string' || data.path === ''))
    fail('data.path', 'must be a folder path', data.path);
  if (data.source === 'folder' && data.path === null) fail('data.path', 'is required for "source": "folder"');
  if (typeof data.path === 'string') data.path = join(baseDir, data.path);
  return {
    ...(c as unknown as TrainConfig),
    model: string('model'),
    out: string('out'),
    steps,
    lr: positive('lr'),
    timestepPower: positive('timestepPower'),
    batchSize: integer('batchSize', 1),
    checkpointEvery: integer('checkpointEvery', 1),
    sampleEvery: integer('sampleEvery', 0),
    seed: integer('seed', 0),
    warmupSteps,
    data: data as unknown as DataConfig,
  };
}
