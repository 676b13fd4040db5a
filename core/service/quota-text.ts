/**
 * The words for the pool summary and the forecasts, shared by the CLI and the tray so both say
 * the same thing (what is left, in the words of `core/format.ts`): "Pool 47% left · 2 of 3
 * ready", "next free: team at 14:05", "weekly pace 1.2%/h: runs out Tue 18:00, before the weekly
 * reset". 24-hour clock; a day name when the moment is not within the next 20 hours.
 */
import {
  forecastParts,
  forecastSentence,
  formatClockTime,
  humanizeTimes,
  humanizedTimesChangeAt,
  noAccountsLabel,
  poolForecastSentence,
  poolLeftParts,
  poolReadiness,
  sameRepoLead,
  signInCommand,
  unreadableFile,
  unreadableWhat,
  unreadableGroups,
  noEligibleHeadline,
  poolTotal,
  type ForecastParts,
  noNewSessionTarget,
  unpinRunAdvice,
  type PinSource,
} from '../format.ts';
import { spendsQuota } from '../proxy/engine.ts';
import type { ForecastView, PoolSummaryView, ProfileView, RequestView } from '../view-types.ts';

/** Formatting options: a fixed time zone makes the output deterministic in tests. */
export interface QuotaTextOptions {
  /** Current time (Unix ms). */
  now: number;
  /** IANA time zone; the system's when omitted. */
  timeZone?: string;
  /**
   * True on the command line: a line naming accounts to sign in again says the command that does
   * it (elsewhere the account's own control does: the card's Sign in again, the tray's item).
   */
  commands?: boolean;
}

/** "14:05" when within the next 20 hours, else "Tue 14:05" (the shared clock-time wording). */
export function formatWhen(iso: string, options: QuotaTextOptions): string {
  return formatClockTime(Date.parse(iso), options);
}

/** A profile's forecast (worded once, in `core/format.ts`): "weekly pace 1.2%/h: runs out …". */
export function forecastText(forecast: ForecastView | null, options: QuotaTextOptions): string {
  return forecastSentence(forecast, (iso) => formatWhen(iso, options));
}

/** A profile's forecast as a sentence and as a `WEEKLY PACE` table cell (`forecastParts`). */
export function forecastTextParts(
  forecast: ForecastView | null,
  options: QuotaTextOptions,
): ForecastParts {
  return forecastParts(forecast, (iso) => formatWhen(iso, options));
}

/** The pool's forecast sentence (worded once, in `core/format.ts`). */
export function poolForecastText(pool: PoolSummaryView, options: QuotaTextOptions): string {
  return poolForecastSentence(pool.forecast, (iso) => formatWhen(iso, options));
}

/** The pool in a few lines: a short title, a headline and detail lines. */
export interface PoolText {
  /** "47%" (for a menu-bar title), or "" when nothing is known. */
  short: string;
  /** "Pool 47% left · 2 of 3 ready" or "All accounts limited · next free: team at 14:05". */
  headline: string;
  /** "New sessions → work (best: …)", "Next free: …", "This week: …", "Needs sign-in: …". */
  lines: string[];
  /**
   * The first moment after `now` at which these words read differently (a reason's "(in 2h 3m)"
   * ticks over), or null when they count nothing down: when a surface that does not tick redraws.
   */
  changesAt: number | null;
}

/** The pool summary in words. */
export function describePool(pool: PoolSummaryView, options: QuotaTextOptions): PoolText {
  if (poolTotal(pool) === 0) {
    return { short: '', headline: noAccountsLabel, lines: [], changesAt: null };
  }
  const nextFree = pool.nextFree
    ? `${pool.nextFree.profile} at ${formatWhen(pool.nextFree.at, options)}`
    : null;
  const left = poolLeftParts(pool);
  const short = pool.headroomPercent === null ? '' : left.figure;
  // Profiles whose sign-in cannot be read are named apart: a sign-in is not what they need.
  const signIn = pool.needsSignIn;
  let headline: string;
  if (pool.eligible.length === 0) {
    headline = noEligibleHeadline(pool);
    if (nextFree) headline += ` · next free: ${nextFree}`;
  } else {
    const readiness = poolReadiness(pool, poolTotal(pool));
    // With no headroom known, the readiness says why ("quota not known yet") by itself.
    headline =
      pool.headroomPercent === null ? `Pool · ${readiness}` : `Pool ${left.text} · ${readiness}`;
  }
  // The router's reasons name moments in ISO; they are worded here, in this surface's time zone.
  let changesAt: number | null = null;
  const reason = (detail: string) => {
    const changes = humanizedTimesChangeAt(detail, options.now);
    if (changes !== null && (changesAt === null || changes < changesAt)) changesAt = changes;
    return lowerFirst(humanizeTimes(detail, options));
  };
  const lines: string[] = [];
  lines.push(
    pool.next.profile
      ? `New sessions → ${pool.next.profile}: ${reason(pool.next.detail)}`
      : `New sessions → ${noNewSessionTarget}`,
  );
  const sameRepo = pool.next.sameRepo;
  if (sameRepo) {
    lines.push(
      `${sameRepoLead(sameRepo.repo, sameRepo.model)} → ${sameRepo.profile}: ${reason(sameRepo.detail)}`,
    );
  }
  if (nextFree && pool.eligible.length > 0) lines.push(`Next free: ${nextFree}`);
  lines.push(`This week: ${poolForecastText(pool, options)}`);
  if (signIn.length > 0) {
    const how =
      options.commands === true
        ? ` (${signIn.length === 1 ? signInCommand(signIn[0]!) : signInCommand('NAME')})`
        : '';
    lines.push(`Needs sign-in: ${signIn.join(', ')}${how}`);
  }
  for (const group of unreadableGroups(pool))
    lines.push(`${group.label}: ${group.names.join(', ')}`);
  return { short, headline, lines, changesAt };
}

