#!/usr/bin/env node
// @ts-check
// Text to images on tfjs' WebGPU backend in Node: core's selectBackend gives Node a navigator.gpu
// from Dawn (the npm package `webgpu`), which drives Vulkan on Linux, Metal on macOS and D3D12 on
// Windows. Without a GPU adapter it exits with status 2 and a one-line reason.
import { selectBackend } from '@dalle2js/core';
import { runGenerate } from '@dalle2js/example-support/run-generate';

process.exitCode = await runGenerate(
  {
    name: 'node-webgpu',
    backend: "tfjs' webgpu backend on Dawn",
    startBackend: () => selectBackend('webgpu'),
  },
  process.argv.slice(2),
);
