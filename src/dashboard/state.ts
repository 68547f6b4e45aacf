/**
 * State shared between views: the curve list and selection (Curves -> Fits), the fit list
 * and the current fit (Fits -> What-if -> Optimize). Views subscribe to changes.
 */
import { api, type CurveSummary, type FitSummary } from './api.js';
import { curveColors } from './charts.js';

type Listener = () => void;

class Store {
  curves: CurveSummary[] = [];
  curvesLoaded = false;
  /** Each curve's colour, grouped by model (charts.ts curveColors): the same in every view and for any selection. */
  colors = new Map<number, string>();
  selected = new Set<number>();
  fits: FitSummary[] = [];
  fitsLoaded = false;
  /** null when the fits routes answered 404 (not deployed). */
  fitsError: unknown = null;
  currentFit: number | null = null;
  private listeners = new Map<string, Set<Listener>>();

  on(topic: 'curves' | 'selection' | 'fits' | 'fit', fn: Listener): void {
    if (!this.listeners.has(topic)) this.listeners.set(topic, new Set());
    this.listeners.get(topic)!.add(fn);
  }
  emit(topic: 'curves' | 'selection' | 'fits' | 'fit'): void {
    for (const fn of this.listeners.get(topic) ?? []) fn();
  }

  async loadCurves(): Promise<void> {
    const res = await api.listCurves();
    this.curves = res.items;
    this.curvesLoaded = true;
    this.colors = curveColors(this.curves);
    const ids = new Set(this.curves.map((c) => c.id));
    for (const id of this.selected) if (!ids.has(id)) this.selected.delete(id);
    this.emit('curves');
  }

  setSelected(ids: Iterable<number>): void {
    this.selected = new Set(ids);
    this.emit('selection');
  }

  async loadFits(): Promise<void> {
    try {
      const res = await api.listFits();
      this.fits = [...res.items].sort((a, b) => b.id - a.id);
      this.fitsError = null;
    } catch (err) {
      this.fits = [];
      this.fitsError = err;
    }
    this.fitsLoaded = true;
    if (this.currentFit !== null && !this.fits.some((f) => f.id === this.currentFit)) this.currentFit = null;
    if (this.currentFit === null && this.fits.length) this.currentFit = this.fits[0]!.id;
    this.emit('fits');
  }

  setFit(id: number | null): void {
    if (id === this.currentFit) return;
    this.currentFit = id;
    this.emit('fit');
  }

  /** The colour of curve `id` in every chart and list. */
  curveColor(id: number): string {
    return this.colors.get(id) ?? '#94a3b8';
  }

  /**
   * The first-run selection: the training curves (meta split "train") of the smallest model, so the
   * first page shows a sensible set to fit; none when no curve is tagged.
   */
  defaultSelection(): number[] {
    const train = this.curves.filter((c) => c.meta?.split === 'train');
    if (!train.length) return [];
    const first = [...this.colors.keys()].find((id) => train.some((c) => c.id === id));
    const model = (c: CurveSummary) => String(c.meta?.modelSize ?? c.meta?.model ?? c.name.split('/')[0]);
    const pick = train.find((c) => c.id === first) ?? train[0]!;
    return train.filter((c) => model(c) === model(pick)).map((c) => c.id);
  }

  curveName(id: number): string {
    return this.curves.find((c) => c.id === id)?.name ?? `curve ${id}`;
  }
}

export const store = new Store();

/** A <select> of fits bound to `store.currentFit`, kept in sync across views. */
export function fitLabel(f: FitSummary): string {
  const names = f.curveIds.map((id) => store.curveName(id));
  const shown = names.length > 2 ? `${names.slice(0, 2).join(', ')} +${names.length - 2}` : names.join(', ');
  return `#${f.id} ${f.law.toUpperCase()} · ${shown}`;
}
