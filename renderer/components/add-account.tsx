/**
 * Add account: choose a name (optional) and where the sign-in page opens, then follow the login
 * until it lands, with Cancel, and plain-words explanations when it fails.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { signInElsewhereSentence, signInLandedElsewhere } from '../../core/format.ts';
import type { ProfileView } from '../../core/service/contract.ts';
import { useFocusCycle } from '../focus.ts';
import { explainLoginError } from '../format.ts';
import { useLabStore } from '../stores/use-lab-store.ts';
import { describedByError, FieldError } from './inline-form.tsx';

/** The shared sentence for a sign-in asked for `asked` that renewed `saved` instead. */
function elsewhereText(
  asked: string,
  saved: string,
  email: string | null,
  profiles: readonly ProfileView[],
): string {
  // Read as a typed name is: exactly, else in lower case (`ALICE` is `alice`).
  const entry =
    profiles.find((profile) => profile.name === asked) ??
    profiles.find((profile) => profile.name === asked.toLowerCase());
  return signInElsewhereSentence({
    who: email ?? 'this account',
    saved,
    asked: entry?.name ?? asked,
    askedExists: entry !== undefined,
    askedEmail: entry?.email ?? null,
  });
}

/** The Add account panel (a modal dialog while open). */
export function AddAccount() {
  const flow = useLabStore((state) => state.signIn);
  const host = useLabStore((state) => state.host);
  // The login's live view; once the service has dropped it, its last view (a finished login
  // still reads as finished; one that was under way reads as interrupted below).
  const login = useLabStore((state) =>
    state.signIn.loginId
      ? (state.lab?.logins.find((item) => item.id === state.signIn.loginId) ??
        (state.signIn.gone ? state.signIn.lastSeen : null))
      : null,
  );
  const {
    updateSignIn,
    chooseSignInMethod,
    startSignIn,
    completeSignIn,
    cancelSignIn,
    closeSignIn,
  } = useLabStore.getState();
  const dialog = useRef<HTMLDialogElement>(null);
  useFocusCycle(dialog);
  const [pasted, setPasted] = useState('');
  const errorId = useId();
  const nameErrorId = useId();

  useEffect(() => {
    const node = dialog.current;
    if (!node) return;
    if (flow.open && !node.open) node.showModal();
    if (!flow.open && node.open) node.close();
  }, [flow.open]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void startSignIn();
  };
  const underWay =
    flow.loginId !== null && (!login || login.state === 'waiting' || login.state === 'exchanging');
  // A login the service no longer knows while it was under way (Codex Lab restarted): it will
  // never finish, so the dialog says so and offers a new one instead of waiting forever.
  const interrupted = underWay && flow.gone;
  const waiting = underWay && !flow.gone;
  const failed = login?.state === 'failed' || login?.state === 'cancelled';
  const done = login?.state === 'done';
  // Why a sign-in ended without a profile, when it did: then the dialog offers a new one.
  const ended = interrupted
    ? 'This sign-in was interrupted: Codex Lab restarted before it finished. Start it again.'
    : failed && login
      ? login.error
        ? explainLoginError(login.error.code, login.error.message)
        : 'The sign-in was cancelled.'
      : null;

  // A sign-in asked for one profile that renewed another (the account is that one's): a warning
  // in the words every surface uses, never a success, since the profile asked for is unchanged.
  const profiles = useLabStore((state) => state.lab?.profiles);
  const elsewhere =
    done && login && signInLandedElsewhere(login.proposedName, login.profile)
      ? elsewhereText(login.proposedName!, login.profile!, login.email, profiles ?? [])
      : null;

  // One phase shows at a time, and each replaces the last (taking the focused control with it):
  // focus goes to the new phase's first control, or a keyboard user is left on <body>.
  const phase = !flow.open
    ? null
    : flow.loginId === null
      ? 'form'
      : done
        ? 'done'
        : ended !== null
          ? 'ended'
          : // The device code's panel replaces the browser's once the login's method is known.
            `waiting ${login?.method === 'device' ? 'device' : 'browser'}`;
  const formRef = useRef<HTMLFormElement>(null);
  const progressRef = useRef<HTMLDivElement>(null);
  const doneRef = useRef<HTMLButtonElement>(null);
  const retryRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const target =
      phase === 'form'
        ? formRef.current?.querySelector<HTMLElement>(
            'input:not([type=radio]), input[type=radio]:checked',
          )
        : phase?.startsWith('waiting')
          ? progressRef.current
          : phase === 'done'
            ? doneRef.current
            : phase === 'ended'
              ? retryRef.current
              : null;
    target?.focus();
  }, [phase]);

  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby="add-account-title"
      onCancel={(event) => {
        event.preventDefault();
        if (waiting) void cancelSignIn();
        else closeSignIn();
      }}
    >
      <h2 id="add-account-title">
        {flow.reauth ? `Sign in to ${flow.reauth} again` : 'Add a ChatGPT account'}
      </h2>
      {flow.loginId === null && (
        <form ref={formRef} onSubmit={submit} className="stack">
          {flow.reauth === null && (
            <label className="field">
              <span>Name (optional)</span>
              <input
                aria-label="Profile name"
                placeholder="taken from the email when empty"
                {...describedByError(
                  flow.nameError ? nameErrorId : errorId,
                  flow.nameError ?? flow.error,
                )}
                value={flow.name}
                onChange={(event) => updateSignIn({ name: event.target.value, nameError: null })}
              />
            </label>
          )}
          {flow.reauth === null && <FieldError id={nameErrorId} error={flow.nameError} />}
          <fieldset className="field">
            <legend>Open the sign-in page</legend>
            <label className="radio">
              <input
                type="radio"
                name="sign-in-method"
                checked={!flow.popup && !flow.device}
                onChange={() => chooseSignInMethod('browser')}
              />
              {host === 'electron' ? 'In my browser' : 'In a new tab'}
            </label>
            <label className="radio">
              <input
                type="radio"
                name="sign-in-method"
                checked={flow.popup && !flow.device}
                onChange={() => chooseSignInMethod('popup')}
              />
              In a small sign-in window
            </label>
            <label className="radio">
              <input
                type="radio"
                name="sign-in-method"
                checked={flow.device}
                onChange={() => chooseSignInMethod('device')}
              />
              With a one-time code (a browser on another computer)
            </label>
          </fieldset>
          <FieldError id={errorId} error={flow.error} />
          <div className="actions">
            <button type="submit" className="button primary" disabled={flow.starting}>
              Continue to sign-in
            </button>
            <button type="button" className="button ghost" onClick={closeSignIn}>
              Close
            </button>
          </div>
        </form>
      )}
      {waiting && login?.method === 'device' && (
        <div
          ref={progressRef}
          tabIndex={-1}
          className="stack"
          role="status"
          aria-live="polite"
          aria-label="Sign-in progress"
        >
          <p>
            Open{' '}
            <a href={login.authorizeUrl} target="_blank" rel="noopener noreferrer">
              {login.authorizeUrl}
            </a>{' '}
            in any browser, sign in, and enter this code (it expires in 15 minutes):
          </p>
          <p className="user-code" aria-label="One-time code">
            {login.userCode}
          </p>
          <p className="progress-line">
            <span className="spinner" aria-hidden="true" />
            Waiting for the code to be approved…
          </p>
          <div className="actions">
            <button type="button" className="button" onClick={() => void cancelSignIn()}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {waiting && login?.method !== 'device' && (
        <div className="stack">
          <div
            ref={progressRef}
            tabIndex={-1}
            className="stack"
            role="status"
            aria-live="polite"
            aria-label="Sign-in progress"
          >
            <p className="progress-line">
              <span className="spinner" aria-hidden="true" />
              {login?.state === 'exchanging'
                ? 'Finishing sign-in…'
                : 'Waiting for you to finish signing in on the ChatGPT page…'}
            </p>
            {login && (
              <p className="small muted">
                Page didn’t open?{' '}
                <a href={login.authorizeUrl} target="_blank" rel="noopener noreferrer">
                  Open the sign-in page
                </a>
              </p>
            )}
          </div>
          {login && (
            <form
              className="stack paste-callback"
              onSubmit={(event) => {
                event.preventDefault();
                void completeSignIn(pasted).then((ok) => ok && setPasted(''));
              }}
            >
              <label className="field">
                <span className="small">
                  Signed in from another computer? After you approve, its browser shows a page that
                  does not load, at an address starting with http://localhost. Paste that whole
                  address here:
                </span>
                <input
                  aria-label="Callback address"
                  placeholder="http://localhost:…/auth/callback?code=…"
                  {...describedByError(errorId, flow.error)}
                  value={pasted}
                  onChange={(event) => setPasted(event.target.value)}
                />
              </label>
              <FieldError id={errorId} error={flow.error} />
              <div className="actions">
                <button type="submit" className="button" disabled={pasted.trim() === ''}>
                  Finish sign-in
                </button>
                <button type="button" className="button ghost" onClick={() => void cancelSignIn()}>
                  Cancel
                </button>
              </div>
            </form>
          )}
        </div>
      )}
      {done && login && elsewhere !== null && (
        <div className="stack">
          <p className="warning" role="alert">
            {elsewhere}
          </p>
          <div className="actions">
            <button ref={doneRef} type="button" className="button primary" onClick={closeSignIn}>
              Close
            </button>
          </div>
        </div>
      )}
      {done && login && elsewhere === null && (
        <div className="stack" role="status" aria-label="Sign-in result">
          <p className="success">
            Signed in{login.email ? ` as ${login.email}` : ''}.{' '}
            {login.created === false ? (
              // The account's own profile was renewed in place: name it, never as a new one.
              <>
                The sign-in of <strong>{login.profile}</strong> was renewed.
              </>
            ) : (
              <>
                Saved as profile <strong>{login.profile ?? login.proposedName}</strong>. You can
                rename it on its card.
              </>
            )}
          </p>
          <div className="actions">
            <button ref={doneRef} type="button" className="button primary" onClick={closeSignIn}>
              Done
            </button>
          </div>
        </div>
      )}
      {ended !== null && (
        <div className="stack">
          <p className="error" role="alert">
            {ended}
          </p>
          <div className="actions">
            <button
              ref={retryRef}
              type="button"
              className="button primary"
              onClick={() =>
                updateSignIn({ loginId: null, lastSeen: null, seen: false, gone: false })
              }
            >
              Try again
            </button>
            <button type="button" className="button ghost" onClick={closeSignIn}>
              Close
            </button>
          </div>
        </div>
      )}
    </dialog>
  );
}
