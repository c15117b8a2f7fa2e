import { defineConfig } from 'tsup';
import { TFJS_GRADIENTS_IMPORT, tfjsGradientsPlugin } from './build/tfjs-gradients-plugin.js';

export default defineConfig({
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // The wasm backend's files are found from import.meta.url, which the cjs build must shim.
  shims: true,
  external: [/^@tensorflow\//, 'webgpu'],
  // tfjs-core's gradients: bundled, with every public tfjs-core name imported from the package.
  noExternal: [TFJS_GRADIENTS_IMPORT],
  esbuildPlugins: [tfjsGradientsPlugin(import.meta.url)],
});
