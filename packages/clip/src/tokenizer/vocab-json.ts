/** Parses Hugging Face's `vocab.json`: an object from token to id. */
export function parseVocabJson(json: string | Readonly<Record<string, unknown>>): Map<string, number> {
  const entries = typeof json === 'string' ? (JSON.parse(json) as unknown) : json;
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) {
    throw new TypeError('vocab.json must hold an object from token to id');
  }
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(entries)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new TypeError(`vocab.json maps ${JSON.stringify(token)} to ${JSON.stringify(id)}, not an id`);
    }
    vocab.set(token, id);
  }
  return vocab;
}

/** Writes `vocab.json` with tokens in id order, as Hugging Face does. */
export function formatVocabJson(vocab: ReadonlyMap<string, number>): string {
  // Built by hand because a JS object would move integer-like keys ("0" to "9") to the front.
  const byId = [...vocab].sort((a, b) => a[1] - b[1]);
  return `{${byId.map(([token, id]) => `${JSON.stringify(token)}:${id}`).join(',')}}`;
}
