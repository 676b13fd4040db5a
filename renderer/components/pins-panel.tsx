/**
 * Pins: every stored repository and session pin with its profile, a way to pin a repository, and
 * Remove on each pin. Pins are stored, so they show again after a reload or a restart.
 */
import { useState, type FormEvent } from 'react';
import type { LabState, PinView } from '../../core/service/contract.ts';
import { useLabStore } from '../stores/use-lab-store.ts';
import { FieldError, useInlineForm } from './inline-form.tsx';
import { PinWarning } from './pin-warning.tsx';
import { sessionLabel } from './sessions-panel.tsx';

/** Props of `PinsPanel`. */
export interface PinsPanelProps {
  lab: LabState;
  /** The page's ticking clock, for when a pinned profile is back. */
  now: number;
}

/** How a pin's target reads in the table. */
function pinTarget(pin: PinView): string {
  return pin.kind === 'repo' ? pin.key : `session ${sessionLabel(pin.key)}`;
}

/** The Pins section. */
export function PinsPanel({ lab, now }: PinsPanelProps) {
  const run = useLabStore((state) => state.run);
  const pinForm = useInlineForm<HTMLInputElement>();
  const [path, setPath] = useState('');
  const [profile, setProfile] = useState('');
  // The choice stands while its profile does: renamed or removed since, the select shows the
  // first profile, and the form must send what it shows, not the stale name.
  const chosen = lab.profiles.some((each) => each.name === profile)
    ? profile
    : (lab.profiles[0]?.name ?? '');

  // What the last pin made, said beside the form: a pin moved from another profile says from
  // which, as the CLI and the activity log do.
  const [pinned, setPinned] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const typed = path.trim();
    setPinned(null);
    const result = await pinForm.submit((api) => api.pinRepo({ path: typed, profile: chosen }));
    if (result?.ok) {
      setPath('');
      const was = result.value.replaced;
      setPinned(`Pinned ${typed} to ${chosen}${was === null ? '' : ` (was ${was})`}.`);
    }
  };
  const remove = (pin: PinView) =>
    void run('Remove pin', (api) =>
      pin.kind === 'repo'
        ? api.pinRepo({ path: pin.key, profile: null })
        : api.pinSession({ sessionId: pin.key, profile: null }),
    );

  return (
    <section className="card" aria-labelledby="pins-title">
      <h2 id="pins-title">Pins</h2>
      {lab.pins.length === 0 ? (
        <p className="muted">
          No pins yet. A pinned repository or session always goes to its profile.
        </p>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Pins">
            <thead>
              <tr>
                <th scope="col">Pinned</th>
                <th scope="col">Profile</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {lab.pins.map((pin) => (
                <tr key={`${pin.kind}:${pin.key}`} data-pin={pin.key}>
                  <td className="pin-target">
                    <code title={pin.key}>{pinTarget(pin)}</code>
                    {pin.allowFallback && (
                      <div className="small muted">falls over when exhausted</div>
                    )}
                  </td>
                  <td>
                    <span data-testid="pin-profile">{pin.profile}</span>
                    <PinWarning
                      lab={lab}
                      profile={pin.profile}
                      allowFallback={pin.allowFallback}
                      now={now}
                    />
                  </td>
                  <td>
                    <button
                      type="button"
                      className="button ghost small-button"
                      aria-label={`Remove the pin of ${pinTarget(pin)}`}
                      onClick={() => remove(pin)}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {lab.profiles.length > 0 && (
        <form
          className="pin-form"
          aria-busy={pinForm.busy}
          onSubmit={(event) => void submit(event)}
        >
          <label className="field grow">
            <span className="small">Pin a repository (its full path)</span>
            <input
              aria-label="Repository path"
              placeholder="/home/me/work/app"
              value={path}
              {...pinForm.field}
              onChange={(event) => setPath(event.target.value)}
            />
          </label>
          <label className="field">
            <span className="small">to</span>
            <select
              aria-label="Profile for the repository"
              value={chosen}
              onChange={(event) => setProfile(event.target.value)}
            >
              {lab.profiles.map((each) => (
                <option key={each.name} value={each.name}>
                  {each.name}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="button" disabled={path.trim() === ''}>
            Pin repository
          </button>
          <FieldError id={pinForm.errorId} error={pinForm.error} />
          {pinned !== null && (
            <p className="small muted" role="status" data-testid="pin-result">
              {pinned}
            </p>
          )}
        </form>
      )}
    </section>
  );
}
