import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.shared.js';

export default defineConfig([
  libraryBuild(),
  libraryBuild({
    // Runnable scripts: they import the built packages (this one included), so plain Node runs them.
    entry: ['scripts/train-shapes.ts'],
    outDir: 'scripts/dist',
    format: ['esm'],
    dts: false,
    platform: 'node',
  }),
]);
