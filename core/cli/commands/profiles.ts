/**
 * `codex-lab rename`, `remove`, `use`, `pin` and `unpin`: each one operation of the operations
 * layer (`core/service/operations.ts`), performed by the running router when one runs for this
 * home (live at once on every surface) and on the files otherwise. Errors are `LabError`s, which
 * `runCli` prints as one line.
 */
import { LabError } from '../../errors.ts';
import { nameArgument } from '../arguments.ts';
import { cliProfileStore } from '../profile-store.ts';
import { capitalize, type RoutingUse } from '../../format.ts';
import { isAutoName, savedProfileName } from '../../profiles/names.ts';
import { canonicalRepoPath } from '../../profiles/repo-path.ts';
import { checkSessionIdGiven, referencesTo, type ProfileReferences } from '../../profiles/store.ts';
import { routingWarnings } from '../prechecks.ts';
import { writeLine, type CliContext } from '../context.ts';
import { openLabClient, valueOf } from '../lab-client.ts';

/** `rename OLD NEW`. */
export async function runRename(context: CliContext, args: string[]): Promise<number> {
  const from = nameArgument(args[0], 'the current profile name');
  const to = nameArgument(args[1], 'the new profile name');
  // Said with the profile's real name, however it was typed (`JD` is jd).
  const current = (await cliProfileStore(context).getProfile(from)).name;
  // The new name as the operation saves it (`WORK` is work), said so when typed otherwise.
  const saved = savedProfileName(to);
  const lower = saved === to ? '' : ' (profile names are lower case)';
  if (saved === current) {
    writeLine(context.stdout, `${current} is already named ${saved}${lower}.`);
    return 0;
  }
  const lab = await openLabClient(context);
  valueOf(await lab.renameProfile({ from: current, to }));
  writeLine(context.stdout, `Renamed ${current} to ${saved}${lower}.`);
  // A running Codex cannot change the pin it was started with; the router follows the rename.
  if (lab.routerUrl !== null) {
    writeLine(
      context.stdout,
      `Running Codex sessions pinned to ${current} (codex-lab codex --profile ${current}, CODEX_LAB_PROFILE=${current}) follow it to ${saved} while this router runs; start new ones with ${saved}.`,
    );
  }
  return 0;
}

/** `remove NAME [--revoke [--force]]`: deletes that profile only. */
export async function runRemove(
  context: CliContext,
  args: string[],
  options: Record<string, unknown>,
): Promise<number> {
  const name = nameArgument(args[0], 'the profile name');
  const input = {
    profile: name,
    revoke: options['revoke'] === true,
    force: options['force'] === true,
  };
  // The operation's own rule on its options, checked before the profile is looked up, as the
  // operation checks it (every surface refuses `force` alone alike).
  const { checkRemoveOptions } = await import('../../service/operations.ts');
  checkRemoveOptions(input);
  const store = cliProfileStore(context);
  const entry = await store.getProfile(name);
  // What goes with it (its pins, the active marker), to say so: the removal drops them silently.
  const references = referencesTo(await store.readRegistry(), entry.name);
  const lab = await openLabClient(context);
  const outcome = valueOf(await lab.removeProfile({ ...input, profile: entry.name }));
  let revoked: string | null = null;
  if (outcome !== null) {
    // The operation kept the profile (and failed) unless the revoke was confirmed or forced.
    const { revokeVerdict } = await import('../../auth/revoke.ts');
    revoked = revokeVerdict(outcome.revoked, entry.name, true);
  }
  writeLine(context.stdout, `Removed ${entry.name}${revoked ? ` (${revoked})` : ''}.`);
  for (const line of removalNotes(entry.name, references)) writeLine(context.stdout, line);
  return 0;
}

/** The lines saying what a removal changed besides the profile (pins dropped, active reset). */
export function removalNotes(name: string, references: ProfileReferences): string[] {
  const lines: string[] = [];
  const pins = [
    ...references.sessions.map((id) => `session ${id}`),
    ...references.repos.map((path) => `repo ${path}`),
  ];
  if (pins.length > 0) {
    lines.push(
      `Dropped ${pins.length === 1 ? 'its pin' : `its ${pins.length} pins`} (${pins.join(', ')}): ${pins.length === 1 ? 'it is' : 'they are'} routed automatically again.`,
    );
  }
  if (references.active) {
    lines.push(
      `${name} was the active profile: new unpinned sessions are routed automatically again (auto).`,
    );
  }
  return lines;
}

