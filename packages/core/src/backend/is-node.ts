/** True in Node (and Node-like runtimes), where backends load from node_modules. */
export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}
