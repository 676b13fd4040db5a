/**
 * Live Codex sessions: which profile each one uses and why (the rule the router recorded for its
 * last turn, in the words the CLI uses), with "pin to…", whose failure shows on its row.
 */
import { routeWhyText } from '../../core/format.ts';
import type { LabState } from '../../core/service/contract.ts';
import type { SessionView } from '../../core/view-types.ts';
import { formatAgo, sessionLabel } from '../format.ts';
import { FieldError, useInlineForm } from './inline-form.tsx';
import { PinWarning } from './pin-warning.tsx';

export { sessionLabel };

/** Props of `SessionsPanel`. */
export interface SessionsPanelProps {
  lab: LabState;
  now: number;
}

/** The sessions table. */
export function SessionsPanel({ lab, now }: SessionsPanelProps) {
  return (
    <section className="card" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Live sessions</h2>
      {lab.sessions.length === 0 ? (
        <p className="muted">
          {/* Requests keeps turns longer than a session stays live: say so, not "none yet". */}
          {lab.requests.some((request) => request.sessionId !== null)
            ? 'No live session now: the earlier ones are in Requests.'
            : 'No Codex session has gone through the router yet.'}
        </p>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Live sessions">
            <thead>
              <tr>
                <th scope="col">Session</th>
                <th scope="col">Profile</th>
                <th scope="col">Why</th>
                <th scope="col">Requests</th>
                <th scope="col">Last seen</th>
                <th scope="col">Pin to…</th>
              </tr>
            </thead>
            <tbody>
              {lab.sessions.map((session) => (
                <SessionRow key={session.id} session={session} lab={lab} now={now} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** One session's row; a failed pin says why under its menu, where the user just chose. */
function SessionRow({ session, lab, now }: { session: SessionView; lab: LabState; now: number }) {
  const pin = useInlineForm<HTMLSelectElement>();
  return (
    <tr data-session={session.id}>
      <td>
        <code className="session-id" title={session.id}>
          {sessionLabel(session.id)}
        </code>
        {session.repo && <div className="small muted">{session.repo}</div>}
      </td>
      <td data-testid="session-profile">{session.profile}</td>
      <td>
        <span className={`route route-${session.route}`} data-testid="session-why">
          {routeWhyText(session.why)}
        </span>
      </td>
      <td>{session.requests}</td>
      <td>{formatAgo(session.lastSeenAt, now)}</td>
      <td>
        <select
          aria-label={`Pin session ${sessionLabel(session.id)} to`}
          value={session.pinned ?? ''}
          // The menu is narrower than a long name: the chosen one is whole here.
          title={session.pinned ?? 'not pinned'}
          {...pin.field}
          onChange={(event) =>
            void pin.submit((api) =>
              api.pinSession({
                sessionId: session.id,
                profile: event.target.value === '' ? null : event.target.value,
              }),
            )
          }
        >
          <option value="">not pinned</option>
          {lab.profiles.map((profile) => (
            <option key={profile.name} value={profile.name}>
              {profile.name}
            </option>
          ))}
        </select>
        <FieldError id={pin.errorId} error={pin.error} />
        {session.pinned && (
          <PinWarning
            lab={lab}
            profile={session.pinned}
            allowFallback={lab.pins.some(
              (each) => each.kind === 'session' && each.key === session.id && each.allowFallback,
            )}
            now={now}
          />
        )}
      </td>
    </tr>
  );
}
