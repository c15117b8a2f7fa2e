import * as tf from '@tensorflow/tfjs-core';

/** Exact GELU, `x * Φ(x)` with the erf, like `torch.nn.functional.gelu(x)`. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
}

/** OpenAI CLIP's `x * sigmoid(1.702 x)`. */
export function quickGelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))));
}

/** The tanh approximation, like `gelu(x, approximate='tanh')`. */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.mul(x, tf.square(x)))));
    return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
  });
}

/** SiLU / swish, `x * sigmoid(x)`. */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}

const ACTIVATIONS = { gelu, quick_gelu: quickGelu, gelu_tanh: geluTanh, silu } as const;

/** Activation names as Hugging Face configs spell them (`hidden_act`). */
export type ActivationName = keyof typeof ACTIVATIONS;

export const activationNames = Object.keys(ACTIVATIONS) as readonly ActivationName[];

/** Looks an activation up by name; an unknown name throws an Error listing the valid ones. */
export function activation(name: string): (x: tf.Tensor) => tf.Tensor {
  if (!Object.hasOwn(ACTIVATIONS, name)) {
    throw new Error(`Unknown activation "${name}"; valid: ${activationNames.join(', ')}`);
  }
  return ACTIVATIONS[name as ActivationName];
}
