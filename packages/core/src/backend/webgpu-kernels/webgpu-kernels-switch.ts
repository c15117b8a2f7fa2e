let enabled = true;

/**
 * Turns our webgpu kernels (GroupNorm's, the conv2d filter gradient) off or on again; off, the
 * webgpu backend runs tfjs' own kernels and plain ops, as a baseline to compare against.
 */
export function setWebGpuKernelsEnabled(on: boolean): void {
  enabled = on;
}

export function webGpuKernelsEnabled(): boolean {
  return enabled;
}
