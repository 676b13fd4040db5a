/**
 * `codex-lab log [--follow] [--json] [--session ID] [--profile NAME]`: the per-request log from
 * `state/activity.jsonl` (written by the running router in batches about once a second), so it
 * works with or without a router. `--json` prints one JSON object per line (JSON Lines), which
 * suits `--follow` and tools such as `jq`. `--follow` keeps printing new requests until stopped.
 */
import { formatLatency, formatLogStamp, humanizeTimes, requestRouteText } from '../../format.ts';
import type { RequestView } from '../../view-types.ts';
import {
  filterRequests,
  requestsFromJournal,
  toRequestView,
  usageTotals,
  type RequestFilter,
  type RequestRecord,
} from '../../router/request-log.ts';
import { matchProfileName } from '../../profiles/names.ts';
import { readJournal } from '../../state/journal.ts';
import { writeLine, type CliContext } from '../context.ts';
import { formatTable } from '../format.ts';

/** How often `--follow` looks at the file. */
const followIntervalMs = 500;

/** Prints the per-request log; exits 1 when the file is damaged (named on stderr). */
export async function runLog(
  context: CliContext,
  _args: string[],
  options: Record<string, unknown>,
): Promise<number> {
  const json = options['json'] === true;
  const sessionId = typeof options['session'] === 'string' ? options['session'] : null;
  const typed = typeof options['profile'] === 'string' ? options['profile'] : null;
  const all = await readRequests(context, { sessionId, profile: null });
  if (all === null) return 1;
  let names: string[] = [];
  let profile: string | null = null;
  if (typed !== null) {
    // Read as every command reads a typed name (`JD` is jd), against the profiles and the names
    // in the log: a removed profile's requests are still there, under its real name.
    const { cliProfileStore } = await import('../profile-store.ts');
    names = (await cliProfileStore(context).listProfiles()).map((entry) => entry.name);
    const logged = all.flatMap((request) => (request.profile === null ? [] : [request.profile]));
    profile = matchProfileName(typed, [...names, ...logged]) ?? typed;
  }
  const filter: RequestFilter = { sessionId, profile };
  const first = filterRequests(all, filter);
  if (profile !== null && first.length === 0 && !names.includes(profile)) {
    // A name that is no profile (a typo) is said as such, as every other command says it; a
    // removed profile whose requests are still in the log has records, and they show.
    writeLine(
      context.stderr,
      `codex-lab: There is no profile named ${JSON.stringify(profile)}${names.length > 0 ? ` (profiles: ${names.join(', ')})` : ''}, and the log has no request of one; see codex-lab list.`,
    );
    return 1;
  }
  if (json) {
    for (const request of first) writeLine(context.stdout, JSON.stringify(toRequestView(request)));
  } else if (first.length === 0 && options['follow'] !== true) {
    writeLine(
      context.stdout,
      'No requests yet: they appear here once Codex runs through the router.',
    );
  } else if (first.length > 0) {
    const now = Date.now();
    writeLine(context.stdout, formatRequestTable(first.map(toRequestView), now));
    const totals = formatTotals(first, now);
    if (totals) writeLine(context.stdout, `\n${totals}`);
  }
  if (options['follow'] !== true) return 0;
  let lastId = first.at(-1)?.id ?? 0;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, followIntervalMs));
    const next = await readRequests(context, { ...filter, afterId: lastId });
    if (next === null) return 1;
    for (const request of next) {
      const view = toRequestView(request);
      writeLine(
        context.stdout,
        json ? JSON.stringify(view) : requestRow(view, Date.now()).join('  '),
      );
      lastId = request.id;
    }
  }
}

async function readRequests(
  context: CliContext,
  filter: RequestFilter,
): Promise<RequestRecord[] | null> {
  const content = await readJournal(context.paths.activity);
  if (content.problem) {
    writeLine(context.stderr, `codex-lab: ${content.problem}`);
    return null;
  }
  // A renamed profile's requests are found under its new name, as in the router.
  return filterRequests(requestsFromJournal(content.records), filter);
}

function milliseconds(ms: number | null): string {
  return ms === null ? '-' : formatLatency(ms);
}

/**
 * One request as a row. TIME is the local time, with the date when not from today (`now`'s day).
 * ROUTE is the rule that placed it, as the dashboard says it. A refusal's reason is what Codex was told; one recorded before it named times as people read
 * them has its ISO times worded as of the request.
 */
function requestRow(view: RequestView, now: number): string[] {
  const at = Date.parse(view.at);
  const tokens = view.tokens
    ? `${view.tokens.input} in (${view.tokens.cached} cached), ${view.tokens.output} out`
    : '-';
  const chain =
    view.fallback.length > 0
      ? `after ${view.fallback.map((entry) => `${entry.profile} (${entry.reason})`).join(', ')}`
      : view.profile === null
        ? humanizeTimes(view.reason, { now: at })
        : '';
  return [
    formatLogStamp(at, { now }),
    view.sessionId ?? '-',
    view.profile ?? 'refused',
    // The rule the router recorded, in the dashboard's words (an older record: its route).
    requestRouteText(view) ?? '-',
    view.model ?? '-',
    String(view.status),
    milliseconds(view.ttfbMs),
    milliseconds(view.durationMs),
    tokens,
    chain,
  ];
}

function formatRequestTable(views: RequestView[], now: number): string {
  return formatTable(
    [
      'TIME',
      'SESSION',
      'PROFILE',
      'ROUTE',
      'MODEL',
      'STATUS',
      'TTFB',
      'TIME',
      'TOKENS',
      'FALLBACK',
    ],
    views.map((view) => requestRow(view, now)),
  );
}

/** "Today: work 12 requests, 3400 in / 1200 out (800 cached); …" and the same for this week. */
function formatTotals(records: readonly RequestRecord[], now: number): string {
  const totals = usageTotals(records, now);
  const line = (label: string, entries: typeof totals.today.profiles) =>
    entries.length === 0
      ? null
      : `${label}: ${entries
          .map(
            (entry) =>
              `${entry.key} ${entry.requests} request${entry.requests === 1 ? '' : 's'}, ${entry.input} in / ${entry.output} out (${entry.cached} cached)`,
          )
          .join('; ')}`;
  return [line('Today', totals.today.profiles), line('This week', totals.week.profiles)]
    .filter((text): text is string => text !== null)
    .join('\n');
}
