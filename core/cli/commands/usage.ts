/**
 * `codex-lab usage [NAME] [--refresh] [--json] [--wide]`: the quota windows per profile, fitted
 * to the terminal's width (100 columns off a terminal); `--wide` shows every column uncut.
 * `--refresh` asks the usage endpoint now (through the TokenManager) and stores the snapshots
 * first.
 */
import type { LabState, ProfileView } from '../../service/contract.ts';
import { LabError } from '../../errors.ts';
import { poolSummaryOf } from '../../service/pool-view.ts';
import { describePool, forecastTextParts } from '../../service/quota-text.ts';
import { buildProfileViews, readActive } from '../../service/views.ts';
import { optionalNameArgument } from '../arguments.ts';
import { writeLine, type CliContext } from '../context.ts';
import { liveLabState, withLiveViews } from '../live-state.ts';
import {
  formatFamilyLimit,
  formatResetCredits,
  noProfilesSentence,
  poolTotal,
  withCliFix,
} from '../../format.ts';
import {
  colourEnabled,
  fitLines,
  fitTable,
  formatUpdated,
  formatJson,
  hiddenNote,
  profileColumn,
  quotaCells,
  quotaColumns,
  statusStyle,
  tableWidth,
  wrapText,
  type FitCell,
  type FitColumn,
} from '../format.ts';
import { openLabClient, type LabClient } from '../lab-client.ts';
import { cliKeychainDeadline, cliProfileStore } from '../profile-store.ts';

/**
 * Credits, reset credits and additional limit families, one line each, only for accounts that
 * have them.
 */
function extraLines(view: ProfileView, now: number): string[] {
  const lines: string[] = [];
  const credits = view.credits;
  if (credits) {
    const balance = credits.unlimited
      ? 'unlimited'
      : credits.hasCredits
        ? `balance ${credits.balance ?? 'unknown'}`
        : 'none';
    lines.push(`${view.name}: credits ${balance}`);
  }
  if (view.resetCredits) {
    lines.push(`${view.name}: reset credits ${formatResetCredits(view.resetCredits, { now })}`);
  }
  for (const family of view.limits ?? []) {
    lines.push(`${view.name}: ${formatFamilyLimit(family, now)}`);
  }
  return lines;
}

/**
 * Prints the quota table (or JSON); exits 2 when a named profile does not exist, 1 when a file
 * cannot be read or a refresh failed (named on stderr). An account a refresh of every account
 * cannot read because of its state (a sign-in, an unreadable auth file) is named once, and fails
 * only as `usage` would; a refresh that read none of the accounts it asked for (the one named, or
 * every one) fails the command.
 */
