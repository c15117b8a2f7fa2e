// Byte-level BPE works on strings, so every byte gets a visible character: printable Latin-1 bytes stand
// for themselves and the rest (control characters, space, soft hyphen) move to U+0100 onwards, where the
// BPE never meets white space or control characters.

function isPrintableByte(byte: number): boolean {
  return (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
}

function buildByteToUnicode(): readonly string[] {
  const symbols: string[] = [];
  let nextCodePoint = 256;
  for (let byte = 0; byte < 256; byte++) {
    symbols.push(String.fromCharCode(isPrintableByte(byte) ? byte : nextCodePoint++));
  }
  return symbols;
}

/** The character standing for each byte, indexed by byte. */
export const byteToUnicode: readonly string[] = buildByteToUnicode();

export const unicodeToByte: ReadonlyMap<string, number> = new Map(
  byteToUnicode.map((symbol, byte) => [symbol, byte]),
);

/** The 256 byte characters in the order OpenAI's vocabulary lists them: printable bytes first. */
export const byteSymbolsInVocabOrder: readonly string[] = [
  ...byteToUnicode.filter((_, byte) => isPrintableByte(byte)),
  ...byteToUnicode.filter((_, byte) => !isPrintableByte(byte)),
];
