/**
 * Curves view: the stored curves with their meta, CSV upload by drag and drop (name, schedule
 * spec or the CSV's logged lrs with a warmup, tags model and split as the fixtures carry them),
 * delete, and a loss-vs-step plot of the selection with the learning-rate schedule under it.
 * With nothing selected the plot area shows the 1-2-3 of the dashboard (select, fit, predict).
 */
import { api, everyFor, toApiError, ApiError, type Curve, type CurveSummary } from '../api.js';
import { Chart, modelOf, type SeriesInput } from '../charts.js';
import { parseCurveCsv } from '../../curves/csv.js';
import { store } from '../state.js';
import { h, setContent, emptyState, loadingState, errorState, fmtInt, toast, markField, field, debounce, firstRunSteps } from '../ui.js';

const curveCache = new Map<number, Promise<Curve>>();
const scheduleCache = new Map<number, Promise<{ steps: number[]; lrs: number[] } | null>>();

/** A curve with its points, fetched once. */
export function loadCurve(id: number): Promise<Curve> {
  if (!curveCache.has(id)) {
    const p = api.getCurve(id);
    p.catch(() => curveCache.delete(id));
    curveCache.set(id, p);
  }
  return curveCache.get(id)!;
}

function loadSchedule(c: CurveSummary) {
  if (!scheduleCache.has(c.id)) {
    const total = c.lastStep + 1;
    scheduleCache.set(c.id, api.curveSchedule(c.id, everyFor(total, 3000)).catch(() => null));
  }
  return scheduleCache.get(c.id)!;
}

/** The curve's tags as chips: its model (meta modelSize or model) and split. */
function metaChips(c: CurveSummary): HTMLElement[] {
  const meta = c.meta ?? {};
  const chips: HTMLElement[] = [];
  const model = typeof meta.modelSize === 'string' || typeof meta.model === 'string' ? modelOf(c) : '';
  if (model) chips.push(h('span', { class: 'chip chip-model' }, model));
  if (typeof meta.split === 'string' || typeof meta.split === 'number') chips.push(h('span', { class: 'chip chip-split' }, String(meta.split)));
  return chips;
}

const DROP_HINT = 'columns step, loss and optional lr, any order · or click to choose';

/**
 * The Curves view. Like the other views it is a class: the elements and the view's state are
 * fields, and each concern (building, upload, list, plot) is a method of its own.
 */
class CurvesView {
  readonly el: HTMLElement;
  private readonly listHost = h('div', { class: 'curve-list', 'data-testid': 'curve-list' });
  private readonly filter = h('input', { type: 'search', placeholder: 'Filter by name, size, schedule…', 'aria-label': 'filter curves' });
  private readonly count = h('span', { class: 'muted' });
  private readonly lossChart = new Chart({ height: 340, yLabel: 'loss', sync: 'curves', emptyText: 'Select curves on the left to plot loss vs step.' }, 'loss-chart');
  private readonly lrChart = new Chart({ height: 170, yLabel: 'learning rate', sync: 'curves', lrAxis: true, emptyText: 'The learning-rate schedule of the selection appears here.' }, 'lr-chart');
  private readonly plotStatus = h('div', { class: 'plot-status' });
  /** The 1-2-3 shown while nothing is selected. */
  private readonly guide = firstRunSteps();
  private plotToken = 0;

