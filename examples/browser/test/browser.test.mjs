// @ts-check
// Builds the page, serves it with `vite preview` on 127.0.0.1, and drives Debian's Chromium with
// playwright-core as a person would: type a prompt, pick a backend, press Generate, wait for the
// images. Runs WebGL (on SwiftShader, Chromium's CPU renderer), WASM and the CPU backend. Not
// WebGPU: headless Chromium on SwiftShader's Vulkan finds an adapter but takes minutes.
//
// Screenshots go to test-results/ (ignored); UPDATE_SCREENSHOTS=1 writes them to screenshots/,
// the copies committed as documentation.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = join(ROOT, process.env.UPDATE_SCREENSHOTS === '1' ? 'screenshots' : 'test-results');
const PROMPT = 'a green triangle on a yellow background';
/** Flags for every run: no network of its own, no first-run UI, no sandbox (CI runs as root). */
const BASE_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Containers often give /dev/shm 64 MB; Chromium then writes its shared memory under /tmp.
  '--disable-dev-shm-usage',
];
/** How long one generation may take: SwiftShader renders WebGL on the CPU (14 s idle, 61 s loaded). */
const GENERATE_TIMEOUT_MS = 180_000;

const skip = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing: install Debian's Chromium with .ci/install-chromium.sh to run the browser test`;
if (skip) console.log(`# browser test skipped: ${skip}`);

describe('the browser playground', { skip }, () => {
  /** @type {import('vite').PreviewServer} */
  let server;
  /** @type {string} */
  let origin;

  before(async () => {
    // The tiny pipeline whatever models/ holds: known stages and sizes, and quick on SwiftShader.
    const prepare = [join(ROOT, 'scripts/prepare-public.mjs'), '--tiny'];
    await promisify(execFile)(process.execPath, prepare, { cwd: ROOT });
    const { build, preview } = await import('vite');
    await build({ root: ROOT, logLevel: 'error' });
    const port = await freePort();
    server = await preview({
      root: ROOT,
      logLevel: 'error',
      preview: { host: '127.0.0.1', port, strictPort: true },
    });
    origin = `http://127.0.0.1:${port}`;
    await mkdir(SHOTS, { recursive: true });
  });
  after(async () => {
    await server?.close();
  });

  test('WebGL (SwiftShader) draws the images', async () => {
    const page = await generateIn(origin, 'webgl', 2, [
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
    ]);
    assert.match(page.status, /Backend: webgl\. Model: a tiny untrained pipeline/);
    assert.match(page.status, /2 images of 32×32 px/);
  });

  test('WASM (SIMD, threads) draws the images', async () => {
    const page = await generateIn(origin, 'wasm', 4, ['--disable-gpu']);
    // vite preview sends the cross-origin isolation headers, so the threaded build must run.
    assert.ok(page.crossOriginIsolated, 'the page is not cross-origin isolated');
    assert.match(page.status, /Backend: wasm, SIMD, \d+ threads?\./);
  });

  test('CPU draws the images', async () => {
    // Two images only: tfjs' plain JavaScript backend is by far the slowest.
    const page = await generateIn(origin, 'cpu', 2, ['--disable-gpu']);
    assert.match(page.status, /Backend: cpu\./);
  });
});

/**
 * Opens the page in a fresh Chromium profile, generates `images` images of PROMPT on `backend`,
 * checks the progress bars and the images, and saves a screenshot.
 * @param {string} origin
 * @param {string} backend
 * @param {number} images
 * @param {string[]} extraArgs
 */
async function generateIn(origin, backend, images, extraArgs) {
  const { chromium } = await import('playwright-core');
  const profile = await mkdtemp(join(tmpdir(), `dalle2js-chromium-${backend}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...BASE_ARGS, ...extraArgs],
    viewport: { width: 820, height: 620 },
  });
  /** @type {string[]} */
  const problems = [];
  /** @type {string[]} */
  const consoleLines = [];
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      consoleLines.push(`${message.type()}: ${message.text()}`);
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    await page.goto(`${origin}/`);
    await page.waitForSelector('body[data-ready]', { timeout: 60_000 });
    await page.fill('#prompt', PROMPT);
    await page.selectOption('#backend', backend);
    await page.fill('#count', String(images));
    await page.fill('#seed', '7');
    await page.click('#generate');
    await page.waitForSelector('body[data-state]', { timeout: GENERATE_TIMEOUT_MS }).catch(async (error) => {
      throw new Error(
        `${backend}: no result after ${GENERATE_TIMEOUT_MS / 1000} s. ${await describePage(page)} Console: ${consoleLines.slice(-20).join(' | ') || 'empty'}.`,
        {
          cause: error,
        },
      );
    });
    const state = await page.evaluate(() => ({
      state: document.body.dataset.state,
      error: document.getElementById('error')?.textContent ?? '',
      status: document.getElementById('status')?.textContent ?? '',
      crossOriginIsolated: globalThis.crossOriginIsolated,
      bars: [...document.querySelectorAll('#progress progress')].map((bar) => ({
        stage: bar.getAttribute('data-stage'),
        value: /** @type {HTMLProgressElement} */ (bar).value,
        max: /** @type {HTMLProgressElement} */ (bar).max,
      })),
    }));
    await page.screenshot({ path: join(SHOTS, `${backend}.png`) });
    assert.equal(state.state, 'done', `the page failed: ${state.error}\n${problems.join('\n')}`);
    assert.deepEqual(
      state.bars.map((bar) => bar.stage),
      ['prior', 'decoder 0', 'decoder 1'],
    );
    for (const bar of state.bars) assert.equal(bar.value, bar.max, `${bar.stage} did not finish`);

    const variances = await page.evaluate(async () => {
      const images = /** @type {HTMLImageElement[]} */ ([...document.querySelectorAll('#images img')]);
      return Promise.all(
        images.map(async (img) => {
          await img.decode();
          const canvas = document.createElement('canvas');
          canvas.width = img.naturalWidth;
          canvas.height = img.naturalHeight;
          const context = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
          context.drawImage(img, 0, 0);
          const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
          const values = [...data].filter((_, i) => i % 4 !== 3); // RGB, not alpha
          const mean = values.reduce((a, b) => a + b, 0) / values.length;
          return values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
        }),
      );
    });
    assert.equal(variances.length, images);
    for (const [i, variance] of variances.entries()) assert.ok(variance > 0, `image ${i} is one flat colour`);
    assert.deepEqual(problems, []);
    return state;
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}

/**
 * What the page shows now, for a failure message: the status line, each progress bar and the
 * console, so that a timeout tells a hang (no bars) from slowness (bars part way).
 * @param {import('playwright-core').Page} page
 */
async function describePage(page) {
  const shown = await page.evaluate(() => ({
    status: document.getElementById('status')?.textContent ?? '',
    bars: [...document.querySelectorAll('#progress progress')].map(
      (bar) =>
        `${bar.getAttribute('data-stage')} ${/** @type {HTMLProgressElement} */ (bar).value}/${/** @type {HTMLProgressElement} */ (bar).max}`,
    ),
  }));
  return `Status: '${shown.status}'. Progress: ${shown.bars.join(', ') || 'no bars (the worker never became ready)'}.`;
}

/** A port that nothing listens on now, on 127.0.0.1. */
function freePort() {
  return /** @type {Promise<number>} */ (
    new Promise((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    })
  );
}
