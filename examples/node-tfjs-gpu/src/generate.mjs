#!/usr/bin/env node
// @ts-check
// Text to images on libtensorflow through tfjs-node: @tensorflow/tfjs-node-gpu (CUDA) by default,
// @tensorflow/tfjs-node (CPU) with DALLE2_BACKEND=tensorflow. Neither is a dependency of this
// example, since their install scripts download libtensorflow: add the one you want (README).
// core's selectBackend imports it on demand and names the package when it is missing.
import { selectBackend } from '@dalle2js/core';
import { runGenerate } from '@dalle2js/example-support/run-generate';

const BACKENDS = ['tensorflow-gpu', 'tensorflow'];
const backend = process.env.DALLE2_BACKEND || 'tensorflow-gpu';

process.exitCode = await runGenerate(
  {
    name: 'node-tfjs-gpu',
    backend: `tfjs-node's ${backend} backend`,
    startBackend: async () => {
      if (!BACKENDS.includes(backend)) {
        throw new Error(`DALLE2_BACKEND must be ${BACKENDS.join(' or ')} here, got '${backend}'`);
      }
      return selectBackend(backend);
    },
  },
  process.argv.slice(2),
);