  // ---- upload ----
  private staged: { file: string; csv: string } | null = null;
  private readonly fileInput: HTMLInputElement = h('input', { type: 'file', accept: '.csv,text/csv', hidden: true, onchange: () => this.fileInput.files?.[0] && this.stage(this.fileInput.files[0]) });
  private readonly dropLabel = h('span', {}, 'Drop a CSV here', h('small', {}, DROP_HINT));
  private readonly drop = h('div', { class: 'dropzone', 'data-testid': 'dropzone', tabindex: '0', role: 'button', onclick: () => this.fileInput.click() }, this.dropLabel);
  private readonly nameIn = h('input', { type: 'text', name: 'name', 'data-field': 'name', placeholder: 'e.g. 25M/cosine_24000', required: true });
  private readonly schedFrom = h(
    'select',
    { name: 'scheduleFrom', 'data-testid': 'schedule-from', onchange: () => this.showScheduleFields() },
    h('option', { value: 'spec' }, 'a schedule spec'),
    h('option', { value: 'lrs' }, "the CSV's lr column"),
  );
  private readonly schedIn = h('input', { type: 'text', name: 'schedule', 'data-field': 'schedule', placeholder: 'cosine:peak=3e-4,total=24000,warmup=2160,final=3e-5', spellcheck: 'false' });
  private readonly warmIn = h('input', { type: 'text', name: 'warmupSteps', 'data-field': 'warmupSteps', inputmode: 'numeric', placeholder: 'optional' });
  private readonly modelIn = h('input', { type: 'text', name: 'model', 'data-field': 'meta', placeholder: 'e.g. 25M', autocomplete: 'off' });
  private readonly splitIn = h('select', { name: 'split' }, h('option', { value: '' }, '—'), h('option', { value: 'train' }, 'train'), h('option', { value: 'test' }, 'test'), h('option', { value: 'val' }, 'val'));
  private readonly uploadBtn = h('button', { class: 'primary', type: 'submit', disabled: true, 'data-testid': 'upload' }, 'Upload');
  private readonly uploadStatus = h('div', { class: 'upload-status', 'data-testid': 'upload-status' });
  private readonly specRow = field('Schedule spec', this.schedIn, "the run's schedule; logged lrs in the CSV must agree with it");
  private readonly warmRow = field('Warmup steps', this.warmIn, 'linear warmup from 0 before the first logged lr');
  private readonly fields = h(
    'div',
    { class: 'upload-fields', hidden: true },
    field('Name', this.nameIn),
    field('Schedule from', this.schedFrom),
    this.specRow,
    this.warmRow,
    h('div', { class: 'grid2' }, field('Model (tag)', this.modelIn), field('Split (tag)', this.splitIn)),
    h('div', { class: 'row end' }, this.uploadBtn),
  );
  private readonly form = h(
    'form',
    { class: 'upload-form', onsubmit: (e: Event) => (e.preventDefault(), void this.upload()) },
    this.drop,
    this.fileInput,
    this.fields,
    this.uploadStatus,
  );

  constructor() {
    this.bindDrop();
    this.showScheduleFields();
    this.guide.hidden = true; // shown once the first load has left nothing selected
    this.filter.addEventListener('input', debounce(() => this.renderList(), 80));
    store.on('curves', () => this.renderList());
    store.on('selection', () => (this.renderList(), void this.renderPlot()));
    this.el = this.layout();
    setContent(this.listHost, loadingState('Loading curves…'));
  }

  show(): void {
    if (!store.curvesLoaded) return;
    this.renderList();
  }

  private layout(): HTMLElement {
    const allBtn = h('button', { class: 'link', onclick: () => store.setSelected(store.curves.map((c) => c.id)) }, 'all');
    const noneBtn = h('button', { class: 'link', onclick: () => store.setSelected([]) }, 'none');
    return h(
      'section',
      { class: 'view', id: 'view-curves' },
      h(
        'aside',
        { class: 'panel' },
        h('div', { class: 'card grow' }, h('header', {}, h('h2', {}, 'Curves'), this.count, h('span', { class: 'spacer' }), allBtn, noneBtn), this.filter, this.listHost),
        h('details', { class: 'card upload', open: true }, h('summary', {}, h('h2', {}, 'Upload a CSV')), this.form),
      ),
      h('div', { class: 'content' }, h('div', { class: 'card' }, h('header', {}, h('h2', {}, 'Loss vs step'), this.plotStatus), this.guide, this.lossChart.el, h('h3', {}, 'Learning-rate schedule'), this.lrChart.el)),
    );
  }

