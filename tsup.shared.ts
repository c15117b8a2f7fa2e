import type { Options } from 'tsup';

/**
 * How every library package builds: ESM and CJS with declarations, with tfjs and the other
 * workspace packages left as imports (peer and regular dependencies, never bundled).
 */
export function libraryBuild(overrides: Options = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'es2022',
    external: [/^@tensorflow\//, /^@dalle2js\//],
    ...overrides,
  };
}
