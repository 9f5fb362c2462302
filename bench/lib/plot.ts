/**
 * The latency plot: each series' distribution as percentile against latency, as a
 * self-contained SVG. The percentile axis is stretched towards the tail (0, 50, 90, 99,
 * 99.9 % equally spaced, i.e. −log10 of the share above) because the tail is what the
 * targets are about; the latency axis is logarithmic so that 1 ms and 500 ms samples
 * are both readable on one chart.
 */

import { round } from "./stats.ts";

export interface Series {
  name: string;
  color: string;
  samples: number[];
}

export interface PlotOptions {
  title: string;
  /** Vertical dashed lines, e.g. the targets. */
  marks?: Array<{ at: number; label: string; color: string }>;
}

const W = 760, H = 440;
const M = { left: 64, right: 24, top: 48, bottom: 56 };

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Powers of ten covering [lo, hi]. */
function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); 10 ** e <= hi * 1.0001; e++) out.push(10 ** e);
  return out;
}

export function latencyCdfSvg(series: Series[], options: PlotOptions): string {
  const all = series.flatMap((s) => s.samples).filter((v) => v > 0 && Number.isFinite(v));
  if (all.length === 0) throw new Error("nothing to plot: every series is empty");
  let lo = Infinity, hi = 0;
  for (const v of all) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  for (const m of options.marks ?? []) hi = Math.max(hi, m.at);
  const ticks = decades(lo, hi);
  const xMin = Math.log10(ticks[0]), xMax = Math.log10(Math.max(hi, ticks[ticks.length - 1] * 1.0001));
  const pw = W - M.left - M.right, ph = H - M.top - M.bottom;
  const x = (ms: number) => M.left + ((Math.log10(Math.max(ms, 10 ** xMin)) - xMin) / (xMax - xMin)) * pw;
  // 0 → 0 %, 1 → 90 %, 2 → 99 %, 3 → 99.9 % (and above).
  const TAIL = 3;
  const y = (share: number) => M.top + (1 - Math.min(TAIL, -Math.log10(Math.max(1 - share, 10 ** -TAIL))) / TAIL) * ph;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${esc(options.title)}</text>`,
  ];
  for (const share of [0, 0.5, 0.9, 0.99, 0.999]) {
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y(share)}" y2="${y(share)}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${y(share) + 4}" text-anchor="end">p${round(share * 100)}</text>`,
    );
  }
  for (const t of ticks) {
    parts.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#ddd"/>`,
      `<text x="${x(t)}" y="${H - M.bottom + 16}" text-anchor="middle">${t >= 1 ? t : t.toPrecision(1)} ms</text>`,
    );
  }
  parts.push(
    `<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle">latency, POST to delivery (log scale)</text>`,
    `<text transform="translate(16 ${
      M.top + ph / 2
    }) rotate(-90)" text-anchor="middle">percentile (tail stretched)</text>`,
  );
  for (const m of options.marks ?? []) {
    parts.push(
      `<line x1="${x(m.at)}" x2="${x(m.at)}" y1="${M.top}" y2="${
        H - M.bottom
      }" stroke="${m.color}" stroke-dasharray="5 4"/>`,
      `<text x="${x(m.at) + 4}" y="${M.top + ph * 0.55}" fill="${m.color}">${esc(m.label)}</text>`,
    );
  }
  series.forEach((s, i) => {
    const sorted = s.samples.filter((v) => v > 0 && Number.isFinite(v)).sort((a, b) => a - b);
    if (sorted.length === 0) return;
    // At most ~600 points a curve: evenly spaced ranks, always with the last (the max).
    const step = Math.max(1, Math.floor(sorted.length / 600));
    const points: string[] = [];
    for (let k = 0; k < sorted.length; k += step) {
      points.push(`${x(sorted[k]).toFixed(1)},${y((k + 1) / sorted.length).toFixed(1)}`);
    }
    points.push(`${x(sorted[sorted.length - 1]).toFixed(1)},${y(1).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${points.join(" ")}"/>`);
    // Top left: no curve reaches the high percentiles at the lowest latencies.
    const ly = M.top + 14 + i * 18;
    parts.push(
      `<line x1="${M.left + 10}" x2="${M.left + 34}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="3"/>`,
      `<text x="${M.left + 40}" y="${ly + 4}">${esc(s.name)} (n=${sorted.length})</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
