export type { DiffusionPriorNetworkConfig, DiffusionPriorNetworkInputs } from './diffusion-prior-network.js';
export {
  DiffusionPriorNetwork,
  defaultDiffusionPriorNetworkConfig,
  resolveDiffusionPriorNetworkConfig,
} from './diffusion-prior-network.js';
