import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'es2022',
    external: [/^@tensorflow\//, /^@dalle2js\//],
  },
  {
    // Runnable scripts: they import the built packages (this one included), so plain Node runs them.
    entry: ['scripts/train-shapes.ts'],
    outDir: 'scripts/dist',
    format: ['esm'],
    clean: true,
    sourcemap: true,
    target: 'es2022',
    platform: 'node',
    external: [/^@tensorflow\//, /^@dalle2js\//],
  },
]);
