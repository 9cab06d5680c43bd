import { readFileSync } from 'node:fs';

/** Collects samples (milliseconds) up to a fixed capacity; percentiles by sorting once. */
export class Samples {
  private data: Float64Array;
  private n = 0;
  /** Samples not kept because the buffer was full (counted, never silently lost). */
  dropped = 0;

  constructor(capacity: number) {
    this.data = new Float64Array(capacity);
  }

  add(ms: number): void {
    if (this.n < this.data.length) this.data[this.n++] = ms;
    else this.dropped++;
  }

  get count(): number {
    return this.n;
  }

  /** p in [0, 100]; NaN when empty. Sorts in place (call after collecting). */
  percentiles(ps: number[]): number[] {
    if (this.n === 0) return ps.map(() => Number.NaN);
    const view = this.data.subarray(0, this.n).sort();
    return ps.map((p) => view[Math.min(this.n - 1, Math.max(0, Math.ceil((p / 100) * this.n) - 1))]!);
  }
}

/** Whole-machine CPU busy fraction between two readings of /proc/stat (0..1 of all cores). */
export function machineCpu(): () => number {
  const read = () => {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.reduce((a, b) => a + b, 0);
    return { idle, total };
  };
  const a = read();
  return () => {
    const b = read();
    const total = b.total - a.total;
    return total > 0 ? 1 - (b.idle - a.idle) / total : Number.NaN;
  };
}

export interface Row {
  scenario: string;
  figure: string;
  unit: string;
  ours: number;
  baseline: number;
  /** ours / baseline */
  ratio: number;
  /** Higher is better (throughput) or lower is better (latency, memory). */
  better: 'higher' | 'lower' | 'none';
  note?: string;
}

export function row(
  scenario: string,
  figure: string,
  unit: string,
  ours: number,
  baseline: number,
  better: Row['better'],
  note?: string,
): Row {
  return {
    scenario,
    figure,
    unit,
    ours,
    baseline,
    ratio: baseline !== 0 ? ours / baseline : Number.NaN,
    better,
    ...(note ? { note } : {}),
  };
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  if (a >= 100_000) return Math.round(n).toLocaleString('en-US');
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  if (a === 0) return '0';
  return n.toPrecision(2);
}

/** A plain-text table of the rows: scenario, figure (unit), ours, baseline, ratio (ours/baseline). */
export function table(rows: Row[]): string {
  const head = ['scenario', 'figure', 'ours', 'baseline', 'ratio ours/base'];
  const body = rows.map((r) => [
    r.scenario,
    `${r.figure} (${r.unit})${r.better === 'none' ? '' : r.better === 'higher' ? ' ↑' : ' ↓'}`,
    fmt(r.ours),
    fmt(r.baseline),
    Number.isFinite(r.ratio) ? `${r.ratio.toFixed(r.ratio >= 10 ? 1 : 2)}×` : '—',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  const out = [line(head), sep];
  let last = '';
  for (const [i, b] of body.entries()) {
    const r = rows[i]!;
    if (last && r.scenario !== last) out.push('');
    last = r.scenario;
    out.push(line(b));
  }
  return out.join('\n');
}
