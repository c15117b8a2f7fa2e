import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { main: 'src/main.ts', 'cpu-overhead': 'src/cpu-overhead.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'es2022',
  sourcemap: true,
  clean: true,
  // Runs on the built workspace packages, which bundle tfjs-core's gradients for plain Node.
  external: [/^@tensorflow\//, /^@dalle2js\//, 'webgpu'],
});
