/** The small HTML pages the loopback callback server answers with. No page ever shows a token. */

const style =
  'body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}';

/** Escapes text for HTML. */
function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (character) =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character] ??
      character,
  );
}

/** A complete page with a title and one paragraph. */
export function renderPage(title: string, text: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)} — Codex Lab</title><style>${style}</style></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`;
}

/** Shown after the tokens are saved: which account, saved as which profile. */
export function successPage(
  saved: { name: string; email: string | null; created: boolean } | null,
): string {
  if (!saved) {
    return renderPage(
      'Signed in to Codex Lab',
      'You may now close this page and return to Codex Lab.',
    );
  }
  const who = saved.email ?? 'your account';
  const what = saved.created
    ? `saved as the new profile "${saved.name}"`
    : `the profile "${saved.name}" is signed in again`;
  return renderPage(
    'Signed in to Codex Lab',
    `Signed in as ${who}: ${what}. You may now close this page and return to Codex Lab.`,
  );
}

/** Shown for `/cancel`. */
export const cancelledPage = renderPage('Login cancelled', 'This sign-in was cancelled.');

/** Shown when the callback's `state` is not this sign-in's. */
export const stateMismatchPage = renderPage(
  'State mismatch',
  'This sign-in link does not belong to the sign-in in progress, so it was ignored. Start the sign-in again from Codex Lab.',
);

/** Shown for any path the server does not know. */
export const notFoundPage = renderPage('Not found', 'There is nothing here.');

/** A sign-in error page. */
export function errorPage(message: string): string {
  return renderPage('Sign-in failed', message);
}
