/**
 * uPlot wrapper for every chart in the dashboard: series with their own step grids are
 * merged onto one x axis (the hover values of a series without a point at the cursor's step
 * are interpolated from its neighbours, marked "≈"), charts follow their container's width,
 * and charts sharing a `sync` key share the cursor and the x range (loss above, learning rate
 * below: same steps at the same pixels, zoom one and the other follows). Each chart has a small
 * toolbar: log x / log y (kept in the view's URL as `log=`), PNG and CSV export. uPlot draws
 * 70,000-point curves on canvas without trouble; we never thin observed data here.
 */
import uPlot from 'uplot';
import { h, fmtNum } from './ui.js';
import { updateViewQuery, viewName, viewQuery } from './url-state.js';
import type { Prediction } from './api.js';

export const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#475569', '#ea580c', '#4f46e5', '#0d9488'];
export const color = (i: number) => PALETTE[i % PALETTE.length]!;

/** `hsl(h, s%, l%)` as a 7-char hex colour (so `withAlpha` can fade it). */
export function hslHex(hue: number, sat: number, light: number): string {
  const s = sat / 100;
  const l = light / 100;
  const k = (n: number) => (n + hue / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => Math.round(255 * (l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1))));
  return `#${[f(0), f(8), f(4)].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** Group hues, far apart: blue, red, green, orange, purple, cyan, pink, olive. */
const GROUP_HUES = [218, 2, 150, 32, 272, 188, 325, 80];

/** The model a curve belongs to: meta `modelSize` or `model`, else the name's part before "/" (e.g. "25M/cosine_24000"). */
export function modelOf(c: { name: string; meta?: Record<string, unknown> | null }): string {
  const meta = c.meta ?? {};
  for (const key of ['modelSize', 'model']) if (typeof meta[key] === 'string' || typeof meta[key] === 'number') return String(meta[key]);
  return c.name.includes('/') ? c.name.split('/')[0]! : '';
}

/** Sort key of a model name: its size when it reads like one ("25M", "1.3B"), else NaN. */
function modelSize(model: string): number {
  const m = /^([\d.]+)\s*([kmbt]?)/i.exec(model);
  if (!m) return NaN;
  return Number(m[1]) * ({ '': 1, k: 1e3, m: 1e6, b: 1e9, t: 1e12 } as Record<string, number>)[m[2]!.toLowerCase()]!;
}

/**
 * Stable, distinct colours for many curves (18+), grouped by model: one hue per model (smallest
 * model first), and within a model the curves (by name) spread over lightness and a little hue,
 * so "25M/cosine" and "100M/cosine" differ in hue and two 25M schedules in shade. The colour of a
 * curve depends on the whole list, not on what is selected, so it stays the same as the selection changes.
 */
export function curveColors(curves: { id: number; name: string; meta?: Record<string, unknown> | null }[]): Map<number, string> {
  const groups = new Map<string, typeof curves>();
  for (const c of curves) {
    const m = modelOf(c);
    if (!groups.has(m)) groups.set(m, []);
    groups.get(m)!.push(c);
  }
  const order = [...groups.keys()].sort((a, b) => {
    const sa = modelSize(a);
    const sb = modelSize(b);
    if (Number.isFinite(sa) && Number.isFinite(sb) && sa !== sb) return sa - sb;
    return a.localeCompare(b);
  });
  const out = new Map<number, string>();
  order.forEach((model, g) => {
    const members = [...groups.get(model)!].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    const hue = GROUP_HUES[g % GROUP_HUES.length]! + 9 * Math.floor(g / GROUP_HUES.length);
    // The model's curves on a grid of hue offsets (±40° around the model's hue) by lightness (28%..62%):
    // curves next to each other by name (cosine_24000, cosine_72000) differ in hue, the rows in shade.
    const cols = Math.max(1, Math.ceil(Math.sqrt(members.length)));
    const rows = Math.max(1, Math.ceil(members.length / cols));
    members.forEach((c, i) => {
      const a = cols > 1 ? (i % cols) / (cols - 1) : 0.5;
      const b = rows > 1 ? Math.floor(i / cols) / (rows - 1) : 0.3;
      out.set(c.id, hslHex((hue + (a - 0.5) * 80 + 360) % 360, 82 - 22 * b, 28 + 34 * b));
    });
  });
  return out;
}

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

/**
 * The value of a series at `x`, linear between its two logged neighbours (the hover value of a
 * series logged at other steps than the cursor's); NaN outside its steps or next to a gap.
 */
export function interpolateAt(steps: ArrayLike<number>, values: ArrayLike<number | null>, x: number): number {
  const n = steps.length;
  if (n === 0 || x < steps[0]! || x > steps[n - 1]!) return NaN;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (steps[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const x0 = steps[lo]!;
  const y0 = values[lo];
  if (x0 === x) return y0 ?? NaN;
  const x1 = steps[hi]!;
  const y1 = values[hi];
  if (x1 === x) return y1 ?? NaN;
  if (y0 === null || y0 === undefined || y1 === null || y1 === undefined) return NaN;
  return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
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

const stepTick = (v: number) => (Math.abs(v) >= 1000 ? `${+(v / 1000).toFixed(1)}k` : String(+v.toPrecision(6)));

/** Every chart made, for the URL's `log=` (those of the shown view). */
const allCharts = new Set<Chart>();

/** The charts of the shown view (their element inside `#view-<name>`) that have a URL key. */
function shownCharts(): Chart[] {
  const view = document.getElementById(`view-${viewName()}`);
  return view ? [...allCharts].filter((c) => c.urlKey && view.contains(c.el)) : [];
}

