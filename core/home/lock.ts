/**
 * Cross-process locks (the tray app and the CLI run side by side), built on `proper-lockfile`:
 * a `<target>.lock` folder created atomically and refreshed while held. Who may take a lock over
 * is decided here, not by the library's stale rule (docs/storage.md, "Locks"):
 * - each holder records its pid and host in `<target>.owner`. A holder still running on this
 *   machine keeps its lock however long it is paused: it may have spent a refresh token whose
 *   successor is not on disk yet.
 * - a lock whose recorded holder is no longer running is cleared at once, by one process: the one
 *   whose rename claims the record; it removes the lock folder only if it is still the one seen.
 * - a lock with no record, or another machine's, is abandoned when not refreshed for `staleMs`.
 * - a foreign file named like a lock (not a folder, or dated in the future) would block every
 *   command forever: it is removed with a warning.
 * - a lease lost anyway is marked `compromised` instead of the library's `ECOMPROMISED` thrown
 *   from a timer; callers that write check what is on disk before writing.
 */
import { hostname, uptime } from 'node:os';
import { chmod, link, lstat, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from '../errors.ts';
import { ensurePrivateDirectory, folderMode, notAFolderError, readTextFile } from './files.ts';

/** How long to wait for a lock, and when a holder that stopped updating is presumed dead. */
export interface LockOptions {
  /** Give up after roughly this long (milliseconds). Default 15 s. */
  waitMs?: number;
  /** A lock not refreshed for this long is stale and may be taken over. Default 10 s. */
  staleMs?: number;
  /** Told about foreign lock files removed and leases lost; default: nothing. */
  warn?: (message: string) => void;
}

/** The holder's view of a lock while it runs. */
export interface LockLease {
  /**
   * True once another process may have taken the lock over (this process was paused past the
   * stale time). A writer must then re-check what is on disk before writing.
   */
  readonly compromised: boolean;
}

/** What `<target>.owner` records about the holder. */
interface OwnerRecord {
  pid: number;
  host: string;
  /**
   * Which run of the process: when this machine booted (Unix s, from its uptime) and an id per
   * process. A pid is handed out again after a reboot, or to a restarted container's process: a
   * record of another boot, or of this pid with another id, is a dead holder's.
   */
  boot?: number;
  run?: string;
}

const thisHost = hostname();
/** This machine's boot time (Unix s): the same in every process of one boot, within a second. */
const thisBoot = Math.round(Date.now() / 1000 - uptime());
/** This process's run id, in its owner records. */
// (Not node:crypto: every command that reads profiles loads this module, and the CLI keeps its
// start free of heavy built-ins; a start time and a random number tell runs of one pid apart.)
const thisRun = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
/** Tells this process's claim and move-aside names apart. */
let nameCount = 0;
/** How far two readings of the boot time may differ (clock adjustments, rounding). */
const bootSlackSeconds = 60;
/** A stale time the library never reaches (a day): `clearAbandoned` takes over instead. */
const neverStaleMs = 24 * 60 * 60 * 1000;

/**
 * The pid of the process on this machine holding the named lock, or null when none is recorded
 * (or the holder is on another machine).
 */
export async function lockHolder(locksDir: string, name: string): Promise<number | null> {
  const owner = await readOwner(join(locksDir, `${name}.owner`));
  return owner !== null && owner.host === thisHost ? owner.pid : null;
}

/**
 * Runs `operation` while holding the named lock in `locksDir`. Names are internal keys such as
 * `registry` or `refresh-<profile>`.
 */
export async function withLock<T>(
  locksDir: string,
  name: string,
  operation: (lease: LockLease) => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  await ensurePrivateDirectory(locksDir);
  const target = join(locksDir, name);
  const lockPath = `${target}.lock`;
  const ownerPath = `${target}.owner`;
  const waitMs = options.waitMs ?? 15_000;
  const staleMs = options.staleMs ?? 10_000;
  const warn = options.warn ?? (() => undefined);
  const lease = { compromised: false };
  // Loaded on first use (it patches `fs` through graceful-fs): read-only commands skip it.
  const { default: lockfile } = await import('proper-lockfile');
  const deadline = Date.now() + waitMs;
  let release: (() => Promise<void>) | null = null;
  let lastError: unknown = null;
  for (let attempt = 0; release === null; attempt += 1) {
    await clearAbandoned(lockPath, ownerPath, staleMs, warn);
    try {
      release = await lockfile.lock(target, {
        realpath: false,
        // The library's own takeover of a lock not refreshed for `stale` is never reached: it
        // would take a paused holder's lock (one that may have spent a refresh token whose
        // successor is not on disk yet). `clearAbandoned` decides instead, holder by holder.
        stale: neverStaleMs,
        update: Math.max(1000, Math.floor(staleMs / 2)),
        retries: 0,
        onCompromised: (error: Error) => {
          // Never throw from the library's timer: the operation notices and re-checks the disk.
          lease.compromised = true;
          warn(`lost the ${name} lock while holding it (${error.message})`);
        },
      });
    } catch (error) {
      lastError = error;
      // ENOENT: the lock was cleared under the library while it checked it; try again.
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== 'ELOCKED' && code !== 'ENOENT') || Date.now() >= deadline) break;
      await delay(Math.min(100, 20 + attempt * 5));
    }
  }
  if (release !== null) {
    // The library makes the lock folder with the process's umask (0755 as a rule): the home's
    // folders are 0700, and a lock held for a router's life should be too.
    await chmod(lockPath, folderMode).catch(() => undefined);
  }
  if (release === null) {
    const code = (lastError as NodeJS.ErrnoException | null)?.code;
    // The same failure, and the same sentence, as when the home's folders are made.
    if (code === 'ENOTDIR' || code === 'EEXIST') throw notAFolderError(lockPath, lastError);
    if (code !== undefined && code !== 'ELOCKED' && code !== 'ENOENT') {
      // The lock could not be made at all (a read-only or foreign-owned home): waiting for
      // "another process" would never help, so say what is wrong and where.
      throw new LabError(
        'io_error',
        `Codex Lab cannot make its ${name} lock in ${locksDir} (${code}): the home must be a folder you can write in; fix its permissions or set CODEX_LAB_HOME to one.`,
        { cause: lastError },
      );
    }
    // A holder that is still running keeps its lock however long it is stopped: name it, so a
    // process left stopped (Ctrl-Z) can be found and resumed or ended.
    const holder = await readOwner(ownerPath);
    const who =
      holder !== null && holder.host === thisHost
        ? `Codex Lab process ${holder.pid}`
        : 'Another Codex Lab process';
    throw new LabError(
      'lock_timeout',
      `${who} is holding the ${name} lock in ${locksDir}; try again in a moment, or if that process is stopped (Ctrl-Z), resume or end it.`,
      { cause: lastError },
    );
  }
  const record: OwnerRecord = { pid: process.pid, host: thisHost, boot: thisBoot, run: thisRun };
  // Whatever stands at the record's path is a dead holder's (this process holds the lock now);
  // removed first, since writing into a pipe left there would wait for a reader forever.
  await rm(ownerPath, { force: true, recursive: true }).catch(() => undefined);
  await writeFile(ownerPath, JSON.stringify(record), { mode: 0o600, flag: 'wx' }).catch(
    () => undefined,
  );
  try {
    return await operation(lease);
  } finally {
    // The owner record goes first: a lock without one is waited out, never cleared early.
    if (!lease.compromised) await rm(ownerPath, { force: true }).catch(() => undefined);
    await release().catch(() => undefined);
  }
}

