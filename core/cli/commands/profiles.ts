/**
 * `codex-lab rename`, `remove`, `use`, `pin` and `unpin`: each one operation of the operations
 * layer (`core/service/operations.ts`), performed by the running router when one runs for this
 * home (live at once on every surface) and on the files otherwise. Errors are `LabError`s, which
 * `runCli` prints as one line.
 */
import { LabError } from '../../errors.ts';
import { nameArgument } from '../arguments.ts';
import { cliProfileStore } from '../profile-store.ts';
import { capitalize, codexLabCommand, shellArgument, type RoutingUse } from '../../format.ts';
import { isAutoName, savedProfileName } from '../../profiles/names.ts';
import { canonicalRepoPath } from '../../profiles/repo-path.ts';
import type { Pin } from '../../profiles/schema.ts';
import {
  checkSessionId,
  pinStands,
  sessionPinKey,
  referencesTo,
  type ProfileReferences,
} from '../../profiles/store.ts';
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
      `Running Codex sessions pinned to ${current} (${codexLabCommand('codex', '--profile', current)}, CODEX_LAB_PROFILE=${shellArgument(current)}) follow it to ${saved} while this router runs; start new ones with ${saved}.`,
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

type PinTarget = { kind: 'session' | 'repo'; key: string; shown: string; option: string };

/** What `pin` and `unpin` were told: the one reading of their arguments and options. */
interface PinCommand {
  /** The profile typed (`pin NAME`, `unpin NAME`); null when `unpin` was given none. */
  name: string | null;
  target: PinTarget;
  allowFallback: boolean;
}

/**
 * Reads `pin NAME --session ID | --repo PATH [--allow-fallback]` and `unpin [NAME] --session ID |
 * --repo PATH` alike: the name as every command reads one (`nameArgument`; `pin` requires it),
 * the operation's own rule on the fallback option (`checkPinOptions`, every surface's sentence),
 * then exactly one target. Refused before anything is read.
 */
async function readPinCommand(
  command: 'pin' | 'unpin',
  args: string[],
  options: Record<string, unknown>,
): Promise<PinCommand> {
  const name =
    command === 'pin' || args[0] !== undefined ? nameArgument(args[0], 'the profile name') : null;
  const allowFallback = options['allowFallback'] === true;
  if (name !== null) {
    const { checkPinOptions } = await import('../../service/operations.ts');
    checkPinOptions({ profile: name, allowFallback });
  }
  return { name, target: await pinTarget(command, options), allowFallback };
}

async function pinTarget(
  command: 'pin' | 'unpin',
  options: Record<string, unknown>,
): Promise<PinTarget> {
  const session = options['session'];
  const repo = options['repo'];
  if ((session === undefined) === (repo === undefined)) {
    throw new LabError('invalid_argument', 'Give exactly one of --session ID or --repo PATH.');
  }
  if (typeof session === 'string') {
    // Said before anything is read, in the store's own sentence (every surface's); an unpin may
    // name a pin made before ids had to be UUIDs, which `sessionPinKey` reads against the pins.
    if (command === 'unpin') return sessionTarget(session);
    return sessionTarget(checkSessionId(session));
  }
  // Resolved here, against this command's working folder, before it reaches any router.
  const key = await canonicalRepoPath(String(repo), process.cwd());
  return { kind: 'repo', key, shown: `repo ${key}`, option: `--repo ${shellArgument(key)}` };
}

/** The target of a session pin kept under `key`. */
function sessionTarget(key: string): PinTarget {
  return {
    kind: 'session',
    key,
    shown: `session ${key}`,
    option: `--session ${shellArgument(key)}`,
  };
}

/** The pins of `target`'s kind, as the registry holds them now. */
async function pinsOf(context: CliContext, target: PinTarget): Promise<Record<string, Pin>> {
  const registry = await cliProfileStore(context).readRegistry();
  return target.kind === 'session' ? registry.pins.sessions : registry.pins.repos;
}

async function setPin(
  context: CliContext,
  target: PinTarget,
  profile: string | null,
  allowFallback: boolean,
): Promise<string | null> {
  const lab = await openLabClient(context);
  return valueOf(
    target.kind === 'session'
      ? await lab.pinSession({ sessionId: target.key, profile, allowFallback })
      : await lab.pinRepo({ path: target.key, profile, allowFallback }),
  ).replaced;
}

/** `pin NAME --session ID | --repo PATH [--allow-fallback]`. */
export async function runPin(
  context: CliContext,
  args: string[],
  options: Record<string, unknown>,
): Promise<number> {
  const { name, target, allowFallback } = await readPinCommand('pin', args, options);
  if (name === null || isAutoName(name)) {
    // A pin to `auto` is no pin: the router chooses, as it does for `use auto`.
    await setPin(context, target, null, false);
    writeLine(
      context.stdout,
      `${capitalize(target.shown)} is not pinned: the router chooses (auto).`,
    );
    return 0;
  }
  const profile = (await cliProfileStore(context).getProfile(name)).name;
  // Made again as it stands: nothing to change, and nothing is logged (the operation's rule).
  if (pinStands(await pinsOf(context, target), target.key, profile, allowFallback)) {
    writeLine(
      context.stdout,
      `${capitalize(target.shown)} is already pinned to ${profile}${allowFallback ? ' (falls over when exhausted)' : ''}; nothing to do.`,
    );
    return 0;
  }
  // A pin moved from another profile says so, as the activity log does.
  const replaced = await setPin(context, target, profile, allowFallback);
  writeLine(
    context.stdout,
    `Pinned ${target.shown} to ${profile}${replaced === null ? '' : ` (was ${replaced})`}${allowFallback ? ' (falls over when exhausted)' : ''}.`,
  );
  await warnIfUnavailable(context, profile, allowFallback ? 'pin-fallback' : 'pin');
  return 0;
}

/**
 * `unpin [NAME] --session ID | --repo PATH`. NAME, the counterpart of `pin NAME`, is checked: a
 * pin another profile holds is kept, and said so, rather than removed under a name it does not
 * have.
 */
export async function runUnpin(
  context: CliContext,
  args: string[],
  options: Record<string, unknown>,
): Promise<number> {
  const command = await readPinCommand('unpin', args, options);
  const typed =
    command.name === null ? null : (await cliProfileStore(context).getProfile(command.name)).name;
  const pins = await pinsOf(context, command.target);
  const target =
    command.target.kind === 'session'
      ? sessionTarget(sessionPinKey(command.target.key, pins, true))
      : command.target;
  if (pinStands(pins, target.key, null, false)) {
    writeLine(context.stdout, `No pin for ${target.shown}; nothing to do.`);
    return 0;
  }
  const holder = pins[target.key]!.profile;
  if (typed !== null && typed !== holder) {
    throw new LabError(
      'invalid_argument',
      `${capitalize(target.shown)} is pinned to ${holder}, not ${typed}: run ${codexLabCommand('unpin', holder)} ${target.option}, or leave the name out.`,
    );
  }
  await setPin(context, target, null, false);
  writeLine(context.stdout, `Unpinned ${target.shown}.`);
  return 0;
}
