/**
 * uPlot wrapper for every chart in the dashboard: series with their own step grids are
 * merged onto one x axis, charts follow their container's width, and charts sharing a
 * `sync` key share the cursor (loss above, learning rate below). uPlot draws 70,000-point
 * curves on canvas without trouble; we never thin observed data here.
 */
import uPlot from 'uplot';
import { h, fmtNum } from './ui.js';

export const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#475569', '#ea580c', '#4f46e5', '#0d9488'];
export const color = (i: number) => PALETTE[i % PALETTE.length]!;

export interface SeriesInput {
  label: string;
  steps: ArrayLike<number>;
  values: ArrayLike<number | null>;
  color: string;
  /** Draw markers only (observed points), no line. */
  points?: boolean;
  dash?: number[];
  width?: number;
  /** Marker size for `points` series (default 3.5). */
  pointSize?: number;
}

/** The first value at or after `step` (NaN when none); `steps` ascending. */
export function valueAt(steps: ArrayLike<number>, values: ArrayLike<number>, step: number): number {
  for (let i = 0; i < steps.length; i++) if (steps[i]! >= step) return values[i]!;
  return NaN;
}

export interface ChartOptions {
  height: number;
  yLabel: string;
  xLabel?: string;
  /** Cursor sync group. */
  sync?: string;
  /** Format y ticks as learning rates (1e-4 style). */
  lrAxis?: boolean;
  /** Shown when there is no series. */
  emptyText?: string;
  /** Called once per created uPlot instance (e.g. to attach drag handlers). */
  onCreate?: (u: uPlot) => void;
  /** Zero line, e.g. for residuals. */
  zeroLine?: boolean;
}

