import { describe, expect, it } from 'vitest';
import { formatCLIPParity, runCLIPParity } from '../src/index.js';
import { clipTinyDir } from './fixture-path.js';

describe('clip-tiny parity with Hugging Face transformers', () => {
  it('matches every token id and every output to 1e-4', async () => {
    const report = await runCLIPParity(clipTinyDir);
    console.log(formatCLIPParity(report));
    expect(report.tokens).toHaveLength(7);
    for (const t of report.tokens) expect(t.actual, t.text).toEqual(t.expected);
    const names = report.outputs.map((o) => o.name).sort();
    expect(names).toEqual(
      [
        'attention_mask',
        'image_embeds',
        'input_ids',
        'logits_per_text',
        'logits_per_text_nomask',
        'pixel_values',
        'text_embeds',
        'text_embeds_nomask',
        'text_last_hidden_state',
        'text_pooler_output',
        'vision_last_hidden_state',
        'vision_pooler_output',
      ].sort(),
    );
    for (const o of report.outputs) {
      expect(o.ok, `${o.name}: ${o.error}`).toBe(true);
      expect(o.error).toBeLessThanOrEqual(1e-4);
    }
    expect(report.ok).toBe(true);
  });
});
