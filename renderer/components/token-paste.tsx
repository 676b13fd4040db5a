/**
 * Shown by the web dashboard when it has no working router token (opened without the link's
 * `#token=…`, or with a stale one): a field to paste the token that `codex-lab token` prints.
 * The token is kept for this browser tab only (sessionStorage), then the page reconnects.
 */
import { useState, type FormEvent } from 'react';
import { rememberDashboardToken } from '../bridge/lab-api.ts';

/** The paste-a-token form. */
export function TokenPaste() {
  const [token, setToken] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = token.trim();
    if (value === '') return;
    rememberDashboardToken(value);
    window.location.reload();
  };
  return (
    <form
      className="notice token-paste"
      aria-label="Connect with the router token"
      onSubmit={submit}
    >
      <label htmlFor="router-token">
        Paste the router token (<code>codex-lab token</code> prints it;{' '}
        <code>codex-lab dashboard</code> opens this page with it):
      </label>
      <input
        id="router-token"
        name="router-token"
        type="password"
        autoComplete="off"
        spellCheck={false}
        value={token}
        onChange={(event) => setToken(event.target.value)}
      />
      <button type="submit" className="button primary">
        Connect
      </button>
    </form>
  );
}
