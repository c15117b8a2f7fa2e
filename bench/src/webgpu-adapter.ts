/** What Dawn says the WebGPU adapter is: a software one (lavapipe, SwiftShader) is far slower than a GPU. */
export interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}

/** The adapter behind `navigator.gpu` (which `selectBackend('webgpu')` installs in Node), or null. */
export async function webgpuAdapterInfo(): Promise<AdapterInfo | null> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  const adapter = (await gpu?.requestAdapter()) as { info?: AdapterInfo } | null | undefined;
  if (!adapter?.info) return null;
  const { vendor, architecture, device, description } = adapter.info;
  return { vendor, architecture, device, description };
}

/** ' (adapter: vendor, architecture, ...)' for a backend summary, or '' when Dawn says nothing. */
export function describeAdapter(info: AdapterInfo | null): string {
  const parts = info
    ? [info.vendor, info.architecture, info.device, info.description].filter((part) => part)
    : [];
  return parts.length === 0 ? '' : ` (adapter: ${parts.join(', ')})`;
}
