import { defineConfig, type Options } from 'tsup';

const shared: Options = {
  sourcemap: true,
  target: 'es2022',
  // The CLI imports the built workspace packages, which bundle tfjs-core's gradients for plain Node.
  external: [/^@tensorflow\//, /^@dalle2js\//],
};

export default defineConfig([
  { ...shared, entry: { index: 'src/index.ts' }, format: ['esm', 'cjs'], dts: true, clean: true },
  {
    ...shared,
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    platform: 'node',
    banner: { js: '#!/usr/bin/env node' },
  },
]);
