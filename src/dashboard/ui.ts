/** Small DOM helpers shared by the views: element builder, number formats, status boxes. */
import { ApiError, toApiError } from './api.js';

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, unknown> & { class?: string; dataset?: Record<string, string> };

/** `h('button', {class: 'primary', onclick}, 'Run')`: attributes, on* listeners, children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value as EventListener);
    else if (key === 'class') el.className = String(value);
    else if (key in el && typeof value !== 'string') (el as unknown as Record<string, unknown>)[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
}

/** Replace an element's content. */
export function setContent(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

/** Loss-like numbers: 4 decimals. */
export const fmtLoss = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(4));
/** A prediction interval "80%: 3.1772–3.3676" (level in (0, 1)); '' when a bound is missing. */
export function fmtInterval(level: number | undefined, lower: number | null | undefined, upper: number | null | undefined): string {
  if (lower === null || lower === undefined || upper === null || upper === undefined || !Number.isFinite(lower) || !Number.isFinite(upper)) return '';
  return `${level !== undefined ? `${+(level * 100).toFixed(1)}%: ` : ''}${fmtLoss(lower)}–${fmtLoss(upper)}`;
}
/** A loss with its interval: "3.2571 (80%: 3.1772–3.3676)", or the loss alone. */
export function fmtLossInterval(loss: number | null | undefined, level?: number, lower?: number | null, upper?: number | null): string {
  const range = fmtInterval(level, lower, upper);
  return range ? `${fmtLoss(loss)} (${range})` : fmtLoss(loss);
}
/** Compact general numbers: 3 significant digits, exponent for tiny/huge. */
export function fmtNum(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}
export const fmtInt = (v: number) => v.toLocaleString('en-US');
export const fmtPct = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(2)}%`);

/** A neutral "nothing here yet" box with a hint of what to do. */
export function emptyState(title: string, hint = ''): HTMLElement {
  return h('div', { class: 'state empty' }, h('strong', {}, title), hint ? h('p', {}, hint) : null);
}
/** The dashboard's 1-2-3 for a first visit: select curves, fit a law, then predict or optimize. */
export function firstRunSteps(): HTMLElement {
  const step = (n: number, title: string, text: string, href: string) => h('li', {}, h('b', {}, String(n)), h('span', {}, h('a', { href }, title), ' ', text));
  return h(
    'ol',
    { class: 'first-run', 'data-testid': 'first-run' },
    step(1, 'Select curves', 'on the left (a fixture\'s training curves, or drop your own CSV).', '#/curves'),
    step(2, 'Fit a law', 'to them in Fits, and check it on the curves it did not see.', '#/fits'),
    step(3, 'Predict or optimize', 'a schedule in What-if or Optimize.', '#/whatif'),
  );
}

/** A spinner with what is being waited for. */
export function loadingState(what: string): HTMLElement {
  return h('div', { class: 'state loading', role: 'status' }, h('span', { class: 'spinner' }), what);
}
/** An error box: the problem details of an API error, or the message of anything else. */
export function errorState(err: unknown, context = ''): HTMLElement {
  const e = err instanceof ApiError ? err : toApiError(err);
  return h(
    'div',
    { class: 'state error', role: 'alert', dataset: { status: String(e.status), field: e.field ?? '' } },
    h('strong', {}, context || 'Request failed'),
    h('p', { class: 'detail' }, e.detail),
    h('p', { class: 'meta' }, `${e.status ? `HTTP ${e.status}` : 'no response'}${e.field ? ` · field: ${e.field}` : ''}`),
  );
}

/** Brief notice in the corner (success or failure of an action). */
export function toast(message: string, kind: 'ok' | 'error' = 'ok'): void {
  const host = document.getElementById('toasts');
  if (!host) return;
  const el = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  host.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 3500);
}

/** Mark the form control for an API error's `field` (and clear old marks). */
export function markField(form: HTMLElement, err: unknown): void {
  for (const el of form.querySelectorAll('.invalid')) el.classList.remove('invalid');
  const field = err instanceof ApiError ? err.field : undefined;
  if (!field) return;
  const base = field.split(/[.[]/)[0]!;
  const target = form.querySelector(`[data-field="${field}"]`) ?? form.querySelector(`[data-field="${base}"]`);
  target?.classList.add('invalid');
}

/** A labelled form row. */
export function field(label: string, control: HTMLElement, hint = ''): HTMLElement {
  return h('label', { class: 'field' }, h('span', { class: 'label' }, label), control, hint ? h('small', {}, hint) : null);
}

/** Run `fn` at most once per `ms`, always with the latest arguments (trailing call kept). */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args: A) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