/** `use NAME|auto`. */
export async function runUse(context: CliContext, args: string[]): Promise<number> {
  const name = nameArgument(args[0], 'a profile name or "auto"');
  const lab = await openLabClient(context);
  valueOf(await lab.setActive({ profile: name }));
  const active = (await cliProfileStore(context).readRegistry()).active;
  writeLine(
    context.stdout,
    active === 'auto'
      ? 'New unpinned sessions now go to the best profile (auto).'
      : `New unpinned sessions now use ${active}.`,
  );
  if (active !== 'auto') await warnIfUnavailable(context, active, 'active');
  return 0;
}

/**
 * The warning `codex --profile` gives, on stderr, for a profile that cannot serve right now, and
 * a health file that does not read (so that warning cannot be given) by name.
 */
async function warnIfUnavailable(
  context: CliContext,
  name: string,
  use: RoutingUse,
): Promise<void> {
  for (const line of await routingWarnings(context, name, use, Date.now())) {
    writeLine(context.stderr, `codex-lab: ${line}`);
  }
}

type PinTarget = { kind: 'session' | 'repo'; key: string; shown: string };

async function pinTarget(options: Record<string, unknown>): Promise<PinTarget> {
  const session = options['session'];
  const repo = options['repo'];
  if ((session === undefined) === (repo === undefined)) {
    throw new LabError('invalid_argument', 'Give exactly one of --session ID or --repo PATH.');
  }
  if (typeof session === 'string') {
    // Said before anything is read, in the store's own sentence (every surface's).
    checkSessionIdGiven(session);
    return { kind: 'session', key: session, shown: `session ${session}` };
  }
  // Resolved here, against this command's working folder, before it reaches any router.
  const key = await canonicalRepoPath(String(repo), process.cwd());
  return { kind: 'repo', key, shown: `repo ${key}` };
}

async function setPin(
  context: CliContext,
  target: PinTarget,
  profile: string | null,
  allowFallback: boolean,
): Promise<void> {
  const lab = await openLabClient(context);
  valueOf(
    target.kind === 'session'
      ? await lab.pinSession({ sessionId: target.key, profile, allowFallback })
      : await lab.pinRepo({ path: target.key, profile, allowFallback }),
  );
}

/** `pin NAME --session ID | --repo PATH [--allow-fallback]`. */
export async function runPin(
  context: CliContext,
  args: string[],
  options: Record<string, unknown>,
): Promise<number> {
  const name = nameArgument(args[0], 'the profile name');
  const allowFallback = options['allowFallback'] === true;
  // Refused before anything is read, in the operation's own sentence (every surface's).
  const { checkPinOptions } = await import('../../service/operations.ts');
  checkPinOptions({ profile: name, allowFallback });
  const target = await pinTarget(options);
  if (isAutoName(name)) {
    // A pin to `auto` is no pin: the router chooses, as it does for `use auto`.
    await setPin(context, target, null, false);
    writeLine(
      context.stdout,
      `${capitalize(target.shown)} is not pinned: the router chooses (auto).`,
    );
    return 0;
  }
  const profile = (await cliProfileStore(context).getProfile(name)).name;
  await setPin(context, target, profile, allowFallback);
  writeLine(
    context.stdout,
    `Pinned ${target.shown} to ${profile}${allowFallback ? ' (falls over when exhausted)' : ''}.`,
  );
  await warnIfUnavailable(context, profile, allowFallback ? 'pin-fallback' : 'pin');
  return 0;
}

/** `unpin --session ID | --repo PATH`. */
export async function runUnpin(
  context: CliContext,
  _args: string[],
  options: Record<string, unknown>,
): Promise<number> {
  const target = await pinTarget(options);
  const registry = await cliProfileStore(context).readRegistry();
  const pins = target.kind === 'session' ? registry.pins.sessions : registry.pins.repos;
  if (!Object.hasOwn(pins, target.key)) {
    writeLine(context.stdout, `No pin for ${target.shown}; nothing to do.`);
    return 0;
  }
  await setPin(context, target, null, false);
  writeLine(context.stdout, `Unpinned ${target.shown}.`);
  return 0;
}
