/** The one spelling of a repository path that pins are stored and matched under. */
import { access, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { LabError } from '../errors.ts';

/**
 * Resolves `path` against `base` and follows symlinks, because Codex reports canonical workspace
 * paths: a symlinked checkout is pinned by its real path. A path that does not exist is kept as
 * resolved. Without `base` the path must already be absolute (the control API has no working
 * folder to resolve against).
 */
export async function canonicalRepoPath(path: string, base?: string): Promise<string> {
  if (path.trim() === '') throw new LabError('invalid_argument', 'The repository path is empty.');
  // A NUL or another control character cannot be part of a real folder name (and would make
  // the file system call throw): one sentence instead.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(path)) {
    throw new LabError(
      'invalid_argument',
      `${JSON.stringify(path)} is not a repository path: it contains a control character.`,
    );
  }
  if (base === undefined && !isAbsolute(path)) {
    throw new LabError(
      'invalid_argument',
      `"${path}" is not an absolute path: give the repository's full path.`,
    );
  }
  const absolute = base === undefined ? resolve(path) : resolve(base, path);
  return realpath(absolute).catch(() => absolute);
}

/**
 * True when the workspace `candidate` is the pinned repository or a folder inside it, so a pin
 * made at a repository's root also holds when Codex runs in one of its subfolders.
 */
export function repoPathCovers(pinned: string, candidate: string): boolean {
  if (candidate === pinned) return true;
  const prefix = pinned.endsWith(sep) ? pinned : pinned + sep;
  return candidate.startsWith(prefix);
}

/**
 * The repository Codex names for a session run in `folder` (a canonical path): the nearest folder
 * at or above it holding a `.git` entry (a folder, or the file of a linked worktree), as Codex
 * looks it up; null outside any repository, where Codex names none. Codex reports that folder,
 * never the subfolder it runs in, so a repo pin only ever matches a repository's own folder.
 */
export async function repositoryOf(folder: string): Promise<string | null> {
  let current = folder;
  for (;;) {
    const found = await access(join(current, '.git')).then(
      () => true,
      () => false,
    );
    if (found) return current;
    const parent = dirname(current);
    if (parent === current) return null;
    current = parent;
  }
}

/** Why Codex never names a folder in its turns, so a repo pin on it routes nothing. */
export type RepoPinMismatch = { kind: 'outside' } | { kind: 'inside'; repository: string };

/**
 * Whether Codex can name `folder` (a canonical path) as its repository: null when it is a
 * repository's own folder (or not a folder here, e.g. a checkout deleted or not mounted, which
 * says nothing), else why not.
 */
export async function repoPinMismatch(folder: string): Promise<RepoPinMismatch | null> {
  const isFolder = await stat(folder).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (!isFolder) return null;
  const repository = await repositoryOf(folder);
  if (repository === null) return { kind: 'outside' };
  return repository === folder ? null : { kind: 'inside', repository };
}

/** The one wording of a mismatch, for the refusal of a new pin and the warning on a saved one. */
export function describeRepoPinMismatch(folder: string, mismatch: RepoPinMismatch): string {
  return mismatch.kind === 'outside'
    ? `${folder} is not in a git repository, and Codex names no repository there`
    : `${folder} is inside the git repository ${mismatch.repository}, and Codex names only the repository`;
}