/**
 * Clears a lock left by a process that is gone, and anything at the lock's path that no holder
 * could have made (a plain file, or a folder dated in the future that would never go stale).
 */
async function clearAbandoned(
  lockPath: string,
  ownerPath: string,
  staleMs: number,
  warn: (message: string) => void,
): Promise<void> {
  let info;
  try {
    info = await lstat(lockPath);
  } catch {
    return;
  }
  if (!info.isDirectory()) {
    warn(`removed ${lockPath}: it is not a lock Codex Lab made`);
    await rm(lockPath, { force: true }).catch(() => undefined);
    return;
  }
  if (info.mtimeMs > Date.now() + staleMs) {
    // A lock dated in the future would never go stale: date it back so the stale rule applies.
    warn(`${lockPath} is dated in the future; treating it as stale`);
    const past = new Date(Date.now() - 2 * staleMs);
    await utimes(lockPath, past, past).catch(() => undefined);
    return;
  }
  const owner = await readOwner(ownerPath);
  if (owner !== null && owner.host === thisHost) {
    // A live holder keeps its lock however long it is paused (Ctrl-Z, a debugger): it may have
    // spent a refresh token whose successor is not on disk yet, and a process that took its lock
    // over would read the spent one and spend it again (the issuer then revokes the family).
    if (isRunning(owner)) return;
    // A dead holder's lock. One process claims its record, by a rename only one can make, and
    // only that one clears the lock: two processes clearing one lock could each remove the
    // other's fresh one, and both would then hold it.
    const claim = `${ownerPath}.claim-${thisRun}-${(nameCount += 1)}`;
    try {
      await rename(ownerPath, claim);
    } catch {
      return;
    }
    const claimed = await readOwner(claim);
    if (claimed === null || claimed.pid !== owner.pid || claimed.host !== owner.host) {
      // A new holder's record (it took the lock meanwhile): give it back, unless a newer one
      // stands there already (a link never overwrites; a rename would).
      await link(claim, ownerPath).catch(() => undefined);
      await rm(claim, { force: true }).catch(() => undefined);
      return;
    }
    await removeLockFolder(lockPath, info.ino);
    await rm(claim, { force: true }).catch(() => undefined);
    return;
  }
  // No record (a holder killed between making the lock and recording itself), or a holder on
  // another machine, whose life cannot be checked from here: abandoned once not refreshed for
  // `staleMs` (a running holder refreshes it every `staleMs / 2`).
  if (Date.now() - info.mtimeMs < staleMs) return;
  await removeLockFolder(lockPath, info.ino);
}

