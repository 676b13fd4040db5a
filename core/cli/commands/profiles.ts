/**
 * `codex-lab rename`, `remove`, `use`, `pin` and `unpin`: registry edits through the profile
 * store, each one locked and atomic. Errors are `LabError`s, which `runCli` prints as one line.
 */
import { LabError } from '../../errors.ts';
import { canonicalRepoPath } from '../../profiles/repo-path.ts';
import { moveProfileState } from '../../service/profile-state.ts';
import { writeLine, type CliContext } from '../context.ts';
import { createProfileStore } from '../../profiles/create-store.ts';

function argument(args: string[], index: number, what: string): string {
  const value = args[index];
  if (value === undefined || value === '') {
    throw new LabError('invalid_argument', `Missing ${what}; see \`codex-lab --help\`.`);
  }
  return value;
}

/** `rename OLD NEW`. */
export async function runRename(context: CliContext, args: string[]): Promise<number> {
  const from = argument(args, 0, 'the current profile name');
  const to = argument(args, 1, 'the new profile name');
  const store = createProfileStore({ paths: context.paths });
  const current = (await store.getProfile(from)).name;
  await store.rename(current, to);
  await moveProfileState(context.paths, current, to);
  writeLine(context.stdout, `Renamed ${from} to ${to}.`);
  return 0;
}

/** `remove NAME [--revoke [--force]]`: deletes that profile only. */
export async function runRemove(
  context: CliContext,
  args: string[],
  options: Record<string, unknown>,
): Promise<number> {
  const name = argument(args, 0, 'the profile name');
  const store = createProfileStore({ paths: context.paths });
  const entry = await store.getProfile(name);
  let revoked: string | null = null;
  if (options['revoke'] === true) {
    // Loaded only here: the HTTP client has no business in the other commands' start-up.
    const { revokeProfileTokens, revokeVerdict } = await import('../../auth/revoke.ts');
    const outcome = await revokeProfileTokens(
      context.config.issuer,
      await store.readAuth(entry.name),
    );
    revoked = revokeVerdict(outcome, entry.name, options['force'] === true);
  }
  await store.remove(entry.name);
  await moveProfileState(context.paths, entry.name, null);
  writeLine(context.stdout, `Removed ${entry.name}${revoked ? ` (${revoked})` : ''}.`);
  return 0;
}

/** `use NAME|auto`. */
export async function runUse(context: CliContext, args: string[]): Promise<number> {
  const name = argument(args, 0, 'a profile name or "auto"');
  const store = createProfileStore({ paths: context.paths });
  await store.setActive(name);
  const active = (await store.readRegistry()).active;
  writeLine(
    context.stdout,
    active === 'auto'
      ? 'New unpinned sessions now go to the best profile (auto).'
      : `New unpinned sessions now use ${active}.`,
  );
  return 0;
}

type PinTarget = { kind: 'session' | 'repo'; key: string; shown: string };

async function pinTarget(options: Record<string, unknown>): Promise<PinTarget> {
  const session = options['session'];
  const repo = options['repo'];
  if ((session === undefined) === (repo === undefined)) {
    throw new LabError('invalid_argument', 'Give exactly one of --session ID or --repo PATH.');
  }
  if (typeof session === 'string') {
    if (session.trim() === '') {
      throw new LabError(
        'invalid_argument',
        'The session id is empty: give --session the id of a Codex session.',
      );
    }
    return { kind: 'session', key: session, shown: `session ${session}` };
  }
  const key = await canonicalRepoPath(String(repo), process.cwd());
  return { kind: 'repo', key, shown: `repo ${key}` };
}

/** `pin NAME --session ID | --repo PATH [--allow-fallback]`. */
export async function runPin(
  context: CliContext,
  args: string[],
  options: Record<string, unknown>,
): Promise<number> {
  const name = argument(args, 0, 'the profile name');
  const target = await pinTarget(options);
  const store = createProfileStore({ paths: context.paths });
  const profile = (await store.getProfile(name)).name;
  await store.setPin(target.kind, target.key, profile, options['allowFallback'] === true);
  writeLine(
    context.stdout,
    `Pinned ${target.shown} to ${profile}${options['allowFallback'] === true ? ' (falls over when exhausted)' : ''}.`,
  );
  return 0;
}

/** `unpin --session ID | --repo PATH`. */
export async function runUnpin(
  context: CliContext,
  _args: string[],
  options: Record<string, unknown>,
): Promise<number> {
  const target = await pinTarget(options);
  const store = createProfileStore({ paths: context.paths });
  const registry = await store.readRegistry();
  const pins = target.kind === 'session' ? registry.pins.sessions : registry.pins.repos;
  if (!Object.hasOwn(pins, target.key)) {
    writeLine(context.stdout, `No pin for ${target.shown}; nothing to do.`);
    return 0;
  }
  await store.setPin(target.kind, target.key, null);
  writeLine(context.stdout, `Unpinned ${target.shown}.`);
  return 0;
}
