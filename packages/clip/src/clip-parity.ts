import { parseSafetensors, type TensorData } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import type { CLIPModel, CLIPOutput } from './clip-model.js';
import { loadCLIP } from './load-clip.js';

// Node only. Checks a directory laid out like `../shared/fixtures/clip-tiny`: a CLIP (config,
// weights, tokenizer) plus `tokens.json` (texts and the reference tokenizer's ids) and
// `expected.safetensors` (inputs and reference outputs from Hugging Face transformers).

export interface CLIPParityOptions {
  /** The largest absolute error allowed on a float output; default 1e-4. */
  tolerance?: number;
}

export interface TokenCheck {
  text: string;
  expected: number[];
  actual: number[];
  ok: boolean;
}

export interface OutputCheck {
  name: string;
  shape: number[];
  /** Max |ours - reference|; for ids and masks, the number of entries that differ. */
  error: number;
  ok: boolean;
  note: string;
}

export interface CLIPParityReport {
  tokens: TokenCheck[];
  outputs: OutputCheck[];
  ok: boolean;
}

/** Where each reference tensor comes from: `*_nomask` names are computed without the attention mask. */
const OUTPUTS: Readonly<Record<string, keyof CLIPOutput>> = {
  text_embeds: 'textEmbeds',
  image_embeds: 'imageEmbeds',
  logits_per_text: 'logitsPerText',
  logits_per_image: 'logitsPerImage',
  text_last_hidden_state: 'textLastHiddenState',
  vision_last_hidden_state: 'visionLastHiddenState',
  text_features: 'textFeatures',
  image_features: 'imageFeatures',
};

/**
 * Loads the CLIP in `dir`, checks its tokenizer on every text of `tokens.json` and every tensor of
 * `expected.safetensors` against this package's outputs.
 */