/**
 * Removes the lock folder at `lockPath` if it is still the one seen (inode `ino`): it is moved
 * aside first (one rename, which only one process can make), then checked. A fresh lock moved by
 * mistake (made after the one seen was cleared) is put back at once.
 */
async function removeLockFolder(lockPath: string, ino: number): Promise<void> {
  const aside = `${lockPath}.gone-${thisRun}-${(nameCount += 1)}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return;
  }
  const moved = await lstat(aside).catch(() => null);
  if (moved !== null && moved.ino !== ino) {
    await rename(aside, lockPath).catch(() => undefined);
    return;
  }
  await rm(aside, { recursive: true, force: true }).catch(() => undefined);
}

async function readOwner(path: string): Promise<OwnerRecord | null> {
  try {
    // Through the one read helper: a pipe named like a record is refused, never waited on.
    const text = await readTextFile(path);
    if (text === undefined) return null;
    const parsed = JSON.parse(text) as Partial<OwnerRecord>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return null;
    return {
      pid: parsed.pid,
      host: parsed.host,
      ...(typeof parsed.boot === 'number' ? { boot: parsed.boot } : {}),
      ...(typeof parsed.run === 'string' ? { run: parsed.run } : {}),
    };
  } catch {
    return null;
  }
}

/** True unless the process is certainly gone (`kill(pid, 0)` answers ESRCH). */
/** Whether the holder a record names (on this machine) is still running. */
function isRunning(owner: OwnerRecord): boolean {
  // A record from an earlier boot, or of this very pid in another run, names a process that is
  // gone, whatever process has its pid now.
  if (owner.boot !== undefined && Math.abs(owner.boot - thisBoot) > bootSlackSeconds) return false;
  if (owner.pid === process.pid) return owner.run === undefined || owner.run === thisRun;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
