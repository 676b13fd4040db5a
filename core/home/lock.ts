/**
 * Cross-process locks (the tray app and the CLI run side by side), built on `proper-lockfile`:
 * a `<target>.lock` folder created atomically, refreshed while held, and taken over when stale.
 */
import { join } from 'node:path';
import { LabError } from '../errors.ts';
import { ensurePrivateDirectory } from './files.ts';

/** How long to wait for a lock, and when a holder that stopped updating is presumed dead. */
export interface LockOptions {
  /** Give up after roughly this long (milliseconds). Default 15 s. */
  waitMs?: number;
  /** A lock not refreshed for this long is stale and may be taken over. Default 10 s. */
  staleMs?: number;
}

/**
 * Runs `operation` while holding the named lock in `locksDir`. Names are internal keys such as
 * `registry` or `refresh-<profile>`.
 */
export async function withLock<T>(
  locksDir: string,
  name: string,
  operation: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  await ensurePrivateDirectory(locksDir);
  const target = join(locksDir, name);
  const waitMs = options.waitMs ?? 15_000;
  const staleMs = options.staleMs ?? 10_000;
  const retries = Math.max(1, Math.ceil(waitMs / 50));
  let release: () => Promise<void>;
  try {
    // Loaded on first use (it patches `fs` through graceful-fs): read-only commands skip it.
    const { default: lockfile } = await import('proper-lockfile');
    release = await lockfile.lock(target, {
      realpath: false,
      stale: staleMs,
      update: Math.max(1000, Math.floor(staleMs / 2)),
      retries: { retries, minTimeout: 20, maxTimeout: 100, factor: 1.2 },
    });
  } catch (error) {
    throw new LabError(
      'lock_timeout',
      `Another Codex Lab process is holding the ${name} lock in ${locksDir}; try again in a moment.`,
      { cause: error },
    );
  }
  try {
    return await operation();
  } finally {
    await release().catch(() => undefined);
  }
}