export async function runCLIPParity(dir: string, options: CLIPParityOptions = {}): Promise<CLIPParityReport> {
  const tolerance = options.tolerance ?? 1e-4;
  const { readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const model = await loadCLIP(dir);
  try {
    const tokenizer = model.tokenizer;
    if (tokenizer === undefined) throw new Error(`clip-parity: ${dir} has no tokenizer files`);
    const reference = JSON.parse(await readFile(join(dir, 'tokens.json'), 'utf8')) as {
      texts: string[];
      ids_unpadded: number[][];
      context_length?: number;
      transformers_version?: string;
    };
    if (!Array.isArray(reference.texts) || !Array.isArray(reference.ids_unpadded)) {
      throw new Error(`clip-parity: ${join(dir, 'tokens.json')} needs "texts" and "ids_unpadded" arrays`);
    }
    const tokens = reference.texts.map((text, i) => {
      const expected = reference.ids_unpadded[i] ?? [];
      const actual = tokenizer.encode(text);
      return { text, expected, actual, ok: sameIds(expected, actual) };
    });

    const file = await readFile(join(dir, 'expected.safetensors'));
    const expected = parseSafetensors(new Uint8Array(file.buffer, file.byteOffset, file.byteLength)).tensors;
    const need = (name: string): TensorData => {
      const entry = expected.get(name);
      if (entry === undefined) throw new Error(`clip-parity: expected.safetensors has no "${name}"`);
      return entry;
    };
    const ids = need('input_ids');
    const mask = need('attention_mask');
    const pixels = need('pixel_values');
    const contextLength = reference.context_length ?? (ids.shape[1] as number);
    const batch = tokenizer.encodeBatch(reference.texts, { contextLength });
    const projectedPooler = Number.parseInt(reference.transformers_version ?? '5', 10) >= 5;

    const outputs: OutputCheck[] = [];
    const [masked, unmasked] = [true, false].map((withMask) =>
      forward(model, ids, withMask ? mask : undefined, pixels),
    );
    try {
      for (const [name, entry] of expected) {
        const shape = [...entry.shape];
        if (name === 'input_ids' || name === 'attention_mask') {
          const ours = name === 'input_ids' ? batch.ids : batch.attentionMask;
          const differing = countDiffering(entry.data, ours, shape, batch.shape);
          outputs.push({
            name,
            shape,
            error: differing,
            ok: differing === 0,
            note: 'entries that differ from our tokenizer',
          });
          continue;
        }
        if (name === 'pixel_values') {
          outputs.push({ name, shape, error: 0, ok: true, note: 'input (NCHW, transposed to NHWC)' });
          continue;
        }
        const noMask = name.endsWith('_nomask');
        const base = noMask ? name.slice(0, -'_nomask'.length) : name;
        const result = (noMask ? unmasked : masked) as CLIPOutput;
        let key = OUTPUTS[base];
        let note = noMask ? 'no attention mask' : '';
        if (base === 'text_pooler_output' || base === 'vision_pooler_output') {
          // transformers 5 reports the projected embedding here, earlier versions the pooled state.
          const text = base.startsWith('text');
          key = projectedPooler
            ? text
              ? 'textFeatures'
              : 'imageFeatures'
            : text
              ? 'textPooledOutput'
              : 'visionPooledOutput';
          note = [note, projectedPooler ? 'projected, before normalisation' : 'pooled state']
            .filter(Boolean)
            .join(', ');
        }
        if (key === undefined) {
          outputs.push({ name, shape, error: Number.NaN, ok: false, note: 'no output of this name' });
          continue;
        }
        const ours = result[key];
        if (!sameShape(ours.shape, shape)) {
          outputs.push({
            name,
            shape,
            error: Number.NaN,
            ok: false,
            note: `our shape is [${ours.shape.join(', ')}]`,
          });
          continue;
        }
        const error = maxAbsError(entry.data, await ours.data());
        outputs.push({ name, shape, error, ok: error <= tolerance, note });
      }
    } finally {
      for (const result of [masked, unmasked]) tf.dispose(Object.values(result as CLIPOutput));
    }
    return { tokens, outputs, ok: tokens.every((t) => t.ok) && outputs.every((o) => o.ok) };
  } finally {
    model.dispose();
  }
}

/** A plain-text table of the report. */
export function formatCLIPParity(report: CLIPParityReport, tolerance = 1e-4): string {
  const lines: string[] = [];
  const badTokens = report.tokens.filter((t) => !t.ok);
  lines.push(`tokens: ${report.tokens.length - badTokens.length}/${report.tokens.length} texts match`);
  for (const t of badTokens) {
    lines.push(
      `  MISMATCH ${JSON.stringify(t.text)}\n    expected ${t.expected.join(' ')}\n    actual   ${t.actual.join(' ')}`,
    );
  }
  lines.push(`outputs (tolerance ${tolerance} absolute):`);
  const width = Math.max(...report.outputs.map((o) => o.name.length));
  for (const o of report.outputs) {
    const isCount = o.name === 'input_ids' || o.name === 'attention_mask';
    const error = isCount ? `${o.error} differ` : Number.isNaN(o.error) ? 'n/a' : o.error.toExponential(2);
    const note = o.note ? `  (${o.note})` : '';
    lines.push(
      `  ${o.ok ? 'ok  ' : 'FAIL'} ${o.name.padEnd(width)} [${o.shape.join(', ')}]  ${error}${note}`,
    );
  }
  lines.push(report.ok ? 'PASS' : 'FAIL');
  return lines.join('\n');
}

function forward(
  model: CLIPModel,
  ids: TensorData,
  mask: TensorData | undefined,
  pixels: TensorData,
): CLIPOutput {
  const text = tf.tensor(Int32Array.from(ids.data as ArrayLike<number>), [...ids.shape], 'int32');
  const attentionMask =
    mask === undefined
      ? undefined
      : tf.tensor(Float32Array.from(mask.data as ArrayLike<number>), [...mask.shape]);
  const images = tf.tidy(() => {
    const nchw = tf.tensor(Float32Array.from(pixels.data as ArrayLike<number>), [...pixels.shape]);
    return tf.transpose(nchw, [0, 2, 3, 1]); // [B, C, H, W] -> [B, H, W, C]
  });
  try {
    return model.forward({ text, attentionMask, images });
  } finally {
    tf.dispose([text, attentionMask, images]);
  }
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function countDiffering(
  reference: TensorData['data'],
  ours: Int32Array,
  shape: number[],
  ourShape: number[],
): number {
  if (!sameShape(shape, ourShape)) return Math.max(reference.length, ours.length);
  let differing = 0;
  for (let i = 0; i < ours.length; i++) if (Number(reference[i]) !== ours[i]) differing++;
  return differing;
}

function maxAbsError(reference: TensorData['data'], ours: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < ours.length; i++) {
    const error = Math.abs(Number(reference[i]) - (ours[i] as number));
    if (!(error <= worst)) worst = error;
  }
  return worst;
}
