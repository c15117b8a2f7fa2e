import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseSafetensors, serializeSafetensors } from '@dalle2js/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clipTinyDir, repoRoot } from './fixture-path.js';

// The command runs the built package, as on a fresh clone after `pnpm build` (turbo's test task
// depends on build).
const bin = resolve(repoRoot, 'packages/clip/bin/clip-parity.mjs');
const run = promisify(execFile);

async function parity(dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, dir], { cwd: repoRoot });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** A writable copy (the shared fixture is read-only, and modes would be copied along). */
async function copyFixture(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const name of await readdir(clipTinyDir))
    await writeFile(join(dir, name), await readFile(join(clipTinyDir, name)));
}

describe('node packages/clip/bin/clip-parity.mjs DIR', () => {
  let work: string;

  beforeAll(async () => {
    for (const pkg of ['core', 'clip']) {
      const built = resolve(repoRoot, `packages/${pkg}/dist/index.js`);
      if (!existsSync(built)) throw new Error(`${built} is missing: run \`pnpm build\` before this test`);
    }
    work = await mkdtemp(join(tmpdir(), 'clip-parity-'));
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('passes on clip-tiny and prints the max abs error of every output', async () => {
    const { code, stdout } = await parity(clipTinyDir);
    expect(code).toBe(0);
    expect(stdout).toContain('tokens: 7/7 texts match');
    for (const name of [
      'text_embeds',
      'image_embeds',
      'logits_per_text',
      'vision_last_hidden_state',
      'text_embeds_nomask',
    ]) {
      expect(stdout).toMatch(new RegExp(`ok\\s+${name}\\s+\\[[\\d, ]+\\]\\s+\\d\\.\\d\\de[-+]\\d+`));
    }
    expect(stdout.trim().endsWith('PASS')).toBe(true);
  });

  it('exits 1 when a weight is perturbed', async () => {
    const dir = join(work, 'perturbed');
    await copyFixture(dir);
    const path = join(dir, 'model.safetensors');
    const { tensors, metadata } = parseSafetensors(new Uint8Array(await readFile(path)));
    const weight = tensors.get('vision_model.post_layernorm.weight');
    if (weight === undefined) throw new Error('fixture lacks vision_model.post_layernorm.weight');
    (weight.data as Float32Array)[0] = (weight.data[0] as number) + 0.05;
    await writeFile(path, serializeSafetensors(tensors, metadata));
    const { code, stdout } = await parity(dir);
    expect(code).toBe(1);
    expect(stdout).toMatch(/FAIL\s+image_embeds/);
    expect(stdout).toMatch(/ok\s+text_embeds\s/);
    expect(stdout.trim().endsWith('FAIL')).toBe(true);
  });

  it('exits 1 when a reference token id is wrong', async () => {
    const dir = join(work, 'wrong-token');
    await copyFixture(dir);
    const path = join(dir, 'tokens.json');
    const tokens = JSON.parse(await readFile(path, 'utf8')) as { ids_unpadded: number[][] };
    (tokens.ids_unpadded[0] as number[])[1] = 321;
    await writeFile(path, JSON.stringify(tokens));
    const { code, stdout } = await parity(dir);
    expect(code).toBe(1);
    expect(stdout).toContain('tokens: 6/7 texts match');
    expect(stdout).toContain('MISMATCH "a photo of a red circle"');
  });

  it('exits 2 with a message for a directory it cannot read', async () => {
    const { code, stderr } = await parity(join(work, 'missing'));
    expect(code).toBe(2);
    expect(stderr).toContain('clip-parity:');
  });
});
