/**
 * `codex-lab log [--follow] [--json] [--wide] [--session ID] [--profile NAME]`: the per-request log
 * from `state/activity.jsonl`, so it works with or without a router. A running router writes that
 * file in batches about once a second, so while one runs its newest requests are asked of it too
 * (its state, as `list` and `usage --pool` ask it) and each request shows once. The table fits
 * the terminal's width (100 columns off a terminal); `--wide` shows every column with full
 * sentences and names, uncut. `--json` prints one
 * JSON object per line (JSON Lines), which suits `--follow` and tools such as `jq`. `--follow`
 * keeps printing new requests until stopped.
 */
import {
  cutText,
  formatCount,
  formatLatency,
  formatLogStamp,
  humanizeTimes,
  requestLeftText,
  requestRuleText,
  requestStatusText,
  sessionIdsMatching,
  sessionLabel,
} from '../../format.ts';
import { LabError } from '../../errors.ts';
import type { LabState } from '../../service/contract.ts';
import type { RequestView } from '../../view-types.ts';
import {
  filterRequests,
  removedProfileName,
  requestsFromJournal,
  toRequestView,
  usageTotals,
  withLiveRequests,
  type RequestFilter,
  type RequestRecord,
} from '../../router/request-log.ts';
import { matchProfileName, unknownProfile } from '../../profiles/names.ts';
import { readJournal } from '../../state/journal.ts';
import { optionalNameArgument } from '../arguments.ts';
import { writeLine, type CliContext } from '../context.ts';
import { liveRouter } from '../live-state.ts';
import { fitTable, hiddenNote, tableWidth, type FitColumn, type FittedTable } from '../format.ts';

/** How often `--follow` looks at the file. */
const followIntervalMs = 500;

/** Longest a profile name is shown before it is cut with "…" (but with `--wide`). */
const nameBound = 16;

/** How the table is laid out: the width it must fit, or `wide` (every column, nothing cut). */
interface RequestTableOptions {
  width: number;
  wide: boolean;
}

/** Prints the per-request log; exits 1 when the file is damaged (named on stderr). */
export async function runLog(
  context: CliContext,
  _args: string[],
  options: Record<string, unknown>,
): Promise<number> {
  const json = options['json'] === true;
  const follow = options['follow'] === true;
  const wide = options['wide'] === true;
  const table: RequestTableOptions = { width: tableWidth(options, context.stdout), wide };
  const typedSession = typeof options['session'] === 'string' ? options['session'] : null;
  const typed = optionalNameArgument(options['profile']) ?? null;
  // Found once; asked again at each read, so `--follow` shows a turn as soon as it ends too.
  const live = await liveRouter(context);
  const all = await readRequests(context, { sessionId: null, profile: null }, live);
  if (all === null) return 1;
  const sessionId = typedSession === null ? null : sessionOf(typedSession, all, follow);
  let names: string[] = [];
  let profile: string | null = null;
  if (typed !== null) {
    // Read as every command reads a typed name (`JD` is jd), against the profiles and the names
    // in the log: a removed profile's requests are still there, as "NAME (removed)" (never under
    // the bare name, which a later profile may take), and the bare name finds them while no
    // profile has it.
    const { cliProfileStore } = await import('../profile-store.ts');
    names = (await cliProfileStore(context).listProfiles()).map((entry) => entry.name);
    const logged = all.flatMap((request) => (request.profile === null ? [] : [request.profile]));
    profile = matchProfileName(typed, [...names, ...logged]) ?? typed;
    if (!names.includes(profile) && !logged.includes(profile)) {
      const removed = removedProfileName(profile);
      if (logged.includes(removed)) profile = removed;
    }
  }
  const filter: RequestFilter = { sessionId, profile };
  const first = filterRequests(all, filter);
  if (profile !== null && first.length === 0 && !names.includes(profile)) {
    // A name that is no profile (a typo) is said as such, as every other command says it; a
    // removed profile whose requests are still in the log has records, and they show.
    throw unknownProfile(typed ?? profile, names);
  }
  let layout: FittedTable | null = null;
  // Rows that arrive later are laid out as the first ones were, so `--follow` stays aligned.
  const print = (requests: readonly RequestRecord[]) => {
    if (requests.length === 0) return;
    const views = requests.map(toRequestView);
    if (json) {
      for (const view of views) writeLine(context.stdout, JSON.stringify(view));
      return;
    }
    const now = Date.now();
    const rows = views.map((view) => requestRow(view, now, table));
    if (layout === null) {
      layout = fitTable(requestColumns(table), rows, table.width);
      writeLine(context.stdout, layout.lines.join('\n'));
      if (layout.hidden.length > 0 && !follow) {
        writeLine(context.stdout, `\n${hiddenNote(layout.hidden, table.width, 'log')}`);
      }
    } else {
      for (const row of rows) writeLine(context.stdout, layout.row(row));
    }
  };
  if (!json && first.length === 0 && !follow) {
    writeLine(context.stdout, noRequestsText(sessionId, profile));
  }
  print(first);
  if (!json && first.length > 0) {
    const totals = formatTotals(first, Date.now(), table);
    if (totals) writeLine(context.stdout, `\n${totals}`);
  }
  if (!follow) return 0;
  let lastId = first.at(-1)?.id ?? 0;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, followIntervalMs));
    const next = await readRequests(context, { ...filter, afterId: lastId }, live);
    if (next === null) return 1;
    print(next);
    lastId = next.at(-1)?.id ?? lastId;
  }
}

/**
 * The session `--session` names: an id of the log's, whole or as much of its end or start as
 * tells it apart (the table shows ids shortened, and a copied one must work). Text that matches
 * several is refused, listing them; text that matches none is refused, but with `--follow`, which
 * waits for the session's first request under the id as typed.
 */
