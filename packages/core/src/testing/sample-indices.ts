/** Up to `count` indices spread evenly over [0, size), both ends included. */
export function sampleIndices(size: number, count: number): number[] {
  if (size <= count) return Array.from({ length: size }, (_, i) => i);
  if (count <= 1) return [0];
  const picked = new Set<number>();
  for (let i = 0; i < count; i++) picked.add(Math.round((i * (size - 1)) / (count - 1)));
  return [...picked];
}
