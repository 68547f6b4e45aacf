/**
 * Shareable URL state: the hash is `#/<view>?<query>`, and the query holds what a pasted link or a
 * reload must restore (selection, fit, a view's own settings). Views read it when shown and write
 * their changes with `updateViewQuery` (replaceState: no history entry, no hashchange).
 */

/** The query of the current hash (after `?`). */
export function viewQuery(): URLSearchParams {
  return new URLSearchParams(location.hash.split('?')[1] ?? '');
}

/** The view named by the hash (`curves` when none). */
export function viewName(): string {
  return location.hash.replace(/^#\/?/, '').split('?')[0] || 'curves';
}

/** Set (or, for null/undefined/'', delete) keys of the hash query, keeping the others. */
export function updateViewQuery(changes: Record<string, string | number | null | undefined>): void {
  const query = viewQuery();
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === '') query.delete(key);
    else query.set(key, String(value));
  }
  // Commas, colons, semicolons, slashes and `=` inside values stay readable (schedule specs, id lists): the hash may hold them as they are.
  const text = query.toString().replace(/%2C/gi, ',').replace(/%3A/gi, ':').replace(/%3B/gi, ';').replace(/%2F/gi, '/').replace(/%3D/gi, '=');
  const hash = `#/${viewName()}${text ? `?${text}` : ''}`;
  if (location.hash !== hash) history.replaceState(null, '', hash);
}
