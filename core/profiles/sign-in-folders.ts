/**
 * The folders saving a sign-in writes in, and the probe that tells whether each can be written.
 * One list for both: the check made before a sign-in URL is shown and the save itself
 * (`ProfileStore.unwritableSignInFolder`) read it from `signInFolders`, so they never disagree.
 */
import { randomBytes } from 'node:crypto';
import { lstat, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LabPaths } from '../home/paths.ts';

/** The file-system calls a write probe makes (tests inject failing ones). */
export interface ProbeFs {
  /** Resolves with whether `path` is a folder; rejects (`ENOENT`, …) when it cannot be seen. */
  isFolder(path: string): Promise<boolean>;
  /** Creates the probe file; must fail when it exists (`wx`). */
  create(path: string): Promise<void>;
  /** Removes the probe file. */
  remove(path: string): Promise<void>;
}

/** The real file system. */
export const nodeProbeFs: ProbeFs = {
  isFolder: async (path) => (await lstat(path)).isDirectory(),
  create: (path) => writeFile(path, '', { flag: 'wx', mode: 0o600 }),
  remove: (path) => rm(path, { force: true }),
};

/** A folder a sign-in cannot be saved in, and why (an errno code, or "a file, not a folder"). */
export interface UnwritableFolder {
  folder: string;
  reason: string;
}

/**
 * Every folder saving a sign-in writes in: the home (the registry, and the legacy auth.json), the
 * profiles folder (a new profile's folder), each of `profiles`' folders (a sign-in again writes
 * its auth file there; which one is known only once the issuer says who signed in), and under
 * `state/` its locks, the journal (a new profile's record, a kept sign-in) and the health file.
 */
export function signInFolders(paths: LabPaths, profiles: readonly string[]): string[] {
  return [
    paths.home,
    paths.profilesDir,
    ...profiles.map((name) => paths.profileDir(name)),
    paths.stateDir,
    paths.locksDir,
    paths.journalDir,
  ];
}

/**
 * The first of `folders` that cannot be written in, or null when each can: a probe file is
 * created and removed in each (permissions alone do not tell: root, read-only mounts, ACLs). A
 * folder not made yet is probed in the nearest folder above it that exists, where the save makes
 * it; nothing is made here.
 */
export async function findUnwritableFolder(
  folders: readonly string[],
  fs: ProbeFs = nodeProbeFs,
): Promise<UnwritableFolder | null> {
  const probed = new Set<string>();
  for (const folder of folders) {
    const found = await nearestExisting(folder, fs);
    if ('reason' in found) return found;
    if (probed.has(found.folder)) continue;
    probed.add(found.folder);
    // A dot name: never read as a profile folder, a journal record or a lock.
    const probe = `${found.folder}/.codex-lab-write-probe-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await fs.create(probe);
    } catch (error) {
      return { folder: found.folder, reason: errorReason(error) };
    }
    try {
      await fs.remove(probe);
    } catch (error) {
      // A folder that takes files but gives none back fills up with probes: not writable either.
      return { folder: found.folder, reason: errorReason(error) };
    }
  }
  return null;
}

/** `folder`, or the nearest folder above it that exists; an error when a file stands in the way. */
async function nearestExisting(
  folder: string,
  fs: ProbeFs,
): Promise<{ folder: string } | UnwritableFolder> {
  let current = folder;
  for (;;) {
    try {
      return (await fs.isFolder(current))
        ? { folder: current }
        : { folder: current, reason: 'it is a file, not a folder' };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = dirname(current);
      // Missing (or a file above it, ENOTDIR): look one level up, where the save would make it.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === current) {
        return { folder: current, reason: errorReason(error) };
      }
      current = parent;
    }
  }
}

function errorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : 'unknown error';
}