  // ---- upload ----
  private bindDrop(): void {
    const drop = this.drop;
    for (const ev of ['dragenter', 'dragover']) drop.addEventListener(ev, (e) => (e.preventDefault(), drop.classList.add('over')));
    for (const ev of ['dragleave', 'drop']) drop.addEventListener(ev, () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      const file = (e as DragEvent).dataTransfer?.files?.[0];
      if (file) void this.stage(file);
    });
    drop.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && this.fileInput.click());
  }

  /** Spec or logged lrs: show the input that applies (a spec carries its warmup; rebuilt lrs take one). */
  private showScheduleFields(): void {
    const fromLrs = this.schedFrom.value === 'lrs';
    this.specRow.hidden = fromLrs;
    this.warmRow.hidden = !fromLrs;
  }

  private async stage(file: File): Promise<void> {
    const csv = await file.text();
    const rows = csv.split(/\r?\n/).filter((l) => l.trim()).length - 1;
    this.staged = { file: file.name, csv };
    // A CSV with an lr column defaults to its logged lrs (the spec stays possible).
    const header = csv.split(/\r?\n/, 1)[0]!.toLowerCase().split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
    this.schedFrom.value = header.includes('lr') && !this.schedIn.value ? 'lrs' : 'spec';
    this.showScheduleFields();
    this.drop.classList.add('has-file');
    setContent(this.dropLabel, `${file.name}`, h('small', {}, `${fmtInt(Math.max(0, rows))} rows · drop another to replace`));
    if (!this.nameIn.value) this.nameIn.value = file.name.replace(/\.csv$/i, '');
    this.uploadBtn.disabled = false;
    this.fields.hidden = false;
    setContent(this.uploadStatus);
    this.nameIn.focus();
  }

  private async upload(): Promise<void> {
    const staged = this.staged;
    if (!staged) return;
    this.uploadBtn.disabled = true;
    markField(this.form, null);
    setContent(this.uploadStatus, loadingState(`Uploading ${staged.file}…`));
    try {
      const created = await api.uploadCurve(this.uploadBody(staged.csv));
      setContent(this.uploadStatus, h('div', { class: 'state ok' }, `Stored "${created.name}" (#${created.id}, ${fmtInt(created.pointCount)} points).`));
      this.resetUpload();
      await store.loadCurves();
      store.setSelected([...store.selected, created.id]);
    } catch (err) {
      markField(this.form, err);
      setContent(this.uploadStatus, errorState(err, 'Upload rejected'));
      this.uploadBtn.disabled = false;
    }
  }

  /**
   * The JSON upload of a staged CSV: its points read by the server's own CSV reader (src/curves/csv.ts,
   * so the rules and messages are the API's), the name, the spec or a warmup, and the tags as `meta`
   * (`modelSize`, `split`: the keys the fixtures use, so the curve gets the same chips and colour group).
   */
  private uploadBody(csv: string): Record<string, unknown> {
    let columns: ReturnType<typeof parseCurveCsv>;
    try {
      columns = parseCurveCsv(csv);
    } catch (err) {
      const e = err as Error & { status?: number; field?: string };
      throw new ApiError(e.status ?? 400, e.message, e.field, 'Bad Request');
    }
    const points = Array.from(columns.steps, (step, i) => {
      const lr = columns.lrs?.[i];
      return lr !== undefined && !Number.isNaN(lr) ? { step, loss: columns.losses[i]!, lr } : { step, loss: columns.losses[i]! };
    });
    const meta: Record<string, string> = {};
    if (this.modelIn.value.trim()) meta.modelSize = this.modelIn.value.trim();
    if (this.splitIn.value) meta.split = this.splitIn.value;
    const body: Record<string, unknown> = { name: this.nameIn.value.trim(), points };
    if (Object.keys(meta).length) body.meta = meta;
    if (this.schedFrom.value === 'spec') {
      if (this.schedIn.value.trim()) body.schedule = this.schedIn.value.trim();
    } else if (this.warmIn.value.trim()) body.warmupSteps = Number(this.warmIn.value.trim());
    return body;
  }

  /** Back to the empty drop zone after a stored upload. */
  private resetUpload(): void {
    this.staged = null;
    this.form.reset();
    this.showScheduleFields();
    this.fields.hidden = true;
    this.drop.classList.remove('has-file');
    setContent(this.dropLabel, 'Drop a CSV here', h('small', {}, DROP_HINT));
  }

  // ---- list ----
  private renderList(): void {
    if (!store.curvesLoaded) return;
    const term = this.filter.value.trim().toLowerCase();
    const shown = store.curves.filter((c) => !term || `${c.name} ${c.schedule ?? ''} ${JSON.stringify(c.meta ?? {})}`.toLowerCase().includes(term));
    this.count.textContent = `${store.selected.size} of ${store.curves.length} selected`;
    if (!store.curves.length) {
      setContent(this.listHost, emptyState('No curves stored yet.', 'Drop a CSV with step and loss columns below to add one.'));
      return;
    }
    if (!shown.length) {
      setContent(this.listHost, emptyState('No curve matches the filter.'));
      return;
    }
    setContent(this.listHost, ...shown.map((c) => this.curveRow(c)));
  }

  /** One row of the list: checkbox, colour swatch, name and meta, delete button. */
  private curveRow(c: CurveSummary): HTMLElement {
    const checked = store.selected.has(c.id);
    const box = h('input', {
      type: 'checkbox',
      checked,
      'aria-label': `select ${c.name}`,
      onchange: () => {
        const next = new Set(store.selected);
        if (box.checked) next.add(c.id);
        else next.delete(c.id);
        store.setSelected(next);
      },
    });
    const swatch = h('span', { class: 'swatch', style: checked ? `background:${store.curveColor(c.id)}` : '' });
    const del = h('button', { class: 'icon danger', title: `delete ${c.name}`, 'aria-label': `delete ${c.name}`, onclick: (e: Event) => (e.preventDefault(), void this.remove(c)) }, '×');
    return h(
      'label',
      { class: `curve-row${checked ? ' selected' : ''}`, dataset: { id: String(c.id), name: c.name }, 'data-testid': 'curve-row' },
      box,
      swatch,
      h(
        'span',
        { class: 'curve-main' },
        h('span', { class: 'curve-name', title: JSON.stringify(c.meta ?? {}) }, h('span', { class: 'ellipsis' }, c.name), ...metaChips(c)),
        h('span', { class: 'curve-sub', title: c.schedule ?? '' }, `${c.schedule?.split(':')[0] ?? 'lr column'} · ${fmtInt(c.pointCount)} pts · steps ${fmtInt(c.firstStep)}–${fmtInt(c.lastStep)}`),
      ),
      del,
    );
  }

  private async remove(c: CurveSummary): Promise<void> {
    if (!confirm(`Delete curve "${c.name}" (#${c.id})? Fits that use it may stop working.`)) return;
    try {
      await api.deleteCurve(c.id);
      curveCache.delete(c.id);
      scheduleCache.delete(c.id);
      toast(`Deleted "${c.name}".`);
      await store.loadCurves();
      store.setSelected([...store.selected].filter((id) => id !== c.id));
    } catch (err) {
      toast(toApiError(err).describe(), 'error');
    }
  }

  // ---- plot ----
  private async renderPlot(): Promise<void> {
    const token = ++this.plotToken;
    const ids = [...store.selected];
    this.guide.hidden = ids.length > 0;
    if (!ids.length) {
      this.lossChart.set([]);
      this.lrChart.set([]);
      setContent(this.plotStatus);
      return;
    }
    setContent(this.plotStatus, loadingState(`Loading ${ids.length} curve${ids.length > 1 ? 's' : ''}…`));
    try {
      const curves = await Promise.all(ids.map(loadCurve));
      const summaries = ids.map((id) => store.curves.find((c) => c.id === id)).filter((c): c is CurveSummary => !!c);
      const schedules = await Promise.all(summaries.map(loadSchedule));
      if (token !== this.plotToken) return;
      const loss: SeriesInput[] = curves.map((c) => ({ label: c.name, color: store.curveColor(c.id), steps: c.points.map((p) => p.step), values: c.points.map((p) => p.loss) }));
      const lr: SeriesInput[] = [];
      schedules.forEach((s, i) => s && lr.push({ label: summaries[i]!.name, color: store.curveColor(summaries[i]!.id), steps: s.steps, values: s.lrs }));
      this.lossChart.set(loss);
      this.lrChart.set(lr, 'No schedule stored for the selection (no spec and no lr column).');
      setContent(this.plotStatus, h('span', { class: 'muted' }, `${curves.length} curve${curves.length > 1 ? 's' : ''}, ${fmtInt(loss.reduce((n, s) => n + s.values.length, 0))} points · drag to zoom, double-click to reset`));
    } catch (err) {
      if (token !== this.plotToken) return;
      setContent(this.plotStatus, errorState(err, 'Could not load the selected curves'));
    }
  }
}

export function curvesView(): { el: HTMLElement; show: () => void } {
  const view = new CurvesView();
  return { el: view.el, show: () => view.show() };
}

/** Shown in the list host when the first load fails. */
export function curvesLoadError(el: HTMLElement, err: unknown): void {
  const host = el.querySelector('[data-testid="curve-list"]');
  if (host) setContent(host, errorState(err, 'Could not load the curves'));
}
