/**
 * `codex-lab priming on|off NAME` and `codex-lab prime [NAME] [--dry-run]` (docs/priming.md).
 * `prime` without a name primes the profiles with priming on; a named profile is primed even when
 * its priming is off, because naming it is an explicit request.
 */
import { codexClientHeaders } from '../../auth/codex-identity.ts';
import { LabError } from '../../errors.ts';
import { codexLabCommand, humanizeTimes, noProfilesSentence, signInCommand } from '../../format.ts';
import { createWorkspaceRoutes } from '../../net/workspace-routing.ts';
import { systemClock } from '../../ports.ts';
import { describePrimeRequest } from '../../priming/request.ts';
import { PrimingScheduler, usageLimitSkip } from '../../priming/scheduler.ts';
import { HealthStore } from '../../state/health-store.ts';
import type { PrimingOutcome } from '../../state/schema.ts';
import type { PrimingOutcomeView } from '../../service/contract.ts';
import { nameArgument, optionalNameArgument } from '../arguments.ts';
import { writeLine, type CliContext } from '../context.ts';
import { cliTokenManager, openLabClient, valueOf } from '../lab-client.ts';
import { cliLogger, cliProfileStore } from '../profile-store.ts';

/** `priming on|off NAME`. */
export async function runPrimingToggle(context: CliContext, args: string[]): Promise<number> {
  const state = (args[0] ?? '').trim().toLowerCase();
  if (state !== 'on' && state !== 'off') {
    throw new LabError(
      'invalid_argument',
      `Priming can be turned "on" or "off", not "${args[0] ?? ''}": run ${codexLabCommand('priming', 'on', args[1] || 'NAME')}.`,
    );
  }
  const name = nameArgument(args[1]);
  const lab = await openLabClient(context);
  valueOf(await lab.setPriming({ profile: name, enabled: state === 'on' }));
  const store = cliProfileStore(context);
  const profile = await store.getProfile(name);
  if (state === 'on') {
    const windows = profile.priming.windows.map((window) =>
      window === 'weekly' ? 'weekly' : '5-hour',
    );
    const when = profile.priming.at
      ? ` at ${profile.priming.at} local time`
      : ' as soon as it is idle';
    const windowsGet = windows.length === 1 ? 'window gets' : 'windows get';
    writeLine(
      context.stdout,
      `Priming is on for ${profile.name}: its idle ${windows.join(' and ')} ${windowsGet} one tiny turn${when} after each reset, while codex-lab serve or the app runs.`,
    );
  } else {
    writeLine(context.stdout, `Priming is off for ${profile.name}.`);
  }
  return 0;
}

/** `prime [NAME] [--dry-run]`. */
export async function runPrime(
  context: CliContext,
  args: string[],
  options: Record<string, unknown> = {},
): Promise<number> {
  const store = cliProfileStore(context);
  const dryRun = options['dryRun'] === true;
  // No name is every profile with priming on; an empty one is refused as missing, never that.
  const named = optionalNameArgument(args[0]);
  let names: string[];
  if (named !== undefined) {
    names = [(await store.getProfile(named)).name];
  } else {
    const profiles = await store.listProfiles();
    if (profiles.length === 0) {
      // An empty home has nothing to turn priming on for: said as every command says it.
      writeLine(context.stdout, noProfilesSentence);
      return 0;
    }
    names = profiles.filter((entry) => entry.priming.enabled).map((entry) => entry.name);
    if (names.length === 0) {
      writeLine(
        context.stdout,
        'No profile has priming on. Turn it on with codex-lab priming on NAME, or prime one now with codex-lab prime NAME.',
      );
      return 0;
    }
  }
  const health = new HealthStore(context.paths);
  const shared = {
    paths: context.paths,
    store,
    health,
    clock: systemClock,
    baseUrl: context.config.chatGptBaseUrl,
  };
  if (dryRun) {
    // The request depends on the account's workspace (its backend origin, a residency override):
    // it is read as the real prime reads it, a GET of the account check with a current token
    // (the token manager refreshes an expired one, as priming would, under the refresh lock; the
    // request shown has the token redacted). Unreadable, the request shown is the one priming
    // would then send, to the configured backend, and a warning says so, as every warning of a
    // command is said (the command's logger: one `codex-lab:` sentence).
    const logger = cliLogger(context);
    const tokens = await cliTokenManager(context, { store, health, logger });
    const workspaces = createWorkspaceRoutes({
      clock: systemClock,
      baseUrl: context.config.chatGptBaseUrl,
      credentialsOf: (name) => tokens.getCredentials(name),
      identity: codexClientHeaders('application/json'),
      logger: {
        warn: (fields: { profile?: string; reason?: string }) =>
          logger.warn(
            fields,
            `could not read ${fields.profile ?? 'a profile'}'s workspace (${fields.reason ?? 'no reason given'}), so the request below goes to the configured backend, as priming's would`,
          ),
      },
    });
    const scheduler = new PrimingScheduler({
      ...shared,
      tokens,
      workspaces,
      observeUsage: () => Promise.reject(new Error('a dry run observes nothing')),
      sendPrime: () => Promise.reject(new Error('a dry run sends nothing')),
    });
    for (const name of names) {
      const blocked = await scheduler.signInNeeded(name);
      if (blocked) {
        writeLine(
          context.stdout,
          `${name}: ${blocked}, so prime would send nothing; run ${signInCommand(name)} first.`,
        );
        continue;
      }
      writeLine(context.stdout, `# ${name}: the request priming would send (nothing was sent)`);
      writeLine(context.stdout, describePrimeRequest(await scheduler.buildRequest(name)));
      writeLine(context.stdout);
    }
    return 0;
  }
  // Each profile is primed by the operations layer: by the running router when one runs (its
  // timer and claims see it at once), else here on the files.
  const lab = await openLabClient(context);
  let failed = false;
  for (const name of names) {
    const outcome = valueOf(await lab.primeNow({ profile: name, dryRun: false }));
    failed ||= outcome.outcome === 'failed';
    // A named account that is limited was asked for and refused: that is an error for the user.
    failed ||=
      named !== undefined && outcome.outcome === 'skipped' && outcome.message === usageLimitSkip;
    writeLine(context.stdout, formatOutcome(name, outcome, systemClock.now()));
  }
  return failed ? 1 : 0;
}

/** `work (weekly): confirmed — the weekly window started; it resets at Tue 12:02 (in 6d 23h)`. */
function formatOutcome(
  name: string,
  outcome: PrimingOutcome | PrimingOutcomeView,
  now: number,
): string {
  const window = outcome.window === 'weekly' ? 'weekly' : '5-hour';
  // The scheduler names moments in ISO (they are kept); people read local times.
  return `${name} (${window}): ${outcome.outcome} — ${humanizeTimes(outcome.message, { now })}`;
}
