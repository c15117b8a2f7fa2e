#!/usr/bin/env node
// @ts-check
// Text to images on tfjs' plain JavaScript cpu backend: the slowest backend, but it needs nothing
// beyond Node, so it is the one to compare the others against.
import { selectBackend } from '@dalle2js/core';
import { runGenerate } from '@dalle2js/example-support/run-generate';

process.exitCode = await runGenerate(
  { name: 'node-cpu', backend: "tfjs' cpu backend", startBackend: () => selectBackend('cpu') },
  process.argv.slice(2),
);
