/**
 * Priming claims: one file per (profile, window, reset slot) under `state/priming-claims/`,
 * created exclusively (`wx`), so that across restarts and across processes sharing one home at
 * most one priming turn is sent per window (the claim-file idea of anthropic-auth PR #127).
 * The claim also holds the attempt state, rewritten atomically by the process that created it.
 */
import { open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LabError } from '../errors.ts';
import { ensurePrivateDirectory, fileMode, readJsonFile, writeJsonFile } from '../home/files.ts';
import { withLock } from '../home/lock.ts';
import type { LabPaths } from '../home/paths.ts';
import { primingWindowSchema, type PrimingWindow } from '../profiles/schema.ts';

/** Where a claimed priming stands. */
export const claimStateSchema = z.enum(['sending', 'retrying', 'primed', 'confirmed', 'failed']);
/** Where a claimed priming stands. */
export type ClaimState = z.infer<typeof claimStateSchema>;

/** The content of one claim file (times in Unix ms, `slot` in Unix seconds). */
export const primingClaimSchema = z.object({
  version: z.literal(1),
  profile: z.string(),
  window: primingWindowSchema,
  slot: z.number(),
  /** Which scheduler instance owns it (for the logs; never a secret). */
  owner: z.string(),
  claimedAt: z.number(),
  state: claimStateSchema,
  attempts: z.number(),
  lastAttemptAt: z.number().nullable(),
  nextAttemptAt: z.number().nullable(),
  message: z.string(),
});
/** The content of one claim file. */
export type PrimingClaim = z.infer<typeof primingClaimSchema>;

/** The file name of a claim; profile names are already validated path-safe. */
export function claimFileName(profile: string, window: PrimingWindow, slot: number): string {
  return `${profile}--${window}--${slot}.json`;
}

/** The full path of a claim. */
export function claimPath(
  paths: LabPaths,
  profile: string,
  window: PrimingWindow,
  slot: number,
): string {
  return join(paths.primingClaimsDir, claimFileName(profile, window, slot));
}

/**
 * Creates the claim for (profile, window, slot) exclusively. Returns it, or null when the file
 * already exists (another process, or an earlier run, owns this window).
 */
export async function tryClaim(
  paths: LabPaths,
  init: { profile: string; window: PrimingWindow; slot: number; owner: string; now: number },
): Promise<PrimingClaim | null> {
  await ensurePrivateDirectory(paths.primingClaimsDir);
  const claim: PrimingClaim = {
    version: 1,
    profile: init.profile,
    window: init.window,
    slot: init.slot,
    owner: init.owner,
    claimedAt: init.now,
    state: 'sending',
    attempts: 0,
    lastAttemptAt: null,
    nextAttemptAt: null,
    message: 'claimed',
  };
  const path = claimPath(paths, init.profile, init.window, init.slot);
  let handle;
  try {
    handle = await open(path, 'wx', fileMode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw new LabError(
      'io_error',
      `Could not create ${path} (${(error as Error).message}); check that its folder is writable.`,
      {
        cause: error,
      },
    );
  }
  try {
    await handle.writeFile(`${JSON.stringify(claim, null, 2)}\n`);
  } finally {
    await handle.close();
  }
  return claim;
}

/**
 * `tryClaim` for an explicit request (`prime NAME`): a `failed` claim of the same slot sent nothing
 * that started the window, so it gives way (after a new sign-in, say) instead of holding the
 * window for the rest of the slot. A claim in any other state (a live run's `sending` or
 * `retrying`, a `primed` one) still wins. The take-over runs under the `priming-claims` lock, so
 * of two runs that both find the failed claim only one replaces it; a plain `tryClaim` racing it
 * meets the exclusive create, as ever.
 */
export async function claimReplacingFailed(
  paths: LabPaths,
  init: { profile: string; window: PrimingWindow; slot: number; owner: string; now: number },
): Promise<PrimingClaim | null> {
  const claimed = await tryClaim(paths, init);
  if (claimed) return claimed;
  return withLock(paths.locksDir, 'priming-claims', async () => {
    const path = claimPath(paths, init.profile, init.window, init.slot);
    const held = await readJsonFile(path, primingClaimSchema).catch(() => undefined);
    // Unreadable (a create cut short) or live: it keeps the window.
    if (held?.state !== 'failed') return null;
    await rm(path, { force: true });
    return tryClaim(paths, init);
  });
}

/** Rewrites a claim the caller owns (atomic rename, so readers never see half a file). */
export async function saveClaim(paths: LabPaths, claim: PrimingClaim): Promise<void> {
  await writeJsonFile(claimPath(paths, claim.profile, claim.window, claim.slot), claim);
}

/** Gives a claim up, so a later run may prime this window again. */
export async function releaseClaim(paths: LabPaths, claim: PrimingClaim): Promise<void> {
  await rm(claimPath(paths, claim.profile, claim.window, claim.slot), { force: true });
}

/**
 * Every readable claim, newest slot first, optionally for one profile and window. A claim that
 * does not parse (a crash between create and write) still blocks its window; it is just not listed.
 */
export async function listClaims(
  paths: LabPaths,
  filter: { profile?: string; window?: PrimingWindow } = {},
): Promise<PrimingClaim[]> {
  let names: string[];
  try {
    names = await readdir(paths.primingClaimsDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const claims: PrimingClaim[] = [];
  for (const name of names) {
    const parsed = parseClaimFileName(name);
    if (!parsed) continue;
    if (filter.profile !== undefined && parsed.profile !== filter.profile) continue;
    if (filter.window !== undefined && parsed.window !== filter.window) continue;
    const claim = await readJsonFile(join(paths.primingClaimsDir, name), primingClaimSchema).catch(
      () => undefined,
    );
    if (claim) claims.push(claim);
  }
  return claims.sort((a, b) => b.slot - a.slot);
}

/**
 * The newest claim of (profile, window) that sent, or is sending, a priming turn since `since`:
 * a window primed that recently cannot be idle again yet, whatever slot the clock is in now.
 */
export async function findRecentClaim(
  paths: LabPaths,
  profile: string,
  window: PrimingWindow,
  since: number,
): Promise<PrimingClaim | undefined> {
  const claims = await listClaims(paths, { profile, window });
  return claims.find(
    (claim) =>
      (claim.state === 'sending' ||
        claim.state === 'retrying' ||
        claim.state === 'primed' ||
        claim.state === 'confirmed') &&
      (claim.lastAttemptAt ?? claim.claimedAt) >= since,
  );
}

/** Deletes claims made before `olderThan` (Unix ms); returns how many went. */
export async function pruneClaims(paths: LabPaths, olderThan: number): Promise<number> {
  let names: string[];
  try {
    names = await readdir(paths.primingClaimsDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  let removed = 0;
  for (const name of names) {
    const parsed = parseClaimFileName(name);
    // The slot start is in the name, so even an unreadable claim can be pruned.
    if (parsed && parsed.slot * 1000 < olderThan) {
      await rm(join(paths.primingClaimsDir, name), { force: true });
      removed += 1;
    }
  }
  return removed;
}

/** Splits a claim file name back into its key, or undefined for a foreign file. */
export function parseClaimFileName(
  name: string,
): { profile: string; window: PrimingWindow; slot: number } | undefined {
  const match = /^(.+)--(weekly|five_hour)--(\d+)\.json$/.exec(name);
  if (!match) return undefined;
  return { profile: match[1]!, window: match[2] as PrimingWindow, slot: Number(match[3]) };
}
