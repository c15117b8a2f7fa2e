import * as tf from '@tensorflow/tfjs-core';
import type { Suite } from './suite.js';

const N = 1024;

/** A plain 1024^3 matMul: what the backend reaches on the best-shaped product, the yardstick for the rest. */
export const matMulSuite: Suite = {
  name: 'matmul',
  description: `one ${N}x${N} by ${N}x${N} matMul, the best case of each backend`,
  measurements: [
    {
      name: `matMul ${N}x${N}x${N}`,
      backends: ['wasm', 'cpu', 'webgpu'],
      batch: 1,
      reps: { wasm: 5, cpu: 1, webgpu: 5 },
      flops: 2 * N ** 3,
      prepare() {
        const [a, b] = tf.tidy(() => [
          tf.randomNormal([N, N], 0, 1, 'float32', 1),
          tf.randomNormal([N, N], 0, 1, 'float32', 2),
        ]);
        return {
          step: async () => {
            const c = tf.matMul(a!, b!);
            await c.data();
            c.dispose();
          },
          dispose: () => tf.dispose([a!, b!]),
        };
      },
    },
  ],
};
