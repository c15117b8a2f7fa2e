import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { BACKEND_NAMES, BACKEND_PACKAGES } from '@dalle2js/core';
import { packageVersions } from '../../pipeline/package-versions.js';
import { type PipelineConfig, readPipelineConfig } from '../../pipeline/pipeline-config.js';
import { loadBackend } from '../load-backend.js';

export const INFO_USAGE = `usage: dalle2 info [--model DIR] [--backend NAME]
  Prints the package versions, which backends are installed, the backend that starts, and the
  model folder's components (--model, else $DALLE2_MODEL, if set).`;

export async function infoCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { model: { type: 'string', short: 'm' }, backend: { type: 'string' } },
  });
  const lines: string[] = [];
  const versions = await packageVersions();
  lines.push('packages:');
  for (const [name, version] of Object.entries(versions)) lines.push(`  ${name} ${version}`);
  lines.push(`node: ${process.versions.node}`);

  // Resolved from @dalle2js/core, which imports them on demand.
  const require = createRequire(createRequire(import.meta.url).resolve('@dalle2js/core'));
  lines.push('backends:');
  for (const name of BACKEND_NAMES) {
    const pkg = BACKEND_PACKAGES[name];
    let found = 'not installed';
    try {
      found = `installed (${pkg} ${(require(`${pkg}/package.json`) as { version: string }).version})`;
    } catch {
      found = `not installed (pnpm add ${pkg})`;
    }
    lines.push(`  ${name.padEnd(15)} ${found}`);
  }
  const backend = await loadBackend(values.backend);
  lines.push(`active backend: ${backend.summary}`);

  const dir = values.model ?? process.env.DALLE2_MODEL;
  if (dir === undefined || dir === '') lines.push('model: none given (--model DIR or DALLE2_MODEL)');
  else lines.push(...describeModel(dir, await readPipelineConfig(dir)));
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** One line per component: sizes, and the versions that wrote the folder. */
export function describeModel(dir: string, config: PipelineConfig): string[] {
  const lines = [`model: ${dir}`];
  const { clip, prior, decoders } = config;
  if (clip) {
    const { text_config: t, vision_config: v, projection_dim } = clip.config;
    lines.push(
      `  clip     ${projection_dim}-d embeddings; text ${t.num_hidden_layers}x${t.hidden_size}, context ${t.max_position_embeddings}, vocab ${t.vocab_size}; vision ${v.num_hidden_layers}x${v.hidden_size}, ${v.image_size}px/${v.patch_size}`,
    );
  } else lines.push('  clip     missing (dalle2 train clip)');
  if (prior) {
    const n = prior.config.network;
    lines.push(
      `  prior    ${n.dim}-d, ${n.depth} blocks, ${n.numTextTokens} text tokens, ${prior.config.numTrainTimesteps} steps (${prior.config.betaSchedule}), predicts ${prior.config.prediction}`,
    );
  } else lines.push('  prior    missing (dalle2 train prior)');
  if (decoders && decoders.length > 0) {
    for (const [i, d] of decoders.entries()) {
      const u = d.config.unet;
      const from = d.config.lowresImageSize === null ? 'from noise' : `from ${d.config.lowresImageSize}px`;
      lines.push(
        `  decoder ${i} ${d.config.imageSize}px ${from}; U-Net dim ${u.dim} x [${u.dimMults.join(', ')}], ${d.config.numTrainTimesteps} steps (${d.config.betaSchedule})`,
      );
    }
  } else lines.push('  decoder  missing (dalle2 train decoder)');
  const writer = config.versions['@dalle2js/dalle2'];
  if (writer) lines.push(`  written by @dalle2js/dalle2 ${writer}`);
  return lines;
}