function sameArray(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Align series onto the sorted union of their steps (null where a series has no value). */
export function alignSeries(series: SeriesInput[]): uPlot.AlignedData {
  if (series.length === 0) return [[]];
  const first = series[0]!.steps;
  if (series.every((s) => sameArray(s.steps, first))) {
    return [Array.from(first), ...series.map((s) => Array.from(s.values))] as uPlot.AlignedData;
  }
  const all = new Set<number>();
  for (const s of series) for (let i = 0; i < s.steps.length; i++) all.add(s.steps[i]!);
  const xs = Float64Array.from(all).sort();
  const index = new Map<number, number>();
  xs.forEach((x, i) => index.set(x, i));
  const columns = series.map((s) => {
    const col: (number | null)[] = new Array(xs.length).fill(null);
    for (let i = 0; i < s.steps.length; i++) col[index.get(s.steps[i]!)!] = s.values[i] ?? null;
    return col;
  });
  return [Array.from(xs), ...columns] as uPlot.AlignedData;
}

/** Live uPlot instances by chart class name, for tests and debugging (`window.__lrcastCharts`). */
const registry = new Map<string, uPlot>();
(globalThis as unknown as { __lrcastCharts: Map<string, uPlot> }).__lrcastCharts = registry;

const stepTick = (v: number) => (Math.abs(v) >= 1000 ? `${+(v / 1000).toFixed(1)}k` : String(v));

export class Chart {
  readonly el: HTMLElement;
  private readonly plotHost: HTMLElement;
  private readonly emptyEl: HTMLElement;
  private u: uPlot | null = null;
  private signature = '';
  private series: SeriesInput[] = [];
  private readonly resizeObserver: ResizeObserver;
  /** Upper limit for the y axis (e.g. to cut the warmup spike of a loss curve); NaN = auto. */
  yCap = NaN;

  constructor(
    private readonly opts: ChartOptions,
    private readonly className = '',
  ) {
    this.plotHost = h('div', { class: 'plot-host' });
    this.emptyEl = h('div', { class: 'chart-empty' }, opts.emptyText ?? 'Nothing to plot yet.');
    this.el = h('div', { class: `chart is-empty ${className}`, dataset: { points: '0', series: '0' } }, this.plotHost, this.emptyEl);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.el);
  }

  /** The uPlot instance (null while empty). */
  get plot(): uPlot | null {
    return this.u;
  }

  private width(): number {
    return Math.max(320, Math.floor(this.el.clientWidth || 640));
  }

  private resize(): void {
    if (this.u && this.el.clientWidth > 0 && Math.abs(this.u.width - this.width()) > 2) this.u.setSize({ width: this.width(), height: this.opts.height });
  }

  /** Show these series; keeps the plot (and cursor) when only the data changed. */
  set(series: SeriesInput[], emptyText?: string): void {
    this.series = series;
    const total = series.reduce((n, s) => n + s.values.length, 0);
    this.el.dataset.points = String(total);
    this.el.dataset.series = String(series.length);
    if (emptyText) this.emptyEl.textContent = emptyText;
    if (series.length === 0 || total === 0) {
      this.destroy();
      this.el.classList.add('is-empty');
      return;
    }
    this.el.classList.remove('is-empty');
    const data = alignSeries(series);
    const signature = JSON.stringify(series.map((s) => [s.label, s.color, s.points, s.dash, s.width, s.pointSize]));
    if (this.u && signature === this.signature) {
      this.u.setData(data, true);
      return;
    }
    this.destroy();
    this.signature = signature;
    this.u = new uPlot(this.options(series), data, this.plotHost);
    if (this.className) registry.set(this.className, this.u);
    this.opts.onCreate?.(this.u);
  }

  /** Current series (as last set). */
  get current(): SeriesInput[] {
    return this.series;
  }

  private options(series: SeriesInput[]): uPlot.Options {
    const { lrAxis } = this.opts;
    const yFmt = (_u: uPlot, vals: number[]) => vals.map((v) => (lrAxis ? (v === 0 ? '0' : v.toExponential(1)) : fmtNum(v, 4)));
    return {
      width: this.width(),
      height: this.opts.height,
      cursor: { sync: this.opts.sync ? { key: this.opts.sync } : undefined, drag: { x: true, y: false } },
      scales: {
        x: { time: false },
        y: {
          range: (_u, min, max) => {
            if (lrAxis) return [0, max > 0 ? max * 1.08 : 1];
            const hi = Number.isFinite(this.yCap) && this.yCap < max && this.yCap > min ? this.yCap : max;
            const pad = (hi - min) * 0.05 || Math.abs(hi) * 0.01 || 1;
            return [min - pad, hi + pad];
          },
        },
      },
      legend: { live: true },
      axes: [
        { label: this.opts.xLabel ?? 'step', values: (_u, vals) => vals.map(stepTick), size: 36, labelSize: 18 },
        { label: this.opts.yLabel, values: yFmt, size: lrAxis ? 64 : 56, labelSize: 18 },
      ],
      series: [
        { label: 'step', value: (_u, v) => (v === null || v === undefined ? '—' : String(Math.round(v))) },
        ...series.map<uPlot.Series>((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? (s.points ? 0 : 1.6),
          dash: s.dash,
          spanGaps: true,
          value: (_u, v) => (v === null || v === undefined ? '—' : lrAxis ? v.toExponential(3) : v.toFixed(4)),
          ...(s.points ? { paths: () => null, points: { show: true, size: s.pointSize ?? 3.5, stroke: s.color, fill: s.pointSize ? '#fff' : s.color, width: s.pointSize ? 2 : 1 } } : { points: { show: false } }),
        })),
      ],
      hooks: this.opts.zeroLine
        ? {
            draw: [
              (u: uPlot) => {
                const y = Math.round(u.valToPos(0, 'y', true));
                if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) return;
                const ctx = u.ctx;
                ctx.save();
                ctx.strokeStyle = '#94a3b8';
                ctx.setLineDash([4, 4]);
                ctx.beginPath();
                ctx.moveTo(u.bbox.left, y);
                ctx.lineTo(u.bbox.left + u.bbox.width, y);
                ctx.stroke();
                ctx.restore();
              },
            ],
          }
        : {},
    };
  }

  destroy(): void {
    this.u?.destroy();
    this.u = null;
    this.signature = '';
  }
}
