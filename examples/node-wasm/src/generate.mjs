#!/usr/bin/env node
// @ts-check
// Text to images on tfjs' WebAssembly backend (XNNPACK): the fastest backend that needs no GPU.
// core's selectBackend runs the SIMD build on one thread per core where Node can share memory
// with worker threads; the first line on stderr says what it got, e.g. "wasm, SIMD, 2 threads".
import { selectBackend } from '@dalle2js/core';
import { runGenerate } from '@dalle2js/example-support/run-generate';

process.exitCode = await runGenerate(
  { name: 'node-wasm', backend: "tfjs' wasm backend", startBackend: () => selectBackend('wasm') },
  process.argv.slice(2),
);
