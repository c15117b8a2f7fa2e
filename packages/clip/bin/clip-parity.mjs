#!/usr/bin/env node
// Checks this package's CLIP against a directory laid out like ../shared/fixtures/clip-tiny:
// config.json, model.safetensors, a tokenizer, tokens.json and expected.safetensors.
// Runs the built package (`pnpm build` first), on tfjs's cpu backend.
// Usage: node packages/clip/bin/clip-parity.mjs DIR [--tolerance 1e-4]
// Exit status: 0 when every token id matches and every output is within the tolerance, 1 when not,
// 2 on a usage error or when the directory cannot be read.

import { parseArgs } from 'node:util';

const usage = 'usage: clip-parity DIR [--tolerance 1e-4]';

async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { tolerance: { type: 'string' }, help: { type: 'boolean' } },
    });
  } catch (error) {
    console.error(`${error.message}\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(usage);
    return 2;
  }
  const tolerance = values.tolerance === undefined ? 1e-4 : Number(values.tolerance);
  if (!(tolerance >= 0)) {
    console.error(`--tolerance must be a non-negative number, got ${values.tolerance}\n${usage}`);
    return 2;
  }

  let clip;
  let tf;
  try {
    tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    clip = await import('@dalle2js/clip');
  } catch (error) {
    console.error(`clip-parity: cannot load the built package (run \`pnpm build\` first): ${error.message}`);
    return 2;
  }
  await tf.setBackend('cpu');

  const dir = positionals[0];
  let report;
  try {
    report = await clip.runCLIPParity(dir, { tolerance });
  } catch (error) {
    console.error(`clip-parity: ${error.message}`);
    return 2;
  }
  console.log(`clip-parity ${dir}`);
  console.log(clip.formatCLIPParity(report, tolerance));
  return report.ok ? 0 : 1;
}

process.exitCode = await main();
