/**
 * Builders for `LabState` / `ProfileView` values used by the desktop and renderer tests.
 */
import type { LabState, ProfileView, RequestView } from '../../core/service/contract.ts';
import { poolSummaryOf } from '../../core/service/pool-view.ts';

/** A profile view with sensible defaults. */
export function uiProfile(name: string, patch: Partial<ProfileView> = {}): ProfileView {
  return {
    name,
    label: null,
    email: `${name}@example.com`,
    plan: 'plus',
    accountId: `acct-${name}`,
    active: false,
    status: 'ok',
    statusMessage: null,
    unavailableUntil: null,
    priming: false,
    primingLast: null,
    quota: {
      primary: { usedPercent: 12, windowMinutes: 300, resetsAt: '2030-01-01T15:00:00.000Z' },
      secondary: { usedPercent: 40, windowMinutes: 10080, resetsAt: '2030-01-04T12:00:00.000Z' },
      updatedAt: '2030-01-01T12:00:00.000Z',
    },
    history: [],
    forecast: null,
    store: 'file',
    createdAt: '2029-12-01T00:00:00.000Z',
    lastUsedAt: null,
    legacy: false,
    ...patch,
  };
}

/** A state with the given profiles. */
export function uiState(
  profiles: ProfileView[],
  patch: Partial<LabState> = {},
  now = Date.parse('2030-01-01T12:00:00.000Z'),
): LabState {
  return {
    active: 'auto',
    problems: [],
    profiles,
    pool: poolSummaryOf(profiles, patch.active ?? 'auto', now),
    requests: [],
    totals: { today: { profiles: [], sessions: [] }, week: { profiles: [], sessions: [] } },
    sessions: [],
    decisions: [],
    activity: [],
    logins: [],
    pins: [],
    router: { url: 'http://127.0.0.1:1456', port: 1456, running: true, stopping: false },
    codexConfig: '[model_providers.codex-lab]\n',
    ...patch,
  };
}

/** A routed request as the contract shows it (a sticky turn of session `s-1`), with `patch`. */
export function uiRequest(patch: Partial<RequestView> = {}): RequestView {
  return {
    id: 1,
    at: '2030-01-01T11:59:00.000Z',
    sessionId: 's-1',
    runId: null,
    profile: 'work',
    route: 'sticky',
    pinned: null,
    reason: '',
    why: { rule: 'session', pin: null, left: [] },
    model: 'gpt-6.2-sol',
    kind: 'responses',
    status: 200,
    ending: null,
    ttfbMs: 10,
    durationMs: 20,
    tokens: null,
    fallback: [],
    ...patch,
  };
}

/**
 * `uiState(profiles)` as a router from before `problems`, `pool.unread`, `pool.next.sameRepo`
 * and a request's `pinned` and `why` sends it (JSON, as it comes over the wire), with one request.
 */
export function olderRouterState(profiles: ProfileView[]): unknown {
  const name = profiles[0]?.name ?? null;
  const state = uiState(profiles, {
    requests: [uiRequest({ profile: name })],
    sessions: [
      {
        id: 'older-session',
        profile: name ?? 'work',
        route: 'sticky',
        why: { rule: 'session', pin: null, left: [] },
        repo: null,
        model: null,
        pinned: null,
        requests: 2,
        startedAt: '2030-01-01T11:00:00.000Z',
        lastSeenAt: '2030-01-01T11:59:00.000Z',
      },
    ],
  });
  const older = JSON.parse(JSON.stringify(state)) as {
    problems?: unknown;
    pool: { unread?: unknown; next: { sameRepo?: unknown } };
    requests: Array<{ pinned?: unknown; why?: unknown }>;
    sessions: Array<{ why?: unknown }>;
  };
  delete older.sessions[0]!.why;
  delete older.problems;
  delete older.pool.unread;
  delete older.pool.next.sameRepo;
  delete older.requests[0]!.pinned;
  delete older.requests[0]!.why;
  return older;
}
