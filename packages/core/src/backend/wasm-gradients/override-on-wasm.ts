import * as tf from '@tensorflow/tfjs-core';

const installed = new WeakSet<tf.GradConfig>();

/**
 * Registers `override` as the gradient of its kernel while the wasm backend is active; on every
 * other backend the gradient tfjs had registered before runs unchanged. Both read the same saved
 * tensors, so the override must save exactly what the original saves. Does nothing when the
 * registered gradient is already an override, so that it can run again after a bundle re-registers
 * tfjs' gradients.
 */
export function overrideGradientOnWasm(override: tf.GradConfig): void {
  const { kernelName } = override;
  const original = tf.getGradient(kernelName);
  if (original && installed.has(original)) return;
  if (!original)
    throw new Error(`No tfjs gradient is registered for ${kernelName}; import the gradients first.`);
  if (!sameSaved(original, override)) {
    throw new Error(`The wasm gradient of ${kernelName} saves other tensors than tfjs' own gradient.`);
  }
  const config: tf.GradConfig = {
    ...original,
    gradFunc: (dy, saved, attrs) =>
      tf.getBackend() === 'wasm' ? override.gradFunc(dy, saved, attrs) : original.gradFunc(dy, saved, attrs),
  };
  installed.add(config);
  tf.registerGradient(config);
}

function sameSaved(a: tf.GradConfig, b: tf.GradConfig): boolean {
  const same = (x: unknown[] = [], y: unknown[] = []) =>
    x.length === y.length && x.every((value, i) => value === y[i]);
  return same(a.inputsToSave, b.inputsToSave) && same(a.outputsToSave, b.outputsToSave);
}
