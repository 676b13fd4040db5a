/**
 * A renamed profile keeps, and a removed profile loses, its router-side state: its entries in
 * `state/quota.json` and `state/priming.json` and its priming claims. The registry (pins, active
 * marker) and `state/health.json` are handled by `ProfileStore`; live sessions by the service.
 * Other profiles' entries are never touched. A state file that does not read is left as it is
 * (it is named by every command that reads it): the rename or removal, already made in the
 * registry, still succeeds, where it used to fail after the fact; what that file holds under the
 * old name is dropped by account once it reads again (docs/routing.md, "Names and accounts").
 */
import { isLabError } from '../errors.ts';
import { readJsonFile, writeJsonFile } from '../home/files.ts';
import { withLock } from '../home/lock.ts';
import type { LabPaths } from '../home/paths.ts';
import { listClaims, releaseClaim, saveClaim } from '../priming/claims.ts';
import { primingFileSchema, quotaFileSchema } from '../state/schema.ts';

/** Moves `from`'s state entries to `to`, or with `to === null` forgets them. */
export async function moveProfileState(
  paths: LabPaths,
  from: string,
  to: string | null,
): Promise<void> {
  if (from === to) return;
  await withLock(paths.locksDir, 'quota', async () => {
    const file = await readJsonFile(paths.quota, quotaFileSchema).catch(unlessUnreadable);
    if (!file || !(from in file.profiles)) return;
    const entry = file.profiles[from]!;
    delete file.profiles[from];
    if (to !== null) file.profiles[to] = entry;
    await writeJsonFile(paths.quota, file);
  });
  await withLock(paths.locksDir, 'priming', async () => {
    const file = await readJsonFile(paths.priming, primingFileSchema).catch(unlessUnreadable);
    if (!file || !(from in file.profiles)) return;
    const entry = file.profiles[from]!;
    delete file.profiles[from];
    if (to !== null) file.profiles[to] = entry;
    await writeJsonFile(paths.priming, file);
  });
  // A renamed profile's claims move with it, so a window it already primed is not primed again.
  for (const claim of await listClaims(paths, { profile: from })) {
    if (to !== null) await saveClaim(paths, { ...claim, profile: to });
    await releaseClaim(paths, claim);
  }
}

/** Undefined for a state file that does not read (`corrupt_file`): left alone; anything else is thrown. */
function unlessUnreadable(error: unknown): undefined {
  if (isLabError(error) && error.code === 'corrupt_file') return undefined;
  throw error;
}
