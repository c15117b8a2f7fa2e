import { gunzipSync } from 'fflate';

const utf8 = new TextDecoder('utf-8');

function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The text of a file given as text or as bytes, gunzipped first when the bytes are gzip. */
export function textFromBytes(data: string | Uint8Array): string {
  if (typeof data === 'string') return data;
  if (!(data instanceof Uint8Array)) throw new TypeError('Expected the file as a string or a Uint8Array');
  return utf8.decode(isGzip(data) ? gunzipSync(data) : data);
}
