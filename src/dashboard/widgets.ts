/** Widgets used by more than one view: the fit picker and the number input. */
import type { FitSummary } from './api.js';
import { store, fitLabel } from './state.js';
import { h, setContent } from './ui.js';

export interface FitPickerOptions {
  /** Offer only the fits this accepts (e.g. laws that can be optimized); newest first, as the store lists them. */
  only?: (f: FitSummary) => boolean;
  /** The text when no fit qualifies. */
  noneText?: string;
}

/**
 * A <select> bound to the shared current fit; refreshes when the fit list changes. With `only`, it
 * lists just the qualifying fits and shows the current fit when it qualifies, else the newest one
 * that does (read the choice from the select's `value`, not from `store.currentFit`).
 */
export function fitPicker(testId: string, options: FitPickerOptions = {}): HTMLSelectElement {
  const select = h('select', { 'data-testid': testId, 'data-field': 'fit', onchange: () => store.setFit(Number(select.value) || null) });
  const offered = () => (options.only ? store.fits.filter(options.only) : store.fits);
  const choose = () => {
    const list = offered();
    const current = list.find((f) => f.id === store.currentFit) ?? list[0];
    select.value = current ? String(current.id) : '';
  };
  const render = () => {
    const list = offered();
    if (!list.length) {
      setContent(select, h('option', { value: '' }, !store.fitsLoaded ? 'loading fits…' : store.fits.length && options.noneText ? options.noneText : 'no fits yet: create one in Fits'));
      select.disabled = true;
      return;
    }
    select.disabled = false;
    setContent(select, ...list.map((f) => h('option', { value: String(f.id) }, fitLabel(f))));
    choose();
  };
  store.on('fits', render);
  store.on('curves', render);
  store.on('fit', choose);
  render();
  return select;
}

/** A number input; `value` is parsed by the caller. */
export function numberInput(name: string, value: string | number, attrs: Record<string, unknown> = {}): HTMLInputElement {
  return h('input', { type: 'text', inputmode: 'decimal', name, value: String(value), 'data-field': name, autocomplete: 'off', spellcheck: 'false', ...attrs });
}
