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

/**
 * The repository `folder` (a canonical path) lies inside without being its own folder, or null:
 * Codex run there names that repository, never `folder`, so a repo pin on it routes nothing (but
 * for a repository nested in it). Null too for a repository's own folder, a folder in no
 * repository (a pin there covers the repositories in it) and a path that is not a folder here
 * (a checkout deleted or not mounted says nothing).
 */
export async function enclosingRepository(folder: string): Promise<string | null> {
  const isFolder = await stat(folder).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (!isFolder) return null;
  const repository = await repositoryOf(folder);
  return repository === null || repository === folder ? null : repository;
}

/** The one wording of a pin on a folder inside a repository, for a refusal and a warning. */
export function describeRepoSubfolder(folder: string, repository: string): string {
  return `${folder} is inside the git repository ${repository}, and Codex names only the repository`;
}