/** The log axes of a `log=` value (`loss-chart:y,lr-chart:xy`) by chart key. */
function parseLogAxes(text: string): Map<string, { x: boolean; y: boolean }> {
  const out = new Map<string, { x: boolean; y: boolean }>();
  for (const part of text.split(',')) {
    const [key, axes = ''] = part.split(':');
    if (key) out.set(key, { x: axes.includes('x'), y: axes.includes('y') });
  }
  return out;
}

/** Write the shown view's log axes into its URL as `log=<chart key>:<x|y|xy>,…` (no key while every axis is linear). */
function writeLogAxes(): void {
  const parts = shownCharts()
    .filter((c) => c.logX || c.logY)
    .map((c) => `${c.urlKey}:${c.logX ? 'x' : ''}${c.logY ? 'y' : ''}`);
  updateViewQuery({ log: parts.join(',') || null });
}

/**
 * On showing a view: its charts take the URL's `log=` (a chart it does not name goes linear); without
 * `log=` (a tab link carries only the shared keys) they keep their axes and write them back, so the
 * URL always says what the charts show.
 */
export function syncLogAxes(): void {
  const asked = viewQuery().get('log');
  if (asked !== null) {
    const axes = parseLogAxes(asked);
    for (const c of shownCharts()) {
      const a = axes.get(c.urlKey);
      c.applyLog(a?.x ?? false, a?.y ?? false);
    }
  }
  writeLogAxes();
}

/** Charts by `sync` key: they share the cursor and the x range. */
const xGroups = new Map<string, Set<Chart>>();
/** Set while a shared x range is being applied (the setScale hooks it fires must not echo it). */
let applyingX = false;

/** Save a blob as a file (an `<a download>` click; the URL is freed after). */
function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A CSV cell: quoted when it holds a comma, quote or line break. */
const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** Axis sizes shared by every chart, so stacked charts put the same step at the same pixel. */
const Y_AXIS_SIZE = 64;

