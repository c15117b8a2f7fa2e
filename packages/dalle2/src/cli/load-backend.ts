import { type BackendDescription, selectBackend } from '@dalle2js/core';
import { UsageError } from './cli-error.js';

/** Starts the backend that `--backend` names (default `auto`: DALLE2_BACKEND, else wasm in Node). */
export async function loadBackend(name: string | undefined): Promise<BackendDescription> {
  try {
    return await selectBackend(name ?? 'auto');
  } catch (error) {
    const message = (error as Error).message;
    throw /^Unknown backend/.test(message) ? new UsageError(message) : error;
  }
}
