// @ts-check
import { fileURLToPath } from 'node:url';
import { generateTests, tinyModelFolder } from '@dalle2js/example-support/test-helpers';

const SCRIPT = fileURLToPath(new URL('../src/generate.mjs', import.meta.url));

const folder = tinyModelFolder('node-cpu', 'cpu');
generateTests({ name: 'node-cpu', script: SCRIPT, folder, backendLine: /^backend: cpu$/m });
