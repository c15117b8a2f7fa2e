export interface LossPoint {
  step: number;
  loss: number;
}

/**
 * A self-contained SVG line chart of the loss against the step (log-scaled loss when it spans
 * more than a factor of 10), with the first and last step and the loss range labelled.
 */
export function lossCurveSvg(points: readonly LossPoint[], title = 'training loss'): string {
  const width = 640;
  const height = 320;
  const pad = { left: 64, right: 16, top: 32, bottom: 40 };
  const finite = points.filter((p) => Number.isFinite(p.loss));
  const head = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`;
  const frame = `<rect width="${width}" height="${height}" fill="white"/><text x="${pad.left}" y="20" font-family="sans-serif" font-size="14">${escapeXml(title)}</text>`;
  if (finite.length === 0) {
    return `${head}${frame}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-family="sans-serif" font-size="12">no data yet</text></svg>\n`;
  }
  const steps = finite.map((p) => p.step);
  const losses = finite.map((p) => p.loss);
  const minStep = Math.min(...steps);
  const maxStep = Math.max(...steps);
  const minLoss = Math.min(...losses);
  const maxLoss = Math.max(...losses);
  const log = minLoss > 0 && maxLoss / minLoss > 10;
  const f = (v: number) => (log ? Math.log10(v) : v);
  const [lo, hi] = [f(minLoss), f(maxLoss)];
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const x = (step: number) =>
    pad.left + (maxStep === minStep ? plotW / 2 : ((step - minStep) / (maxStep - minStep)) * plotW);
  const y = (loss: number) => pad.top + (hi === lo ? plotH / 2 : (1 - (f(loss) - lo) / (hi - lo)) * plotH);
  const path = finite
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`)
    .join(' ');
  const label = (v: number) =>
    Math.abs(v) >= 0.01 && Math.abs(v) < 1000 ? v.toPrecision(3) : v.toExponential(2);
  const text = (tx: number, ty: number, anchor: string, s: string) =>
    `<text x="${tx}" y="${ty}" text-anchor="${anchor}" font-family="sans-serif" font-size="11">${s}</text>`;
  return [
    head,
    frame,
    `<rect x="${pad.left}" y="${pad.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
    `<path d="${path}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`,
    text(pad.left - 6, pad.top + 4, 'end', label(maxLoss)),
    text(pad.left - 6, pad.top + plotH, 'end', label(minLoss)),
    text(pad.left, height - pad.bottom + 16, 'start', `step ${minStep}`),
    text(width - pad.right, height - pad.bottom + 16, 'end', `step ${maxStep}`),
    text(pad.left + plotW / 2, height - 8, 'middle', log ? 'loss (log scale)' : 'loss'),
    '</svg>\n',
  ].join('');
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
