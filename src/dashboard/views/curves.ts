/**
 * Curves view: the stored curves with their meta, CSV upload by drag and drop (name,
 * schedule spec, warmup), delete, and a loss-vs-step plot of the selection with the
 * learning-rate schedule under it.
 */
import { api, everyFor, toApiError, type Curve, type CurveSummary } from '../api.js';
import { Chart, color, type SeriesInput } from '../charts.js';
import { store } from '../state.js';
import { h, setContent, emptyState, loadingState, errorState, fmtInt, toast, markField, field, debounce } from '../ui.js';

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

function metaChips(c: CurveSummary): HTMLElement[] {
  const meta = c.meta ?? {};
  return ['split']
    .filter((k) => typeof meta[k] === 'string' || typeof meta[k] === 'number')
    .map((k) => h('span', { class: `chip chip-${k}` }, String(meta[k])));
}

export function curvesView(): { el: HTMLElement; show: () => void } {
  const listHost = h('div', { class: 'curve-list', 'data-testid': 'curve-list' });
  const filter = h('input', { type: 'search', placeholder: 'Filter by name, size, schedule…', 'aria-label': 'filter curves' });
  const count = h('span', { class: 'muted' });
  const lossChart = new Chart({ height: 340, yLabel: 'loss', sync: 'curves', emptyText: 'Select curves on the left to plot loss vs step.' }, 'loss-chart');
  const lrChart = new Chart({ height: 170, yLabel: 'learning rate', sync: 'curves', lrAxis: true, emptyText: 'The learning-rate schedule of the selection appears here.' }, 'lr-chart');
  const plotStatus = h('div', { class: 'plot-status' });

  // ---- upload ----
  let staged: { file: string; csv: string } | null = null;
  const fileInput = h('input', { type: 'file', accept: '.csv,text/csv', hidden: true, onchange: () => fileInput.files?.[0] && stage(fileInput.files[0]) });
  const dropLabel = h('span', {}, 'Drop a CSV here', h('small', {}, 'columns step, loss and optional lr, any order · or click to choose'));
  const drop = h('div', { class: 'dropzone', 'data-testid': 'dropzone', tabindex: '0', role: 'button', onclick: () => fileInput.click() }, dropLabel);
  const nameIn = h('input', { type: 'text', name: 'name', 'data-field': 'name', placeholder: 'e.g. 25M/cosine_24000', required: true });
  const schedIn = h('input', { type: 'text', name: 'schedule', 'data-field': 'schedule', placeholder: 'cosine:peak=3e-4,total=24000,warmup=2160,final=3e-5', spellcheck: 'false' });
  const warmIn = h('input', { type: 'text', name: 'warmupSteps', 'data-field': 'warmupSteps', inputmode: 'numeric', placeholder: 'optional' });
  const uploadBtn = h('button', { class: 'primary', type: 'submit', disabled: true, 'data-testid': 'upload' }, 'Upload');
  const uploadStatus = h('div', { class: 'upload-status', 'data-testid': 'upload-status' });
  const fields = h(
    'div',
    { class: 'upload-fields', hidden: true },
    field('Name', nameIn),
    field('Schedule spec', schedIn, 'needed when the CSV has no lr column'),
    h('div', { class: 'grid2' }, field('Warmup steps', warmIn), h('div', { class: 'row end' }, uploadBtn)),
  );
  const form = h(
    'form',
    { class: 'upload-form', onsubmit: (e: Event) => (e.preventDefault(), void upload()) },
    drop,
    fileInput,
    fields,
    uploadStatus,
  );

  async function stage(file: File) {
    const csv = await file.text();
    const rows = csv.split(/\r?\n/).filter((l) => l.trim()).length - 1;
    staged = { file: file.name, csv };
    drop.classList.add('has-file');
    setContent(dropLabel, `${file.name}`, h('small', {}, `${fmtInt(Math.max(0, rows))} rows · drop another to replace`));
    if (!nameIn.value) nameIn.value = file.name.replace(/\.csv$/i, '');
    uploadBtn.disabled = false;
    fields.hidden = false;
    setContent(uploadStatus);
    nameIn.focus();
  }

  for (const ev of ['dragenter', 'dragover']) drop.addEventListener(ev, (e) => (e.preventDefault(), drop.classList.add('over')));
  for (const ev of ['dragleave', 'drop']) drop.addEventListener(ev, () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    const file = (e as DragEvent).dataTransfer?.files?.[0];
    if (file) void stage(file);
  });
  drop.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && fileInput.click());

  async function upload() {
    if (!staged) return;
    uploadBtn.disabled = true;
    markField(form, null);
    setContent(uploadStatus, loadingState(`Uploading ${staged.file}…`));
    try {
      const warm = warmIn.value.trim();
      const created = await api.uploadCsv(staged.csv, {
        name: nameIn.value.trim(),
        schedule: schedIn.value.trim() || undefined,
        warmupSteps: warm ? Number(warm) : undefined,
      });
      setContent(uploadStatus, h('div', { class: 'state ok' }, `Stored "${created.name}" (#${created.id}, ${fmtInt(created.pointCount)} points).`));
      staged = null;
      form.reset();
      fields.hidden = true;
      drop.classList.remove('has-file');
      setContent(dropLabel, 'Drop a CSV here', h('small', {}, 'columns step, loss and optional lr, any order · or click to choose'));
      await store.loadCurves();
      store.setSelected([...store.selected, created.id]);
    } catch (err) {
      markField(form, err);
      setContent(uploadStatus, errorState(err, 'Upload rejected'));
      uploadBtn.disabled = false;
    }
  }

  // ---- list ----
  function renderList() {
    if (!store.curvesLoaded) return;
    const term = filter.value.trim().toLowerCase();
    const shown = store.curves.filter((c) => !term || `${c.name} ${c.schedule ?? ''} ${JSON.stringify(c.meta ?? {})}`.toLowerCase().includes(term));
    count.textContent = `${store.selected.size} of ${store.curves.length} selected`;
    if (!store.curves.length) {
      setContent(listHost, emptyState('No curves stored yet.', 'Drop a CSV with step and loss columns below to add one.'));
      return;
    }
    if (!shown.length) {
      setContent(listHost, emptyState('No curve matches the filter.'));
      return;
    }
    const colorIndex = new Map([...store.selected].map((id, i) => [id, i]));
    setContent(
      listHost,
      ...shown.map((c) => {
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
        const swatch = h('span', { class: 'swatch', style: checked ? `background:${color(colorIndex.get(c.id) ?? 0)}` : '' });
        const del = h('button', { class: 'icon danger', title: `delete ${c.name}`, 'aria-label': `delete ${c.name}`, onclick: (e: Event) => (e.preventDefault(), void remove(c)) }, '×');
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
      }),
    );
  }

  async function remove(c: CurveSummary) {
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
  let plotToken = 0;
  async function renderPlot() {
    const token = ++plotToken;
    const ids = [...store.selected];
    if (!ids.length) {
      lossChart.set([]);
      lrChart.set([]);
      setContent(plotStatus);
      return;
    }
    setContent(plotStatus, loadingState(`Loading ${ids.length} curve${ids.length > 1 ? 's' : ''}…`));
    try {
      const curves = await Promise.all(ids.map(loadCurve));
      const summaries = ids.map((id) => store.curves.find((c) => c.id === id)).filter((c): c is CurveSummary => !!c);
      const schedules = await Promise.all(summaries.map(loadSchedule));
      if (token !== plotToken) return;
      const loss: SeriesInput[] = curves.map((c, i) => ({ label: c.name, color: color(i), steps: c.points.map((p) => p.step), values: c.points.map((p) => p.loss) }));
      const lr: SeriesInput[] = [];
      schedules.forEach((s, i) => s && lr.push({ label: summaries[i]!.name, color: color(i), steps: s.steps, values: s.lrs }));
      lossChart.set(loss);
      lrChart.set(lr, 'No schedule stored for the selection (no spec and no lr column).');
      setContent(plotStatus, h('span', { class: 'muted' }, `${curves.length} curve${curves.length > 1 ? 's' : ''}, ${fmtInt(loss.reduce((n, s) => n + s.values.length, 0))} points · drag to zoom, double-click to reset`));
    } catch (err) {
      if (token !== plotToken) return;
      setContent(plotStatus, errorState(err, 'Could not load the selected curves'));
    }
  }

  filter.addEventListener('input', debounce(renderList, 80));
  store.on('curves', renderList);
  store.on('selection', () => (renderList(), void renderPlot()));

  const allBtn = h('button', { class: 'link', onclick: () => store.setSelected(store.curves.map((c) => c.id)) }, 'all');
  const noneBtn = h('button', { class: 'link', onclick: () => store.setSelected([]) }, 'none');
  const el = h(
    'section',
    { class: 'view', id: 'view-curves' },
    h(
      'aside',
      { class: 'panel' },
      h('div', { class: 'card grow' }, h('header', {}, h('h2', {}, 'Curves'), count, h('span', { class: 'spacer' }), allBtn, noneBtn), filter, listHost),
      h('details', { class: 'card upload', open: true }, h('summary', {}, h('h2', {}, 'Upload a CSV')), form),
    ),
    h('div', { class: 'content' }, h('div', { class: 'card' }, h('header', {}, h('h2', {}, 'Loss vs step'), plotStatus), lossChart.el, h('h3', {}, 'Learning-rate schedule'), lrChart.el)),
  );
  setContent(listHost, loadingState('Loading curves…'));
  return {
    el,
    show: () => {
      if (!store.curvesLoaded) return;
      renderList();
    },
  };
}

/** Shown in the list host when the first load fails. */
export function curvesLoadError(el: HTMLElement, err: unknown): void {
  const host = el.querySelector('[data-testid="curve-list"]');
  if (host) setContent(host, errorState(err, 'Could not load the curves'));
}
