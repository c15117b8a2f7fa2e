import type { CLIPModel } from '@dalle2js/clip';
import * as tf from '@tensorflow/tfjs-core';

/** What CLIP's text tower gives the prior and the decoders for a batch of prompts. */
export interface TextConditioning {
  /** Unit-norm CLIP text embeddings [B, projection_dim]. */
  textEmbed: tf.Tensor2D;
  /** Per-token hidden states of the text transformer [B, contextLength, hidden_size]. */
  textEncodings: tf.Tensor3D;
  /** [B, contextLength], 1 = real token (start, text, end), 0 = padding. */
  textMask: tf.Tensor2D;
}

/**
 * Checks prompts before any work: a non-empty list of strings, none empty or only whitespace, none
 * longer than CLIP's context (long prompts are refused rather than silently cut).
 */
export function checkPrompts(clip: CLIPModel, prompts: readonly string[]): void {
  if (!Array.isArray(prompts) || prompts.length === 0) {
    throw new Error('prompts: expected a non-empty list of strings');
  }
  const tokenizer = clip.tokenizer;
  if (tokenizer === undefined) throw new Error('the CLIP model has no tokenizer, so it cannot read prompts');
  prompts.forEach((prompt, i) => {
    if (typeof prompt !== 'string') throw new Error(`prompts[${i}]: expected a string, got ${typeof prompt}`);
    if (prompt.trim() === '') throw new Error(`prompts[${i}]: the prompt is empty`);
    const tokens = tokenizer.encode(prompt).length;
    if (tokens > clip.contextLength) {
      throw new Error(
        `prompts[${i}]: the prompt has ${tokens} tokens (start and end included), more than CLIP's context of ${clip.contextLength}`,
      );
    }
  });
}

export interface EncodePromptsOptions {
  /**
   * Cut texts longer than CLIP's context (keeping the end token), as CLIP training does, instead of
   * refusing them. The tokenizer warns once. Default false.
   */
  truncate?: boolean;
}

/** CLIP text embeddings and per-token encodings of `prompts` (checked first); the caller owns the tensors. */
export function encodePrompts(
  clip: CLIPModel,
  prompts: readonly string[],
  options: EncodePromptsOptions = {},
): TextConditioning {
  if (!options.truncate) checkPrompts(clip, prompts);
  const { ids, attentionMask } = clip.tokenize(prompts);
  try {
    return tf.tidy(() => {
      const mask = attentionMask ?? (tf.onesLike(ids) as tf.Tensor2D);
      const { lastHiddenState, pooledOutput } = clip.text_model.apply(ids, mask);
      const features = clip.text_projection.apply(pooledOutput); // [B, P]
      const norm = tf.sqrt(tf.sum(tf.square(features), -1, true)); // [B, 1]
      return {
        textEmbed: tf.div(features, tf.maximum(norm, 1e-12)) as tf.Tensor2D,
        textEncodings: lastHiddenState, // [B, T, W]
        textMask: tf.cast(mask, 'float32') as tf.Tensor2D, // [B, T]
      };
    });
  } finally {
    tf.dispose([ids, attentionMask].filter((t) => t !== undefined));
  }
}

/** [N, ...] -> [N k, ...], each row repeated k times in place (prompt-major, like `repeat_interleave`). */
export function repeatRows<T extends tf.Tensor>(t: T, k: number): T {
  if (k === 1) return tf.clone(t);
  return tf.tidy(() => {
    const [n, ...rest] = t.shape as number[];
    const expanded = tf.expandDims(t, 1); // [N, 1, ...]
    return tf.reshape(tf.tile(expanded, [1, k, ...rest.map(() => 1)]), [n! * k, ...rest]) as T; // [N k, ...]
  });
}
