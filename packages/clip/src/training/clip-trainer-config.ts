/**
 * How {@link CLIPTrainer} trains: plain JSON, stored in every checkpoint. Defaults follow OpenAI
 * CLIP's recipe where it applies to small models (AdamW betas 0.9/0.98, eps 1e-6, decay 0.1 on
 * matrices only, linear warm-up then cosine decay), with gradient clipping at 1.
 */
export interface CLIPTrainerConfig {
  /** Pairs per step; each pair's other batch members are its negatives. Default 128. */
  batchSize: number;
  /** Optimizer steps in the whole run; the cosine reaches `minLearningRate` here. Default 1000. */
  steps: number;
  /** Peak learning rate, reached after the warm-up. Default 1e-3. */
  learningRate: number;
  /** Learning rate at the end of the cosine. Default 0. */
  minLearningRate: number;
  /** Steps of linear warm-up from 0. Default 100. */
  warmupSteps: number;
  /** Decoupled weight decay on parameters of rank 2 and more (none on biases, norms, scalars). Default 0.1. */
  weightDecay: number;
  /** AdamW betas. Default [0.9, 0.98]. */
  betas: [number, number];
  /** AdamW epsilon. Default 1e-6. */
  eps: number;
  /** Clip the global gradient norm to this; 0 turns clipping off. Default 1. */
  maxGradNorm: number;
  /** Seeds the order in which pairs are drawn. Default 0. */
  seed: number;
}

export const DEFAULT_CLIP_TRAINER_CONFIG: Readonly<CLIPTrainerConfig> = {
  batchSize: 128,
  steps: 1000,
  learningRate: 1e-3,
  minLearningRate: 0,
  warmupSteps: 100,
  weightDecay: 0.1,
  betas: [0.9, 0.98],
  eps: 1e-6,
  maxGradNorm: 1,
  seed: 0,
};

const KEYS = Object.keys(DEFAULT_CLIP_TRAINER_CONFIG) as (keyof CLIPTrainerConfig)[];

/** Fills in defaults and validates once; errors name the field, the value and what is valid. */
export function resolveCLIPTrainerConfig(input: Partial<CLIPTrainerConfig> = {}): CLIPTrainerConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError(`CLIPTrainer config must be an object, got ${describe(input)}`);
  }
  const unknown = Object.keys(input).filter((key) => !(KEYS as string[]).includes(key));
  if (unknown.length > 0) {
    throw new Error(`CLIPTrainer config: unknown field(s) ${unknown.join(', ')}; valid: ${KEYS.join(', ')}`);
  }
  const config: CLIPTrainerConfig = {
    ...DEFAULT_CLIP_TRAINER_CONFIG,
    ...input,
    betas: [...(input.betas ?? DEFAULT_CLIP_TRAINER_CONFIG.betas)] as [number, number],
  };
  integer('batchSize', config.batchSize, 2);
  integer('steps', config.steps, 1);
  integer('warmupSteps', config.warmupSteps, 0);
  integer('seed', config.seed, 0);
  if (config.warmupSteps > config.steps) {
    throw new Error(`CLIPTrainer config: warmupSteps ${config.warmupSteps} exceeds steps ${config.steps}`);
  }
  nonNegative('learningRate', config.learningRate);
  nonNegative('minLearningRate', config.minLearningRate);
  if (config.minLearningRate > config.learningRate) {
    throw new Error(
      `CLIPTrainer config: minLearningRate ${config.minLearningRate} must be at most learningRate ${config.learningRate}`,
    );
  }
  nonNegative('weightDecay', config.weightDecay);
  nonNegative('maxGradNorm', config.maxGradNorm);
  if (!(config.eps > 0))
    throw new Error(`CLIPTrainer config: eps must be positive, got ${describe(config.eps)}`);
  const betas = config.betas as unknown;
  if (
    !Array.isArray(betas) ||
    betas.length !== 2 ||
    !betas.every((b) => typeof b === 'number' && b >= 0 && b < 1)
  ) {
    throw new Error(`CLIPTrainer config: betas must be two numbers in [0, 1), got ${JSON.stringify(betas)}`);
  }
  return config;
}

function integer(field: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new Error(`CLIPTrainer config: ${field} must be an integer >= ${min}, got ${describe(value)}`);
  }
}

function nonNegative(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`CLIPTrainer config: ${field} must be a finite number >= 0, got ${describe(value)}`);
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