function sessionOf(typed: string, all: readonly RequestRecord[], follow: boolean): string {
  const known = all.flatMap((request) => (request.sessionId === null ? [] : [request.sessionId]));
  const matches = sessionIdsMatching(typed, known);
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new LabError(
      'invalid_argument',
      `Session "${typed}" could be any of ${matches.length} sessions (${matches.join(', ')}): give more of its id.`,
    );
  }
  if (follow) return typed.trim();
  throw new LabError(
    'not_found',
    `No request matches session "${typed}": codex-lab log --wide shows the sessions' whole ids.`,
  );
}

/** What the log says when the requests asked for are none: which ones, when filtered. */
function noRequestsText(sessionId: string | null, profile: string | null): string {
  if (profile === null && sessionId === null) {
    return 'No requests yet: they appear here once Codex runs through the router.';
  }
  const session = sessionId === null ? '' : ` in session ${sessionId}`;
  return profile === null
    ? `No requests${session}.`
    : `No requests for profile ${profile}${session}.`;
}

/**
 * The requests `filter` asks for: the journal's, with the running router's newest (`live`) when
 * one runs and answers. Null when the file is damaged (named on stderr).
 */
async function readRequests(
  context: CliContext,
  filter: RequestFilter,
  live: ((timeoutMs?: number) => Promise<LabState | null>) | null,
): Promise<RequestRecord[] | null> {
  const [content, state] = await Promise.all([
    readJournal(context.paths.activity),
    live === null ? null : live(),
  ]);
  if (content.problem) {
    writeLine(context.stderr, `codex-lab: ${content.problem}`);
    return null;
  }
  // A renamed profile's requests are found under its new name, as in the router.
  const written = requestsFromJournal(content.records);
  return filterRequests(
    state === null ? written : withLiveRequests(written, state.requests),
    filter,
  );
}

function milliseconds(ms: number | null): string {
  return ms === null ? '-' : formatLatency(ms);
}

/**
 * The table's columns. Left out first when the width is short: TTFB, then the token counts (the
 * totals under the table keep them), the model, the duration and the session. TIME, PROFILE,
 * ROUTE, STATUS and FALLBACK say what happened and always show.
 */
function requestColumns(options: RequestTableOptions): FitColumn[] {
  const cut = (min: number) => (options.wide ? {} : { min });
  const drop = (rank: number) => (options.wide ? {} : { drop: rank });
  return [
    { header: 'TIME' },
    { header: 'SESSION', ...cut(9), ...drop(5) },
    { header: 'PROFILE', ...cut(8), distinct: true },
    { header: 'ROUTE', ...cut(10) },
    { header: 'MODEL', ...cut(7), ...drop(3) },
    { header: 'STATUS' },
    { header: 'TTFB', ...drop(1) },
    { header: 'TOOK', ...drop(4) },
    { header: 'IN/CACHED/OUT', ...drop(2) },
    // Room for "alpha needed a sign-in": narrower, it would cut the facts; columns go first.
    { header: 'FALLBACK', ...cut(22) },
  ];
}

/**
 * One request as a row of `requestColumns`. TIME is the local time, with the date when not from
 * today (`now`'s day). ROUTE is the rule that placed it, in the dashboard's words (short ones in a
 * fitted table); FALLBACK names each profile it left, and why, once (never repeated in ROUTE), or
 * for a refusal the reason Codex was told; one recorded before it named times as people read them
 * has its ISO times worded as of the request.
 */
function requestRow(view: RequestView, now: number, options: RequestTableOptions): string[] {
  const at = Date.parse(view.at);
  const name = (profile: string) => (options.wide ? profile : cutText(profile, nameBound));
  const count = (value: number) => (options.wide ? String(value) : formatCount(value));
  const tokens = view.tokens
    ? `${count(view.tokens.input)}/${count(view.tokens.cached)}/${count(view.tokens.output)}`
    : '-';
  const session =
    view.sessionId === null ? '-' : options.wide ? view.sessionId : sessionLabel(view.sessionId);
  return [
    formatLogStamp(at, { now }),
    session,
    view.profile === null ? 'refused' : name(view.profile),
    // The rule the router recorded (an older record: its route); what it left is FALLBACK's.
    requestRuleText(view, options.wide ? 'long' : 'short') ?? '-',
    view.model ?? '-',
    requestStatusText(view),
    milliseconds(view.ttfbMs),
    milliseconds(view.durationMs),
    tokens,
    // What it tried, else for a refusal the reason Codex was told.
    requestLeftText(view, name) ||
      (view.profile === null ? humanizeTimes(view.reason, { now: at }) : ''),
  ];
}

/**
 * "Today: work 12 requests, 3400 in / 1200 out (800 cached); …" and the same for this week; when
 * that is wider than the table may be, one profile a line under "Today:".
 */
function formatTotals(
  records: readonly RequestRecord[],
  now: number,
  options: RequestTableOptions,
): string {
  const totals = usageTotals(records, now);
  const name = (profile: string) => (options.wide ? profile : cutText(profile, nameBound));
  const line = (label: string, entries: typeof totals.today.profiles) => {
    if (entries.length === 0) return null;
    const said = entries.map(
      (entry) =>
        `${name(entry.key)} ${entry.requests} request${entry.requests === 1 ? '' : 's'}, ${entry.input} in / ${entry.output} out (${entry.cached} cached)`,
    );
    const one = `${label}: ${said.join('; ')}`;
    if (one.length <= options.width) return one;
    return [`${label}:`, ...said.map((text) => cutText(`  ${text}`, options.width))].join('\n');
  };
  return [line('Today', totals.today.profiles), line('This week', totals.week.profiles)]
    .filter((text): text is string => text !== null)
    .join('\n');
}