function lowerFirst(text: string): string {
  const trimmed = text.replace(/\.$/, '');
  return `${trimmed.charAt(0).toLowerCase()}${trimmed.slice(1)}`;
}

/** What `describeRun` reads of a profile (`quota` when known: a full window has none left). */
export type RunProfile = Pick<ProfileView, 'name' | 'status' | 'unavailableUntil'> &
  Partial<Pick<ProfileView, 'quota' | 'statusCode'>>;

/** What `describeRun` reads of a request. */
type RunRequest = Pick<
  RequestView,
  'at' | 'profile' | 'route' | 'pinned' | 'status' | 'reason' | 'kind' | 'fallback' | 'sessionId'
>;

/**
 * The profile a pinned turn was pinned to when that profile could not take it, else null: an
 * upstream 429 on the pinned profile (nowhere to fall over to), or the router's own refusal
 * because of the pin (the record names the pin; no profile answered).
 */
export function pinnedProfileOf(
  request: Pick<RunRequest, 'profile' | 'status' | 'pinned'>,
): string | null {
  const pinned = request.pinned ?? null;
  if (pinned === null) return null;
  if (request.profile === null) return pinned;
  return request.status === 429 ? pinned : null;
}

/**
 * True when a run has something `describeRun` would say: a turn that moved, was refused, or hit
 * its pinned profile's limit. (Checked before fetching the profiles the line needs.)
 */
export function runHasNews(requests: readonly RunRequest[]): boolean {
  return requests.some(
    (request) =>
      isTurn(request) &&
      (request.route === 'fallback' ||
        request.profile === null ||
        pinnedProfileOf(request) !== null),
  );
}

function isTurn(request: Pick<RunRequest, 'kind'>): boolean {
  return spendsQuota(request.kind);
}

/** True when nothing keeps `profile` from serving: a usable status and no full window. */
function hasQuota(profile: RunProfile): boolean {
  if (profile.status !== 'ok' && profile.status !== 'unknown') return false;
  const windows = [profile.quota?.primary, profile.quota?.secondary];
  return !windows.some((window) => window != null && window.usedPercent >= 100);
}

/**
 * Why the pool refused a turn, in words, and whether its limited accounts are part of the why.
 * A 429 is the pool out of quota. The router answers 400 when what stands in the way is for the
 * user to mend (Codex would replace a 429's words with its own "usage limit" and hide that a
 * sign-in may help): the accounts' states then tell which refusal it was. Only a refusal the
 * states do not explain keeps its status.
 */
function poolRefusalWhy(
  first: RunRequest,
  profiles: readonly RunProfile[],
): { text: string; limits: boolean } {
  if (first.status === 429) return { text: 'no account had quota left', limits: true };
  const anyServes = profiles.some(hasQuota);
  const limited = profiles.some((profile) => profile.status === 'limited');
  const blocked = profiles.filter((profile) => profile.status === 'auth_error');
  if (anyServes || blocked.length === 0) return { text: `status ${first.status}`, limits: false };
  const allSignIn = blocked.every((profile) => !unreadableFile(profile.statusCode));
  if (limited) {
    const which = allSignIn ? 'signed-in' : 'usable';
    return { text: `no ${which} account had quota left`, limits: true };
  }
  return {
    text: allSignIn ? 'every account needs a sign-in' : 'no account could be used',
    limits: false,
  };
}

/** "a", "a and c", "a, c and d". */
function listNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/**
 * The one line `codex-lab codex` prints after Codex exits when any of its turns moved or were
 * refused ("this run: work → team at 14:02, work limited until 16:40"), or null when none did.
 * Then it names the accounts behind it and what frees each: those the run moved away from, and on
 * a refusal those that could have served it — limited ones when the pool was out of quota, and any
 * needing a sign-in (the one thing the user can fix at once). A turn pinned to a profile that
 * could not take it (refused by the router, or a 429 from the upstream) is said as such, with the
 * accounts that had quota meanwhile ("pinned profile b is limited until 03:03, refused once from
 * 01:56; a and c have quota (unpin, or pin with --allow-fallback)"). Codex retries a refused turn,
 * so refusals are counted as requests, not turns.
 */
