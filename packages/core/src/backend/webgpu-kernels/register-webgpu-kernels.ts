import { registerAttentionOnWebGpu } from './attention-webgpu.js';
import { overrideBatchMatMulOnWebGpu, registerLinearOnWebGpu } from './batch-matmul-webgpu.js';
import { overrideConv2dFilterGradOnWebGpu } from './conv2d-filter-grad-webgpu.js';
import { overrideConv2dInputGradOnWebGpu } from './conv2d-input-grad-webgpu.js';
import { overrideConv2dOnWebGpu } from './conv2d-webgpu.js';
import { registerGroupNormOnWebGpu } from './group-norm-webgpu.js';
import { registerHeadsMatMulOnWebGpu } from './heads-matmul-webgpu.js';
import { overrideLeadingSumOnWebGpu } from './leading-sum-webgpu.js';
import { registerOptimizerKernelsOnWebGpu } from './optimizer-webgpu.js';
import { registerScaledSoftmaxOnWebGpu } from './scaled-softmax-webgpu.js';

/**
 * Our webgpu kernels: GroupNorm's, attention's, the scaled softmax, the heads matMul, the
 * optimizer's, a linear layer's and a conv2d with a residual (by their own names, so any time)
 * and conv2d with its filter and input gradients, BatchMatMul and Sum (replacing
 * tfjs-backend-webgpu's, so only once that package has registered its kernels: call again after
 * importing it). Safe to call again.
 */
export function registerWebGpuKernels(): void {
  registerGroupNormOnWebGpu();
  registerAttentionOnWebGpu();
  registerOptimizerKernelsOnWebGpu();
  registerScaledSoftmaxOnWebGpu();
  registerHeadsMatMulOnWebGpu();
  overrideConv2dOnWebGpu();
  overrideConv2dFilterGradOnWebGpu();
  overrideConv2dInputGradOnWebGpu();
  overrideBatchMatMulOnWebGpu();
  registerLinearOnWebGpu();
  overrideLeadingSumOnWebGpu();
}