export class Chart {
  readonly el: HTMLElement;
  private readonly plotHost: HTMLElement;
  private readonly emptyEl: HTMLElement;
  private readonly tools: HTMLElement;
  private readonly logXBtn: HTMLButtonElement;
  private readonly logYBtn: HTMLButtonElement;
  private u: uPlot | null = null;
  private signature = '';
  private series: SeriesInput[] = [];
  private flat: Flat[] = [];
  /** Steps covered by the data as drawn: [first, last] (null when empty). */
  private extent: [number, number] | null = null;
  private readonly resizeObserver: ResizeObserver;
  /** Upper limit for the y axis (e.g. to cut the warmup spike of a loss curve); NaN = auto. */
  yCap = NaN;
  logX = false;
  logY = false;

  constructor(
    private readonly opts: ChartOptions,
    private readonly className = '',
  ) {
    this.plotHost = h('div', { class: 'plot-host' });
    this.emptyEl = h('div', { class: 'chart-empty' }, opts.emptyText ?? 'Nothing to plot yet.');
    const toggle = (label: string, title: string, axis: 'x' | 'y') =>
      h('button', { type: 'button', class: 'chart-tool', title, 'aria-pressed': 'false', dataset: { tool: `log-${axis}` }, onclick: () => this.setLog(axis, !(axis === 'x' ? this.logX : this.logY)) }, label);
    this.logXBtn = toggle('log x', 'logarithmic step axis', 'x');
    this.logYBtn = toggle('log y', 'logarithmic value axis', 'y');
    this.tools = h(
      'div',
      { class: 'chart-tools' },
      this.logXBtn,
      this.logYBtn,
      h('button', { type: 'button', class: 'chart-tool', title: 'download this chart as a PNG image', dataset: { tool: 'png' }, onclick: () => this.exportPng() }, 'PNG'),
      h('button', { type: 'button', class: 'chart-tool', title: 'download the plotted values as CSV', dataset: { tool: 'csv' }, onclick: () => this.exportCsv() }, 'CSV'),
    );
    this.el = h('div', { class: `chart is-empty ${className}`, dataset: { points: '0', series: '0', logX: '0', logY: '0' } }, this.tools, this.plotHost, this.emptyEl);
    if (opts.sync) {
      if (!xGroups.has(opts.sync)) xGroups.set(opts.sync, new Set());
      xGroups.get(opts.sync)!.add(this);
    }
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.el);
    allCharts.add(this);
  }

  /** The chart's key in the URL's `log=`: its class name (e.g. `opt-loss`; unique per view), '' for none. */
  get urlKey(): string {
    return this.className;
  }

  /** The uPlot instance (null while empty). */
  get plot(): uPlot | null {
    return this.u;
  }

  private width(): number {
    return Math.max(280, Math.floor(this.el.clientWidth || 640));
  }

  private resize(): void {
    if (this.u && this.el.clientWidth > 0 && Math.abs(this.u.width - this.width()) > 2) this.u.setSize({ width: this.width(), height: this.opts.height });
  }

  /**
   * Switch an axis between linear and logarithmic (the plot is rebuilt; non-positive values are left
   * out on a log axis) and say so in the URL's `log=`, so a reload or a shared link keeps it.
   */
  setLog(axis: 'x' | 'y', on: boolean): void {
    this.applyLog(axis === 'x' ? on : this.logX, axis === 'y' ? on : this.logY);
    if (shownCharts().includes(this)) writeLogAxes();
  }

  /** Both axes at once, as the URL asks (one rebuild, none when nothing changes); the URL is left as it is. */
  applyLog(x: boolean, y: boolean): void {
    if (x === this.logX && y === this.logY) return;
    this.logX = x;
    this.logY = y;
    for (const [btn, on, key] of [[this.logXBtn, x, 'logX'], [this.logYBtn, y, 'logY']] as const) {
      btn.setAttribute('aria-pressed', String(on));
      btn.classList.toggle('on', on);
      this.el.dataset[key] = on ? '1' : '0';
    }
    this.set(this.series);
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
      this.flat = [];
      this.extent = null;
      this.el.classList.add('is-empty');
      this.shareX();
      return;
    }
    this.el.classList.remove('is-empty');
    const flat = flatten(series);
    this.flat = flat;
    const data = this.forAxes(alignSeries(flat));
    const xs = data[0] as number[];
    this.extent = xs.length ? [xs[0]!, xs[xs.length - 1]!] : null;
    const signature = JSON.stringify([this.logX, this.logY, flat.map((s) => [s.label, s.color, s.points, s.dash, s.width, s.pointSize, s.edge, s.band?.label, s.band?.fill])]);
    if (this.u && signature === this.signature) {
      this.u.setData(data, true);
      this.shareX();
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
    this.shareX();
  }

  /** The aligned data as the axes can draw it: on a log axis, steps <= 0 dropped and values <= 0 blank. */
  private forAxes(data: uPlot.AlignedData): uPlot.AlignedData {
    if (!this.logX && !this.logY) return data;
    let keep: number[] | null = null;
    if (this.logX) {
      keep = [];
      const xs = data[0] as ArrayLike<number>;
      for (let i = 0; i < xs.length; i++) if (xs[i]! > 0) keep.push(i);
    }
    return data.map((col, c) => {
      const arr = keep ? keep.map((i) => (col as ArrayLike<number | null>)[i]!) : Array.from(col as ArrayLike<number | null>);
      if (c > 0 && this.logY) for (let i = 0; i < arr.length; i++) if (arr[i] !== null && !(arr[i]! > 0)) arr[i] = null;
      return arr;
    }) as uPlot.AlignedData;
  }

  /** The x range every chart of this one's sync group shows: the union of their data (or a zoom). */
  private groupExtent(): [number, number] | null {
    const group = this.opts.sync ? xGroups.get(this.opts.sync) : undefined;
    let lo = Infinity;
    let hi = -Infinity;
    for (const c of group ?? [this]) {
      if (!c.extent || !c.u) continue;
      lo = Math.min(lo, c.extent[0]);
      hi = Math.max(hi, c.extent[1]);
    }
    return Number.isFinite(lo) && hi > lo ? [lo, hi] : null;
  }

  /** Put every chart of the sync group on the same x range (`range`, or their data's union). */
  private shareX(range?: [number, number]): void {
    if (!this.opts.sync || applyingX) return;
    const target = range ?? this.groupExtent();
    if (!target) return;
    applyingX = true;
    try {
      for (const c of xGroups.get(this.opts.sync) ?? []) {
        if (!c.u || !c.extent) continue;
        let [min, max] = target;
        if (c.logX && min <= 0) min = Math.max(c.extent[0], 1e-9);
        if (c.u.scales.x?.min !== min || c.u.scales.x?.max !== max) c.u.setScale('x', { min, max });
      }
    } finally {
      applyingX = false;
    }
  }

  /** Current series (as last set). */
  get current(): SeriesInput[] {
    return this.series;
  }

  /**
   * The legend text of series `i` (of the flat list) at aligned row `idx`: its value there, or when it
   * has no point at that step, its value interpolated between its neighbours ("≈").
   */
  private valueAtRow(u: uPlot, i: number, v: number | null | undefined, idx: number): { value: number; approx: boolean } {
    if (v !== null && v !== undefined) return { value: v, approx: false };
    const s = this.flat[i];
    const x = u.data[0][idx];
    if (!s || x === undefined || x === null) return { value: NaN, approx: false };
    const value = interpolateAt(s.steps, s.values, x);
    return { value: this.logY && !(value > 0) ? NaN : value, approx: true };
  }

  private options(series: Flat[]): uPlot.Options {
    const { lrAxis } = this.opts;
    const fmtV = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : lrAxis ? v.toExponential(3) : v.toFixed(4));
    // uPlot series indices (x is 0) of each band's edges, by the index of the series they belong to.
    const edges = new Map<number, { upper: number; lower: number; label: string; fill: string }>();
    series.forEach((s, i) => {
      if (s.band) edges.set(i + 1, { upper: i + 2, lower: i + 3, label: s.band.label ?? '', fill: s.band.fill ?? withAlpha(s.color, '26') });
    });
    const value = (i: number) => (u: uPlot, v: number | null, _si: number, idx: number | null) => {
      if (idx === null || idx === undefined) return fmtV(v);
      const own = this.valueAtRow(u, i, v, idx);
      const text = `${own.approx && Number.isFinite(own.value) ? '≈' : ''}${fmtV(own.value)}`;
      const band = edges.get(i + 1);
      if (!band || !Number.isFinite(own.value)) return text;
      const lo = this.valueAtRow(u, band.lower - 1, u.data[band.lower]?.[idx], idx).value;
      const hi = this.valueAtRow(u, band.upper - 1, u.data[band.upper]?.[idx], idx).value;
      if (!Number.isFinite(lo) || !Number.isFinite(hi)) return text;
      return `${text} (${band.label ? band.label + ': ' : ''}${fmtV(lo)}–${fmtV(hi)})`;
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
    if (this.opts.sync) {
      // A zoom (drag) or its reset (double-click: back to this chart's own data) moves the whole group.
      hooks.setScale = [
        (u, key) => {
          if (key !== 'x' || applyingX || u !== this.u) return;
          const min = u.scales.x?.min;
          const max = u.scales.x?.max;
          if (min === undefined || max === undefined || min === null || max === null) return;
          const own = this.extent;
          const reset = own !== null && min === own[0] && max === own[1];
          this.shareX(reset ? undefined : [min, max]);
        },
      ];
    }
    // The hover dot of a series without a point at the cursor's step goes where its interpolated value is (uPlot hides it).
    hooks.setCursor = [(u) => this.placeInterpolatedPoints(u)];
    if (this.opts.zeroLine) {
      hooks.draw = [
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
      ];
    }
    const yFmt = (_u: uPlot, vals: number[]) => vals.map((v) => (v === null || v === undefined ? '' : lrAxis ? (v === 0 ? '0' : v.toExponential(1)) : fmtNum(v, 4)));
    const logY = this.logY;
    return {
      width: this.width(),
      height: this.opts.height,
      cursor: { sync: this.opts.sync ? { key: this.opts.sync } : undefined, drag: { x: true, y: false } },
      scales: {
        // A log x axis spans the data exactly (uPlot's default snaps it to whole decades), so the group's range stays the data's.
        x: { time: false, ...(this.logX ? { distr: 3, log: 10, range: (_u: uPlot, min: number, max: number): uPlot.Range.MinMax => [min, max] } : {}) },
        y: {
          ...(logY ? { distr: 3, log: 10 } : {}),
          range: (_u, min, max) => {
            if (logY) {
              const lo = min > 0 ? min : 1e-12;
              const hi = Number.isFinite(this.yCap) && !lrAxis && this.yCap < max && this.yCap > lo ? this.yCap : max > lo ? max : lo * 10;
              return [lo / 1.04, hi * 1.04];
            }
            if (lrAxis) return [0, max > 0 ? max * 1.08 : 1];
            const hi = Number.isFinite(this.yCap) && this.yCap < max && this.yCap > min ? this.yCap : max;
            const pad = (hi - min) * 0.05 || Math.abs(hi) * 0.01 || 1;
            return [min - pad, hi + pad];
          },
        },
      },
      legend: { live: true },
      axes: [
        { label: this.opts.xLabel ?? 'step', values: (_u, vals) => vals.map((v) => (v === null || v === undefined ? '' : stepTick(v))), size: 36, labelSize: 18 },
        { label: this.opts.yLabel, values: yFmt, size: Y_AXIS_SIZE, labelSize: 18 },
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
      hooks,
    };
  }

  /**
   * Put the hover dots of series that have no point at the cursor's step at their interpolated value
   * (uPlot's cursor points: one element per series after x, in series order, centred on their translate).
   */
  private placeInterpolatedPoints(u: uPlot): void {
    const idx = u.cursor.idx;
    if (idx === null || idx === undefined) return;
    const x = u.data[0][idx];
    const pts = u.root.querySelectorAll<HTMLElement>('.u-cursor-pt');
    if (x === undefined || x === null || pts.length !== this.flat.length) return;
    this.flat.forEach((s, i) => {
      const v = u.data[i + 1]?.[idx];
      if (s.edge || s.points || u.series[i + 1]?.show === false || (v !== null && v !== undefined)) return;
      const y = interpolateAt(s.steps, s.values, x);
      if (!Number.isFinite(y) || (this.logY && !(y > 0))) return;
      const left = Math.ceil(u.valToPos(x, 'x'));
      const top = Math.ceil(u.valToPos(y, 'y'));
      if (left < 0 || top < 0 || left > u.over.clientWidth || top > u.over.clientHeight) return;
      const pt = pts[i]!;
      pt.style.transform = `translate(${left}px, ${top}px)`;
      pt.classList.remove('u-off');
    });
  }

  /** A file name for exports: the chart's class (e.g. "opt-loss"). */
  private fileStem(): string {
    return `lrcast-${this.className || 'chart'}`;
  }

  /**
   * Download the chart as a PNG: the plot canvas (axes included) on white, with a legend of the
   * shown series under it (uPlot's legend is HTML, not on the canvas).
   */
  exportPng(): void {
    const u = this.u;
    if (!u) return;
    const src = u.ctx.canvas;
    const ratio = src.width / u.width || 1;
    const shown = this.flat.map((s, i) => ({ s, on: u.series[i + 1]?.show !== false })).filter((x) => !x.s.edge && x.on).map((x) => x.s);
    const font = 12 * ratio;
    const perRow = Math.max(1, Math.floor(u.width / 220));
    const legendH = Math.ceil(shown.length / perRow) * 18 * ratio + 10 * ratio;
    const out = document.createElement('canvas');
    out.width = src.width;
    out.height = src.height + legendH;
    const ctx = out.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(src, 0, 0);
    ctx.font = `${font}px system-ui, sans-serif`;
    ctx.textBaseline = 'middle';
    const colW = out.width / perRow;
    shown.forEach((s, k) => {
      const x = (k % perRow) * colW + 10 * ratio;
      const y = src.height + 5 * ratio + Math.floor(k / perRow) * 18 * ratio + 9 * ratio;
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 3 * ratio;
      ctx.setLineDash((s.dash ?? []).map((d) => d * ratio));
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.lineTo(x + 18 * ratio, y);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = '#0f172a';
      ctx.fillText(s.label.length > 34 ? `${s.label.slice(0, 33)}…` : s.label, x + 24 * ratio, y, colW - 36 * ratio);
    });
    out.toBlob((blob) => blob && saveBlob(blob, `${this.fileStem()}.png`), 'image/png');
  }

  /** The plotted values as CSV: `step` and one column per series (band edges too), blank where a series has no point. */
  csv(): string {
    const data = alignSeries(this.flat);
    const lines = [['step', ...this.flat.map((s) => s.label)].map(csvCell).join(',')];
    const xs = data[0] as ArrayLike<number>;
    for (let r = 0; r < xs.length; r++) {
      const row = [String(xs[r])];
      for (let c = 1; c < data.length; c++) {
        const v = (data[c] as ArrayLike<number | null>)[r];
        row.push(v === null || v === undefined || !Number.isFinite(v) ? '' : String(v));
      }
      lines.push(row.join(','));
    }
    return lines.join('\n') + '\n';
  }

  /** Download `csv()` as a file. */
  exportCsv(): void {
    if (!this.flat.length) return;
    saveBlob(new Blob([this.csv()], { type: 'text/csv' }), `${this.fileStem()}.csv`);
  }

  destroy(): void {
    this.u?.destroy();
    this.u = null;
    this.signature = '';
  }
}
