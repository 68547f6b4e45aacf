/**
 * uPlot wrapper for every chart in the dashboard: series with their own step grids are
 * merged onto one x axis, charts follow their container's width, and charts sharing a
 * `sync` key share the cursor (loss above, learning rate below). uPlot draws 70,000-point
 * curves on canvas without trouble; we never thin observed data here.
 */
import uPlot from 'uplot';
import { h, fmtNum } from './ui.js';
import type { Prediction } from './api.js';

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
  /**
   * A shaded band around this series (e.g. a prediction interval), at the series' own steps: two
   * extra uPlot series (upper, lower; hidden from the legend, shown and hidden with this one) and a
   * uPlot band between them. The legend's value for this series then reads "3.2571 (80%: 3.1772–3.3676)".
   */
  band?: BandInput;
}

export interface BandInput {
  lower: ArrayLike<number | null>;
  upper: ArrayLike<number | null>;
  /** Legend prefix of the range, e.g. "80%". */
  label?: string;
  /** Fill (default the series color at low alpha). */
  fill?: string;
}

/** The prediction interval of `pred` as a band ("80%"), if the answer has one (asked with `interval`). */
export function bandOf(pred: Prediction): BandInput | undefined {
  if (!pred.lower || !pred.upper || !pred.interval) return undefined;
  return { lower: pred.lower, upper: pred.upper, label: `${+(pred.interval.level * 100).toFixed(1)}%` };
}

/** A 7-char hex color at alpha `a` (0..255 as 2 hex digits); other colors as given. */
export const withAlpha = (c: string, a: string) => (/^#[0-9a-f]{6}$/i.test(c) ? c + a : c);

/** One plotted uPlot series: the input's own line, or one edge of its band. */
interface Flat extends SeriesInput {
  /** Index (into the flat list) of the series whose band this edge is. */
  edgeOf?: number;
  edge?: 'upper' | 'lower';
}

/** The inputs as plotted: each series with a band followed by its upper and lower edges. */
function flatten(series: SeriesInput[]): Flat[] {
  const out: Flat[] = [];
  for (const s of series) {
    const at = out.length;
    out.push(s);
    if (!s.band) continue;
    const edge = (which: 'upper' | 'lower'): Flat => ({
      label: `${s.label} ${s.band!.label ?? 'band'} ${which}`,
      steps: s.steps,
      values: s.band![which],
      color: withAlpha(s.color, '55'),
      width: 0.75,
      edgeOf: at,
      edge: which,
    });
    out.push(edge('upper'), edge('lower'));
  }
  return out;
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
    // Bands drawn (with at least one finite bound), for tests: data-bands="N".
    const finite = (v: number | null) => v !== null && Number.isFinite(v);
    this.el.dataset.bands = String(series.filter((s) => s.band && Array.prototype.some.call(s.band.upper, finite) && Array.prototype.some.call(s.band.lower, finite)).length);
    if (emptyText) this.emptyEl.textContent = emptyText;
    if (series.length === 0 || total === 0) {
      this.destroy();
      this.el.classList.add('is-empty');
      return;
    }
    this.el.classList.remove('is-empty');
    const flat = flatten(series);
    const data = alignSeries(flat);
    const signature = JSON.stringify(flat.map((s) => [s.label, s.color, s.points, s.dash, s.width, s.pointSize, s.edge, s.band?.label, s.band?.fill]));
    if (this.u && signature === this.signature) {
      this.u.setData(data, true);
      return;
    }
    this.destroy();
    this.signature = signature;
    this.u = new uPlot(this.options(flat), data, this.plotHost);
    // Band edges stay out of the legend: their values show in their series' entry.
    const rows = this.u.root.querySelectorAll<HTMLElement>('.u-legend .u-series');
    flat.forEach((s, i) => {
      if (s.edge && rows[i + 1]) rows[i + 1]!.style.display = 'none';
    });
    if (this.className) registry.set(this.className, this.u);
    this.opts.onCreate?.(this.u);
  }

  /** Current series (as last set). */
  get current(): SeriesInput[] {
    return this.series;
  }

  private options(series: Flat[]): uPlot.Options {
    const { lrAxis } = this.opts;
    const fmtV = (v: number | null | undefined) => (v === null || v === undefined ? '—' : lrAxis ? v.toExponential(3) : v.toFixed(4));
    // uPlot series indices (x is 0) of each band's edges, by the index of the series they belong to.
    const edges = new Map<number, { upper: number; lower: number; label: string; fill: string }>();
    series.forEach((s, i) => {
      if (s.band) edges.set(i + 1, { upper: i + 2, lower: i + 3, label: s.band.label ?? '', fill: s.band.fill ?? withAlpha(s.color, '26') });
    });
    const value = (i: number) => (u: uPlot, v: number | null, _si: number, idx: number | null) => {
      const band = edges.get(i + 1);
      if (!band || v === null || v === undefined || idx === null) return fmtV(v);
      const lo = u.data[band.lower]?.[idx];
      const hi = u.data[band.upper]?.[idx];
      if (lo === null || lo === undefined || hi === null || hi === undefined) return fmtV(v);
      return `${fmtV(v)} (${band.label ? band.label + ': ' : ''}${fmtV(lo)}–${fmtV(hi)})`;
    };
    const hooks: uPlot.Hooks.Arrays = {};
    if (edges.size) {
      // A band shows and hides with its series (legend clicks).
      hooks.setSeries = [
        (u, si, o) => {
          const band = si === null ? undefined : edges.get(si);
          if (!band || o.show === undefined) return;
          for (const e of [band.upper, band.lower]) if (u.series[e]!.show !== o.show) u.setSeries(e, { show: o.show });
        },
      ];
    }
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
        ...series.map<uPlot.Series>((s, i) => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? (s.points ? 0 : 1.6),
          dash: s.dash,
          spanGaps: true,
          value: value(i),
          ...(s.points ? { paths: () => null, points: { show: true, size: s.pointSize ?? 3.5, stroke: s.color, fill: s.pointSize ? '#fff' : s.color, width: s.pointSize ? 2 : 1 } } : { points: { show: false } }),
        })),
      ],
      bands: [...edges.values()].map((b) => ({ series: [b.upper, b.lower] as [number, number], fill: b.fill })),
      hooks: this.opts.zeroLine
        ? {
            ...hooks,
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
        : hooks,
    };
  }

  destroy(): void {
    this.u?.destroy();
    this.u = null;
    this.signature = '';
  }
}