export function describeRun(
  requests: readonly RunRequest[],
  profiles: readonly RunProfile[],
  options: QuotaTextOptions & {
    /**
     * The pin the run itself made (`codex --profile`, or the shell's `CODEX_LAB_PROFILE`): a pin
     * no `unpin` lifts, so the hint says how to run without it.
     */
    runPin?: { profile: string; source: PinSource };
  },
): string | null {
  const turns = requests.filter(isTurn);
  const parts: string[] = [];
  const involved = new Set<string>();
  const said = new Set<string>();
  let lastMove = '';
  // The profile each session's previous request went to in this run: a move that followed that
  // account's own failures (5xx answers Codex retried) carries no fallback chain of its own.
  const previous = new Map<string | null, string>();
  for (const turn of turns) {
    const before = previous.get(turn.sessionId);
    if (turn.profile !== null) previous.set(turn.sessionId, turn.profile);
    if (turn.route !== 'fallback' || turn.profile === null) continue;
    let from = turn.fallback.map((entry) => entry.profile).join(', ');
    if (from === '' && before !== undefined && before !== turn.profile) {
      from = before;
      involved.add(before);
    }
    const move = from === '' ? `moved to ${turn.profile}` : `${from} → ${turn.profile}`;
    // A session that moved once serves its next turns on the new profile: say it once.
    if (move !== lastMove) parts.push(`${move} at ${formatWhen(turn.at, options)}`);
    lastMove = move;
    for (const entry of turn.fallback) involved.add(entry.profile);
  }
  const refusedTimes = (list: readonly RunRequest[]) =>
    `refused ${list.length === 1 ? 'once' : `${list.length} times`} from ${formatWhen((list[0] as RunRequest).at, options)}`;
  // Pinned turns their profile could not take, by profile; the rest of the refusals are the pool's.
  const pinned = new Map<string, RunRequest[]>();
  const refused: RunRequest[] = [];
  for (const turn of turns) {
    const pin = pinnedProfileOf(turn);
    if (pin !== null) pinned.set(pin, [...(pinned.get(pin) ?? []), turn]);
    else if (turn.profile === null) refused.push(turn);
  }
  const hints: string[] = [];
  for (const [name, list] of pinned) {
    const profile = profiles.find((entry) => entry.name === name);
    let state: string;
    if (!profile) state = 'does not exist (codex-lab list shows the profiles)';
    else if (profile.status === 'limited') {
      state = profile.unavailableUntil
        ? `is limited until ${formatWhen(profile.unavailableUntil, options)}`
        : 'is limited';
    } else if (profile.status === 'auth_error' && unreadableFile(profile.statusCode)) {
      state = unreadableWhat(profile.statusCode).phrase;
    } else if (profile.status === 'auth_error') {
      state = `needs a sign-in (${signInCommand(name)})`;
    } else state = 'could not take it';
    parts.push(`pinned profile ${name} ${state}, ${refusedTimes(list)}`);
    said.add(name);
    const others = profiles.filter((entry) => entry.name !== name && hasQuota(entry));
    if (others.length > 0) {
      const names = others.map((entry) => entry.name);
      const runPin = options.runPin?.profile === name ? options.runPin : undefined;
      const how =
        runPin === undefined
          ? 'unpin, or pin with --allow-fallback'
          : `${unpinRunAdvice(runPin.source)} to let the router choose`;
      hints.push(`${listNames(names)} ${names.length === 1 ? 'has' : 'have'} quota (${how})`);
    }
  }
  if (refused.length > 0) {
    const why = poolRefusalWhy(refused[0] as RunRequest, profiles);
    parts.push(`${refusedTimes(refused)} (${why.text})`);
    for (const profile of profiles) {
      if (profile.status === 'auth_error' || (why.limits && profile.status === 'limited')) {
        involved.add(profile.name);
      }
    }
  }
  if (parts.length === 0) return null;
  for (const profile of profiles) {
    if (!involved.has(profile.name) || said.has(profile.name)) continue;
    if (profile.status === 'limited') {
      parts.push(
        profile.unavailableUntil
          ? `${profile.name} limited until ${formatWhen(profile.unavailableUntil, options)}`
          : `${profile.name} limited`,
      );
    } else if (profile.status === 'auth_error' && unreadableFile(profile.statusCode)) {
      parts.push(`${profile.name} ${unreadableWhat(profile.statusCode).phrase}`);
    } else if (profile.status === 'auth_error') {
      parts.push(`${profile.name} needs a sign-in (${signInCommand(profile.name)})`);
    }
  }
  return `this run: ${[parts.join(', '), ...new Set(hints)].join('; ')}`;
}
