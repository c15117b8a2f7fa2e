import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Plugin } from 'esbuild';
import { publicTfjsNames } from './public-tfjs-names.js';
import { rewriteTfjsImports } from './rewrite-tfjs-imports.js';

/** Import paths that tsup must bundle instead of treating as the external tfjs-core peer. */
export const TFJS_GRADIENTS_IMPORT = /^@tensorflow\/tfjs-core\/dist\//;

const TFJS_CORE_DIST_FILE = /[\\/]@tensorflow[\\/]tfjs-core[\\/]dist[\\/].+\.js$/;
const SOURCE_MAP_COMMENT = /^\/\/# sourceMappingURL=.*$/gm;

/**
 * tfjs-core ships its gradient configs only as extensionless ESM that plain Node cannot load, and
 * its CJS bundle has none. This bundles the gradients graph (`dist/register_all_gradients`) while
 * every name the public tfjs-core API offers is imported from the external package.
 */
export function tfjsGradientsPlugin(resolveFrom: string): Plugin {
  return {
    name: 'tfjs-gradients',
    setup(build) {
      const names = publicTfjsNames(resolveFrom);
      build.onLoad({ filter: TFJS_CORE_DIST_FILE }, async (args) => {
        const source = (await readFile(args.path, 'utf8')).replace(SOURCE_MAP_COMMENT, '');
        return {
          contents: rewriteTfjsImports(source, args.path, names),
          loader: 'js',
          resolveDir: dirname(args.path),
        };
      });
    },
  };
}
