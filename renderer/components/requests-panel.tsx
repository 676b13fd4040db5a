/**
 * The per-request log: each routed or refused request with its profile, why it went there, model,
 * status, time to first byte, duration, tokens and the fallback chain; filtered by session and
 * profile; with requests and tokens per profile (or per session) today and this week.
 */
import { useState } from 'react';
import type { LabState, RequestView, UsageTotalView } from '../../core/service/contract.ts';
import { formatClock, formatCount, formatLatency, sessionLabel } from '../format.ts';
import { humanizeTimes, requestRouteText, requestStatusText } from '../../core/format.ts';
import { useLabStore } from '../stores/use-lab-store.ts';

/** Props of `RequestsPanel`. */
export interface RequestsPanelProps {
  lab: LabState;
}

function milliseconds(ms: number | null): string {
  return ms === null ? '–' : formatLatency(ms);
}

/** The panel (newest first, at most 100 rows). */
export function RequestsPanel({ lab }: RequestsPanelProps) {
  const [chosenSession, setSession] = useState('');
  const [chosenProfile, setProfile] = useState('');
  const sessions = [...new Set(lab.requests.flatMap((request) => request.sessionId ?? []))];
  const profiles = lab.profiles.map((view) => view.name);
  // A chosen profile renamed since (here or in a terminal) is followed to its new name: its
  // requests carry that name (the router re-points them). One removed no longer filters: the
  // select can only show "All profiles" then, and the rows must say the same.
  const renamedTo = useLabStore((state) => state.renamedTo);
  const followed = profiles.includes(chosenProfile)
    ? chosenProfile
    : (renamedTo[chosenProfile] ?? chosenProfile);
  const profile = profiles.includes(followed) ? followed : '';
  const session = sessions.includes(chosenSession) ? chosenSession : '';
  const rows = lab.requests
    .filter(
      (request) =>
        (session === '' || request.sessionId === session) &&
        (profile === '' || request.profile === profile),
    )
    .slice(-100)
    .reverse();
  const totals = session === '' ? lab.totals : null;
  const byKey = (entries: UsageTotalView[], key: string) => entries.find((e) => e.key === key);
  return (
    <section className="card requests" aria-labelledby="requests-title">
      <div className="section-head">
        <h2 id="requests-title">Requests</h2>
        <div className="filters">
          <select
            aria-label="Filter by session"
            value={session}
            onChange={(event) => setSession(event.target.value)}
          >
            <option value="">All sessions</option>
            {sessions.map((id) => (
              <option key={id} value={id}>
                {sessionLabel(id)}
              </option>
            ))}
          </select>
          <select
            aria-label="Filter by profile"
            value={profile}
            onChange={(event) => setProfile(event.target.value)}
          >
            <option value="">All profiles</option>
            {profiles.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
      </div>
      {totals && totals.week.profiles.length > 0 && (
        <table className="table totals" aria-label="Requests and tokens per profile">
          <thead>
            <tr>
              <th scope="col">Profile</th>
              <th scope="col">Today</th>
              <th scope="col">This week</th>
            </tr>
          </thead>
          <tbody>
            {totals.week.profiles
              .filter((entry) => profile === '' || entry.key === profile)
              .map((week) => {
                const today = byKey(totals.today.profiles, week.key);
                return (
                  <tr key={week.key} data-total={week.key}>
                    <td>{week.key}</td>
                    <td>{today ? totalText(today) : '–'}</td>
                    <td>{totalText(week)}</td>
                  </tr>
                );
              })}
          </tbody>
        </table>
      )}
      {session !== '' && (
        <p className="small muted" data-testid="session-total">
          {sessionTotal(lab, session)}
        </p>
      )}
      {rows.length === 0 ? (
        <p className="muted">No requests yet: each Codex request through the router shows here.</p>
      ) : (
        <div className="table-scroll">
          <table className="table" aria-label="Request log">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Session</th>
                <th scope="col">Profile</th>
                <th scope="col">Model</th>
                <th scope="col">Status</th>
                <th scope="col">TTFB</th>
                <th scope="col">Duration</th>
                <th scope="col">Tokens in / cached / out</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((request) => (
                <RequestRow key={request.id} request={request} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function RequestRow({ request }: { request: RequestView }) {
  const refused = request.profile === null;
  return (
    <tr data-request={request.id} className={refused ? 'request-refused' : undefined}>
      <td>
        <time dateTime={request.at} className="muted">
          {formatClock(request.at)}
        </time>
      </td>
      <td>
        {request.sessionId ? (
          <code className="session-id" title={request.sessionId}>
            {sessionLabel(request.sessionId)}
          </code>
        ) : (
          '–'
        )}
      </td>
      <td data-testid="request-profile">
        {request.fallback.length > 0 && (
          <span className="chain" data-testid="request-chain">
            {request.fallback.map((entry) => (
              <span key={entry.profile} title={entry.reason} className="chain-from">
                {entry.profile} →{' '}
              </span>
            ))}
          </span>
        )}
        {refused ? (
          <span className="badge badge-limited">refused</span>
        ) : (
          <strong>{request.profile}</strong>
        )}
        <div
          className="small muted"
          title={humanizeTimes(request.reason, { now: Date.parse(request.at) })}
        >
          {/* The rule the router recorded and each account it left, once, in the live sessions'
              words and `codex-lab log`'s (an older record: its route and the upstream's reasons). */}
          <span data-testid="request-route">{requestRouteText(request) ?? 'refused'}</span>
        </div>
      </td>
      <td>{request.model ?? '–'}</td>
      <td>
        {/* A stream that broke reads as broken, as in `codex-lab log`, whatever its status. */}
        <span
          data-testid="request-status"
          className={request.status >= 400 || request.ending ? 'status-bad' : 'status-good'}
        >
          {requestStatusText(request)}
        </span>
      </td>
      <td>{milliseconds(request.ttfbMs)}</td>
      <td>{milliseconds(request.durationMs)}</td>
      <td data-testid="request-tokens">
        {request.tokens
          ? `${formatCount(request.tokens.input)} / ${formatCount(request.tokens.cached)} / ${formatCount(request.tokens.output)}`
          : '–'}
      </td>
    </tr>
  );
}

function totalText(total: UsageTotalView): string {
  return `${total.requests} req · ${formatCount(total.input)} in (${formatCount(total.cached)} cached) · ${formatCount(total.output)} out`;
}

function sessionTotal(lab: LabState, session: string): string {
  const today = lab.totals.today.sessions.find((entry) => entry.key === session);
  const week = lab.totals.week.sessions.find((entry) => entry.key === session);
  return `This session — today: ${today ? totalText(today) : 'no requests'}; this week: ${
    week ? totalText(week) : 'no requests'
  }.`;
}
