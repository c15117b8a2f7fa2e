/** The dalle2js packages whose versions a saved pipeline and `dalle2 info` record. */
export const DALLE2JS_PACKAGES = [
  '@dalle2js/dalle2',
  '@dalle2js/core',
  '@dalle2js/clip',
  '@dalle2js/prior',
  '@dalle2js/unet',
  '@dalle2js/diffusion',
  '@dalle2js/datasets',
  '@tensorflow/tfjs-core',
] as const;

/** Each package's installed version, read from its package.json ('unknown' if it cannot be read). Node only. */
export async function packageVersions(): Promise<Record<string, string>> {
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const versions: Record<string, string> = {};
  for (const name of DALLE2JS_PACKAGES) {
    try {
      versions[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      versions[name] = 'unknown';
    }
  }
  return versions;
}
