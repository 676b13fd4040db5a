/**
 * `codex-lab login [NAME] [--no-browser] [--device] [--keyring] [--timeout S]`: one sign-in, saved
 * as a profile; other profiles are never touched. Prints the authorize URL (never a token) and one
 * result line.
 */
import { startLogin } from '../../auth/browser-login.ts';
import { startDeviceLogin } from '../../auth/device-login.ts';
import { openInBrowser } from '../../auth/open-browser.ts';
import {
  tokenRequestTimeoutMs,
  type SignInEnvironment,
  type SignInResult,
} from '../../auth/sign-in.ts';
import { parseWaitText } from '../../config.ts';
import {
  signInElsewhereSentence,
  signInLandedElsewhere,
  withCliFix,
  withoutSentenceEnd,
} from '../../format.ts';
import { matchProfileName } from '../../profiles/names.ts';
import { isLabError } from '../../errors.ts';
import { criticalWorkPending } from '../../home/critical.ts';
import { second, systemClock } from '../../ports.ts';
import { cliLogger, cliProfileStore } from '../profile-store.ts';
import { signalExitCode, stopSignals, type StopSignal } from '../critical-exit.ts';
import { optionalNameArgument } from '../arguments.ts';
import type { CliContext } from '../context.ts';
import { writeLine } from '../context.ts';
import { precheckLogin } from '../prechecks.ts';
import { localLabClient, openLabClient } from '../lab-client.ts';

/** Parses `--timeout` (seconds) into milliseconds; refuses more than a timer can wait. */
export function parseTimeout(value: unknown): number {
  return parseWaitText(String(value ?? '600').trim(), '--timeout', 'seconds', 'invalid_argument');
}

/** The profile a sign-in asked for, when the sign-in renewed another one instead. */
export interface AskedProfile {
  name: string;
  /** False when no profile has that name (none was added). */
  exists: boolean;
  email: string | null;
}

/**
 * The result line printed after a sign-in; `suffix` (" before exiting") marks one completed after
 * Ctrl-C, SIGTERM or SIGHUP. `asked`: the profile asked for when the account was another
 * profile's, so that one was renewed instead (worded once for every surface).
 */
export function describeSignIn(
  result: SignInResult,
  suffix = '',
  asked: AskedProfile | null = null,
): string {
  const who = result.email ?? result.accountId ?? 'the account';
  const plan = result.plan ? ` (${result.plan})` : '';
  const where = result.created
    ? `saved as profile "${result.name}"`
    : `updated profile "${result.name}"`;
  const signedIn =
    asked !== null && signInLandedElsewhere(asked.name, result.name)
      ? `${signInElsewhereSentence({
          who,
          saved: result.name,
          asked: asked.name,
          askedExists: asked.exists,
          askedEmail: asked.email,
        })}${suffix === '' ? '' : ` It was saved${suffix}.`}`
      : `Signed in as ${who}${plan} — ${where}${suffix}.`;
  return result.setAside === null
    ? signedIn
    : `${signedIn} Its auth file could not be read, so it was kept as ${result.setAside}.`;
}

/** The profile `requested` names as it is now (for `describeSignIn`); null when none was asked. */
async function askedProfile(
  context: CliContext,
  requested: string | null,
): Promise<AskedProfile | null> {
  if (requested === null) return null;
  // Only words depend on it: a registry that cannot be read leaves the email unknown.
  const profiles = await cliProfileStore(context)
    .listProfiles()
    .catch(() => null);
  if (profiles === null) return { name: requested, exists: true, email: null };
  const name = matchProfileName(
    requested,
    profiles.map((profile) => profile.name),
  );
  const entry = profiles.find((profile) => profile.name === name);
  return {
    name: entry?.name ?? requested,
    exists: entry !== undefined,
    email: entry?.email ?? null,
  };
}

/** The longest a sign-in's save can take: the code exchange, then the API-key exchange. */
const saveLimitSeconds = (2 * tokenRequestTimeoutMs) / second;

