/** The one spelling of a repository path that pins are stored and matched under. */
import { access, readdir, realpath, stat } from 'node:fs/promises';
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
 * The repository that makes a repo pin on `folder` (a canonical path) route nothing, or null:
 * `folder` lies inside it without being its own folder, and no repository lies inside `folder`
 * either (Codex run anywhere there names that repository, never `folder`). Null for a
 * repository's own folder, a folder in no repository, a folder holding a repository of its own
 * (a pin there covers it: a home-folder dotfiles repository does not stop `~/work` from being
 * pinned), and a path that is not a folder here (a checkout deleted or not mounted says nothing).
 */
export async function enclosingRepository(folder: string): Promise<string | null> {
  const isFolder = await stat(folder).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (!isFolder) return null;
  const repository = await repositoryOf(folder);
  if (repository === null || repository === folder) return null;
  return (await holdsRepository(folder)) ? null : repository;
}

/** How many folder entries `holdsRepository` reads at most: a huge tree costs little. */
const nestedScanLimit = 2_000;
/** Folders never searched for a nested repository: a repository's own data, installed packages. */
const skippedFolders = new Set(['.git', 'node_modules']);

/**
 * True when a child or grandchild folder of `folder` is a repository (holds `.git`). Bounded: two
 * levels, at most `nestedScanLimit` entries read, unreadable folders skipped.
 */
async function holdsRepository(folder: string): Promise<boolean> {
  let budget = nestedScanLimit;
  const subfolders = async (parent: string): Promise<string[]> => {
    if (budget <= 0) return [];
    const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
    const read = entries.slice(0, budget);
    budget -= read.length;
    return read
      .filter((entry) => entry.isDirectory() && !skippedFolders.has(entry.name))
      .map((entry) => join(parent, entry.name));
  };
  const isRepository = (path: string): Promise<boolean> =>
    access(join(path, '.git')).then(
      () => true,
      () => false,
    );
  for (const child of await subfolders(folder)) {
    if (await isRepository(child)) return true;
    for (const grandchild of await subfolders(child)) {
      if (await isRepository(grandchild)) return true;
    }
  }
  return false;
}

/** The one wording of a pin on a folder inside a repository, for a refusal and a warning. */
export function describeRepoSubfolder(folder: string, repository: string): string {
  return `${folder} is inside the git repository ${repository}, and Codex names only the repository`;
}