export async function runUsage(
  context: CliContext,
  args: string[],
  options: Record<string, unknown> = {},
): Promise<number> {
  const name = optionalNameArgument(args[0]) ?? null;
  const width = tableWidth(options, context.stdout);
  if (options['pool'] === true && name !== null) {
    // The pool is every account; a name beside it would be ignored without a word.
    throw new LabError(
      'invalid_argument',
      `usage --pool shows the whole pool: leave out ${JSON.stringify(name)}, or drop --pool to see that profile alone.`,
    );
  }
  // The profile named, read as every command reads a typed name (`JD` is jd); one that does not
  // exist is one sentence and exit 2, before anything is asked upstream.
  const only = name === null ? null : [(await cliProfileStore(context).getProfile(name)).name];
  let refreshFailed = false;
  // What went wrong, each sentence once, said on stderr after what stdout shows (`finish`): on a
  // terminal it then stands on lines of its own under the table instead of above or inside it.
  const said = new Set<string>();
  // What the refresh said went wrong, so a file it names is not named twice below.
  let refreshSaid = '';
  // The accounts the refresh named as unread: the file check does not name them again.
  const refreshNamed = new Set<string>();
  let lab: LabClient | null = null;
  if (options['refresh'] === true) {
    // The running router reads and keeps the numbers (every surface shows them at once); with
    // none running, the same operation writes the files.
    lab = await openLabClient(context);
    const result = await lab.refreshUsage({ profile: only?.[0] ?? null });
    if (!result.ok && result.code === 'profile_not_found') {
      // Removed since it was read above: said and exited as every name that names nothing is.
      throw new LabError(result.code, result.message, {
        ...(result.fix ? { fix: result.fix } : {}),
      });
    }
    if (!result.ok) {
      // Profiles that answered were refreshed: the table below still shows what is known. Only
      // an upstream failure is several accounts' sentences (`unreadSentence`: each names its
      // account, as "alpha, beta: …" or in its own words, "… the token refresh of alpha …"), so
      // it is led by a sentence of its own, never by words a name must follow; any other (the
      // numbers could not be saved) is its own sentence.
      said.add(
        result.code === 'upstream_error'
          ? `Could not refresh the quota. ${withCliFix(result.message, result.fix)}`
          : result.message,
      );
      refreshSaid = result.message;
      refreshFailed = true;
    } else {
      // Each account that cannot be read, once, in its state's sentence with the command that
      // cures it. Over every account that is no failure of the refresh: the exit code is what
      // `usage` would say (1 for a file it cannot read, named once below), not 1 for an account's
      // sign-in. A refresh that read no account it asked for is (the one named, or every one):
      // the command refreshed nothing.
      for (const unread of result.value.unread) {
        said.add(withCliFix(unread.message, unread.fix));
        refreshNamed.add(unread.profile);
      }
      if (result.value.unread.length > 0 && result.value.refreshed.length === 0) {
        refreshFailed = true;
      }
    }
  }
  const now = Date.now();
  // A broken file is named on stderr (as `list` does); the table still shows the rest. A command
  // about one profile reads (and reports) only that profile's files and the shared ones.
  let unreadableFile = false;
  // Without a refresh, the running router's live views (what it routes by) when one runs.
  const live: LabState | null = lab === null ? await liveLabState(context) : null;
  const routed = lab === null ? live !== null : lab.routerUrl !== null;
  let views: ProfileView[] = await buildProfileViews(context.paths, now, {
    onProblem: (error, profile) => {
      unreadableFile = true;
      // (Already said by the refresh: "could not be saved: <this file's problem>", or the
      // account whose auth file it is, in its state's sentence.)
      if (refreshSaid.includes(error.message)) return;
      if (profile !== undefined && refreshNamed.has(profile)) return;
      // The keychain's one sentence for the profiles it did not answer for in time: the refresh
      // named each already when its own read met the same keychain.
      const late = error.details?.['profiles'];
      if (Array.isArray(late) && late.every((name) => refreshNamed.has(String(name)))) return;
      said.add(withCliFix(error.message, error.fix));
    },
    ...(only ? { only } : {}),
    // A running router's state says whether a keychain can be read; with none, only reading it
    // does (a keychain profile is never `ready` for want of a look).
    readKeychain: !routed,
    // A keychain the refresh's token reads waited for in vain is not waited for again.
    keychainDeadline: cliKeychainDeadline(context),
  });
  // What the refresh just read shows even when state/quota.json could not take it.
  if (lab !== null) views = await lab.freshViews(views, now);
  else if (live !== null) views = withLiveViews(views, live.profiles);
  if (unreadableFile) refreshFailed = true;
  const finish = (code: number): number => {
    for (const sentence of said) writeLine(context.stderr, `codex-lab: ${sentence}`);
    return code;
  };
  if (options['pool'] === true) {
    // The running router's own summary when one runs (it knows where a new session in the repo
    // just used goes, which no file holds), else the files'.
    const pool =
      (only === null && !refreshFailed
        ? (live ?? (await liveLabState(context)))?.pool
        : undefined) ?? poolSummaryOf(views, await readActive(context.paths), now);
    if (options['json'] === true) {
      writeLine(context.stdout, formatJson(pool));
    } else if (poolTotal(pool) === 0) {
      // An empty home is said as the table (and `list`) say it, with the command that adds one.
      writeLine(context.stdout, wrapText(noProfilesSentence, width));
    } else {
      const text = describePool(pool, { now, commands: true });
      writeLine(context.stdout, fitLines([text.headline, ...text.lines], width).join('\n'));
    }
    return finish(refreshFailed ? 1 : 0);
  }
  if (options['json'] === true) {
    writeLine(
      context.stdout,
      formatJson(
        views.map((view) => ({
          name: view.name,
          email: view.email,
          plan: view.plan,
          status: view.status,
          unavailableUntil: view.unavailableUntil,
          quota: view.quota,
          forecast: view.forecast,
          // Present only when the account reports them: absent, not zero.
          ...(view.credits ? { credits: view.credits } : {}),
          ...(view.resetCredits ? { resetCredits: view.resetCredits } : {}),
          ...(view.limits ? { limits: view.limits } : {}),
        })),
      ),
    );
    return finish(refreshFailed ? 1 : 0);
  }
  if (views.length === 0) {
    writeLine(context.stdout, wrapText(noProfilesSentence, width));
    return finish(0);
  }
  const rows = views.map((view): FitCell[] => {
    const pace = forecastTextParts(view.forecast, { now });
    return [
      view.name,
      ...quotaCells(view, now),
      { text: pace.cell, compact: pace.compact },
      formatUpdated(view, now),
    ];
  });
  const colour = colourEnabled(context.stdout, context.env);
  const columns: FitColumn[] = [
    profileColumn,
    ...quotaColumns,
    // The header names the weekly window, so no cell repeats it. When the width is short, how
    // long ago the numbers were read goes first: the countdowns stay true as they age.
    { header: 'WEEKLY PACE', min: 16, drop: 2 },
    { header: 'UPDATED', drop: 1 },
  ];
  const table = fitTable(columns, rows, width, statusStyle(views, columns, colour, now));
  writeLine(context.stdout, table.lines.join('\n'));
  if (table.hidden.length > 0) {
    writeLine(context.stdout, `\n${hiddenNote(table.hidden, width, 'usage')}`);
  }
  const extras = views.flatMap((view) => extraLines(view, now));
  if (extras.length > 0) writeLine(context.stdout, `\n${fitLines(extras, width).join('\n')}`);
  return finish(refreshFailed ? 1 : 0);
}
