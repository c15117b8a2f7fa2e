import { TorchGenerator } from './torch-generator.js';

/** PyTorch's seed for its default CPU generator before any `torch.manual_seed`. */
const TORCH_DEFAULT_SEED = 67280421310721n;

let globalGenerator: TorchGenerator | undefined;

/** The process-wide generator, like `torch.default_generator`. */
export function defaultGenerator(): TorchGenerator {
  globalGenerator ??= new TorchGenerator(TORCH_DEFAULT_SEED);
  return globalGenerator;
}

/** Reseeds the process-wide generator, like `torch.manual_seed(seed)`, and returns it. */
export function manualSeed(seed: number | bigint): TorchGenerator {
  return defaultGenerator().manualSeed(seed);
}
