import type { Merge } from './bpe-model.js';

export const MERGES_HEADER = '#version: 0.2';

/**
 * Parses a merges file: one `left right` pair per line after a header line. OpenAI's file names itself in
 * its header (`bpe_simple_vocab_16e6.txt#version: 0.2`), so any first line containing `#version` is the
 * header. Stops after `maxMerges` pairs, because OpenAI's file holds more merges than CLIP uses.
 */
export function parseMergesText(text: string, maxMerges = Number.POSITIVE_INFINITY): Merge[] {
  const merges: Merge[] = [];
  let lineNumber = 0;
  let start = 0;
  while (start < text.length && merges.length < maxMerges) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline;
    const line = text.slice(start, text[end - 1] === '\r' ? end - 1 : end);
    start = end + 1;
    lineNumber++;
    if (line === '' || (lineNumber === 1 && line.includes('#version'))) continue;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new Error(`Merges line ${lineNumber} is not "left right": ${JSON.stringify(line)}`);
    }
    merges.push([parts[0]!, parts[1]!]);
  }
  return merges;
}

/** Writes merges in the format both OpenAI's loader and Hugging Face's `merges.txt` read. */
export function formatMergesText(merges: readonly Merge[]): string {
  return `${[MERGES_HEADER, ...merges.map(([left, right]) => `${left} ${right}`)].join('\n')}\n`;
}
