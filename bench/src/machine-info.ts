import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import type { MachineInfo } from './bench-result.js';

const PACKAGES = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgpu',
  'webgpu',
  '@dalle2js/core',
  '@dalle2js/unet',
  '@dalle2js/clip',
  '@dalle2js/prior',
  '@dalle2js/dalle2',
];

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  let commit: string | undefined;
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
    }).trim();
    commit = dirty === '' ? head : `${head} (with uncommitted changes)`;
  } catch {
    // Not a git checkout: no commit to report.
  }
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()}`,
    node: process.versions.node,
    loadAverage: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
    ...(commit === undefined ? {} : { commit }),
  };
}

/** Installed versions of tfjs, its backends, Dawn and the dalle2js packages ('missing' where not installed). */
export function packageVersions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const versions: Record<string, string> = {};
  for (const name of PACKAGES) {
    try {
      versions[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      versions[name] = 'missing';
    }
  }
  return versions;
}
