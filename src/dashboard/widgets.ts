/** Widgets used by more than one view: the fit picker and the number input. */
import { store, fitLabel } from './state.js';
import { h, setContent } from './ui.js';

/** A <select> bound to the shared current fit; refreshes when the fit list changes. */
export function fitPicker(testId: string): HTMLSelectElement {
  const select = h('select', { 'data-testid': testId, 'data-field': 'fit', onchange: () => store.setFit(Number(select.value) || null) });
  const render = () => {
    if (!store.fits.length) {
      setContent(select, h('option', { value: '' }, store.fitsLoaded ? 'no fits yet: create one in Fits' : 'loading fits…'));
      select.disabled = true;
      return;
    }
    select.disabled = false;
    setContent(select, ...store.fits.map((f) => h('option', { value: String(f.id) }, fitLabel(f))));
    select.value = String(store.currentFit ?? '');
  };
  store.on('fits', render);
  store.on('curves', render);
  store.on('fit', () => (select.value = String(store.currentFit ?? '')));
  render();
  return select;
}

/** A number input; `value` is parsed by the caller. */
export function numberInput(name: string, value: string | number, attrs: Record<string, unknown> = {}): HTMLInputElement {
  return h('input', { type: 'text', inputmode: 'decimal', name, value: String(value), 'data-field': name, autocomplete: 'off', spellcheck: 'false', ...attrs });
}