/** Runs the sign-in and prints its outcome; expected failures are thrown as `LabError`s. */
export async function runLogin(
  context: CliContext,
  args: string[],
  options: Record<string, unknown>,
): Promise<number> {
  const requestedName = optionalNameArgument(args[0]) ?? null;
  const timeoutMs = parseTimeout(options['timeout']);
  const callbackPort = context.config.callbackPort;
  const keyring = options['keyring'] === true;
  // Everything that would make the sign-in fail afterwards is checked before the URL is shown.
  const note = await precheckLogin(context, { name: requestedName, keyring });
  if (note) writeLine(context.stdout, note);
  const logger = cliLogger(context);
  const environment: SignInEnvironment = {
    paths: context.paths,
    issuer: context.config.issuer,
    clock: systemClock,
    logger,
    profiles: cliProfileStore(context),
    ...(keyring ? { store: 'keyring' as const } : {}),
  };

  let cancel: () => void = () => undefined;
  /** The stop signal that cancelled the sign-in while it waited (or before it began waiting). */
  let cancelledBy: StopSignal | null = null;
  /** The first stop signal that arrived once the sign-in was being (or had been) saved. */
  let signalled: StopSignal | null = null;
  let repeatNoted = false;
  let saved = false;
  // Ctrl-C, SIGTERM or SIGHUP (a closed terminal) while waiting cancels the sign-in; once the
  // issuer has answered the code exchange, the new tokens exist nowhere else: the sign-in runs on
  // to its normal end (saved, shown, the router told) and the command then exits with the
  // signal's code.
  const onSignal = (signal: StopSignal) => {
    if (signalled === null && !saved && criticalWorkPending() === 0) {
      cancelledBy ??= signal;
      return cancel();
    }
    if (signalled !== null) {
      // A second Ctrl-C cannot stop the save without dropping the tokens: say what is going on.
      if (!repeatNoted && !saved) {
        repeatNoted = true;
        writeLine(
          context.stderr,
          `codex-lab: still saving the sign-in; stopping now would lose it. This takes at most ${saveLimitSeconds} s if the issuer is slow; the command exits once it is saved.`,
        );
      }
      return;
    }
    signalled = signal;
    if (!saved) writeLine(context.stderr, 'codex-lab: saving the sign-in before exiting…');
  };
  const listeners = stopSignals.map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, listener] of listeners) process.on(signal, listener);
  // The core's timers are unref'd (they never keep a process alive); this command is waiting on
  // purpose, between retries and polls when no socket is open, until the sign-in settles.
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    let result: SignInResult;
    if (options['device'] === true) {
      const login = await startDeviceLogin({ ...environment, requestedName, timeoutMs });
      cancel = login.cancel;
      // A signal while the sign-in was starting had nothing to cancel yet.
      if (cancelledBy !== null) cancel();
      writeLine(context.stdout, 'To sign in, open this page in a browser on any device:');
      writeLine(context.stdout, `  ${login.verificationUrl}`);
      writeLine(context.stdout, 'and enter this one-time code (it expires in 15 minutes):');
      writeLine(context.stdout, `  ${login.userCode}`);
      result = await login.done;
      saved = true;
    } else {
      const openBrowser = options['browser'] !== false;
      const login = await startLogin({
        ...environment,
        callbackPort,
        requestedName,
        timeoutMs,
        // The browser's page says what this terminal will: the command that starts it again.
        sayFailure: withCliFix,
        ...(openBrowser ? { openBrowser: (url: string) => openInBrowser(url) } : {}),
      });
      cancel = login.cancel;
      if (cancelledBy !== null) cancel();
      writeLine(
        context.stdout,
        `Waiting for the sign-in on http://127.0.0.1:${login.port}. ${openBrowser ? 'If your browser did not open, open' : 'Open'} this URL to sign in:`,
      );
      writeLine(context.stdout);
      writeLine(context.stdout, login.authorizeUrl);
      writeLine(context.stdout);
      result = await login.done;
      saved = true;
      // Let the browser fetch the success page before this process ends (a few seconds at most).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        login.closed,
        new Promise((resolve) => (timer = setTimeout(resolve, 3000))),
      ]);
      clearTimeout(timer);
    }
    // The sign-in is saved; the operation that follows makes it live: healthy at once on every
    // surface (a profile that needed a sign-in is routed to again) and its quota read now.
    const lab = await openLabClient(context);
    let live = await lab.profileSignedIn({ profile: result.name });
    if (!live.ok && live.code === 'router_unavailable') {
      // The router went away before it made the sign-in live. Running login again would only
      // ask for the browser sign-in again: the same operation runs on the files instead, which
      // a router reads when it answers again or starts.
      writeLine(
        context.stderr,
        `codex-lab: ${withoutSentenceEnd(live.message)}; the sign-in is saved, and recorded in the files instead.`,
      );
      live = await (await localLabClient(context)).profileSignedIn({ profile: result.name });
    }
    if (!live.ok) writeLine(context.stderr, `codex-lab: ${live.message}`);
    const asked = signInLandedElsewhere(requestedName, result.name)
      ? await askedProfile(context, requestedName)
      : null;
    if (signalled === null) {
      writeLine(context.stdout, describeSignIn(result, '', asked));
      return 0;
    }
    writeLine(context.stdout, describeSignIn(result, ' before exiting', asked));
    return signalExitCode(signalled);
  } catch (error) {
    // Cancelled by the user's signal before anything was saved: what a shell expects of an
    // interrupted command (130 after Ctrl-C), in one line, with no advice to start again.
    if (cancelledBy !== null && isLabError(error) && error.code === 'auth_cancelled') {
      writeLine(context.stderr, 'codex-lab: Sign-in cancelled; nothing was saved.');
      return signalExitCode(cancelledBy);
    }
    throw error;
  } finally {
    clearInterval(keepAlive);
    for (const [signal, listener] of listeners) process.off(signal, listener);
  }
}
