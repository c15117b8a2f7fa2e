import { buildSync } from 'esbuild';

const cache = new Map<string, readonly string[]>();

/** The export names of one ESM file, `export *` included, from esbuild's metafile. */
export function moduleExportNames(file: string): readonly string[] {
  const cached = cache.get(file);
  if (cached) return cached;
  const result = buildSync({
    entryPoints: [file],
    bundle: true,
    packages: 'external',
    write: false,
    metafile: true,
    format: 'esm',
    outdir: 'unused',
    logLevel: 'silent',
  });
  const names = Object.values(result.metafile.outputs).find((output) => output.entryPoint)?.exports ?? [];
  cache.set(file, names);
  return names;
}
