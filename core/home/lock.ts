/**
 * Cross-process locks (the tray app and the CLI run side by side). A lock is the folder
 * `<target>.lock` holding one file, `owner-<token>`: the holder's record (pid, host, boot, run),
 * the token unique to that one taking of the lock. The rules (docs/storage.md, "Locks"):
 * - the folder is made aside with its record inside, then renamed into place: the lock and its
 *   record appear together (a rename never replaces a folder that has anything in it), so there
 *   is no moment at which a holder is running without a record.
 * - a holder still running on this machine keeps its lock however long it is paused: it may have
 *   spent a refresh token whose successor is not on disk yet.
 * - a lock whose recorded holder is no longer running is cleared at once, by one process: the one
 *   whose rename moves that holder's record (`owner-<token>`, a name no other lock has) out.
 * - a holder gives its lock back by removing its own record, by name, then the folder with
 *   `rmdir`, which removes only an empty folder: a holder never removes another's lock, however
 *   late it resumes, since every held lock has its record inside.
 * - a lock of a holder on another machine, or whose record cannot be read, is abandoned when its
 *   record has not been refreshed for `staleMs`; an empty folder holds nothing and goes at once.
 * - a foreign file named like a lock would block every command forever: it is removed with a
 *   warning.
 * - a lease lost anyway (another machine's process took it) is marked `compromised`; callers
 *   that write check what is on disk before writing.
 */
import { hostname, uptime } from 'node:os';
import {
  chmod,
  lstat,
  mkdir,
  readFile,
  readdir,
  rename,
  rm,
  rmdir,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LabError } from '../errors.ts';
import { defaultLockWaitMs } from './lock-waits.ts';
import {
  ensurePrivateDirectory,
  folderMode,
  heldOpenCodes,
  notAFolderError,
  readTextFile,
} from './files.ts';

/** How long to wait for a lock, and when a holder that stopped updating is presumed dead. */
export interface LockOptions {
  /** Give up after roughly this long (milliseconds). Default 15 s. */
  waitMs?: number;
  /**
   * A lock whose holder cannot be checked (another machine's) is stale once its record has not
   * been refreshed for this long. Default 10 s.
   */
  staleMs?: number;
  /** Told about foreign lock files removed and leases lost; default: nothing. */
  warn?: (message: string) => void;
  /**
   * Told once, when the lock has been held by another process for `waitNoticeMs` of this wait,
   * with that holder's pid (null when it is on another machine or unrecorded), so a long wait is
   * never silent; default: nothing.
   */
  waiting?: (holderPid: number | null) => void;
}

/**
 * How long a wait for a lock goes unsaid: a lock is normally held for milliseconds, and a holder
 * past this is a refresh in flight, or a process left stopped.
 */
export const waitNoticeMs = 1000;

/** The holder's view of a lock while it runs. */
export interface LockLease {
  /**
   * True once another process may have taken the lock over (a process on another machine found
   * it stale). A writer must then re-check what is on disk before writing.
   */
  readonly compromised: boolean;
}

/** What a lock's `owner-<token>` file records about the holder. */
interface OwnerRecord {
  pid: number;
  host: string;
  /**
   * Which run of the process: when this machine booted (Unix s, from its uptime) and an id per
   * process. A pid is handed out again after a reboot, or to a restarted container's process: a
   * record of another boot, or of this pid with another id, is a dead holder's.
   */
  boot?: number;
  /**
   * The kernel's id of this boot, where it gives one (Linux): exact, and blind to clock steps,
   * which move `boot` (it is worked out from the wall clock).
   */
  bootId?: string;
  run?: string;
}

/** What stands at a lock's path. */
type LockState =
  | { kind: 'free' }
  | { kind: 'foreign' }
  | { kind: 'empty' }
  | {
      kind: 'folder';
      entries: string[];
      record: string | null;
      owner: OwnerRecord | null;
      folderMtimeMs: number;
    };

const thisHost = hostname();
/** This machine's boot time (Unix s): the same in every process of one boot, within a second. */
const thisBoot = Math.round(Date.now() / 1000 - uptime());
/** This process's run id, in its owner records. */
// (Not node:crypto: every command that reads profiles loads this module, and the CLI keeps its
// start free of heavy built-ins; a start time and a random number tell runs of one pid apart.)
const thisRun = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
/** Tells this process's lock tokens and move-aside names apart. */
let nameCount = 0;
/**
 * Records this process gave back but could not delete (a file another program held open): they
 * name this very run, which is still running, so without this list the lock would stay taken
 * until the process ends.
 */
const givenBack = new Set<string>();
/** Where Linux keeps the id of the current boot. */
const bootIdPath = '/proc/sys/kernel/random/boot_id';
let thisBootId: Promise<string | null> | undefined;
/** The kernel's id of this boot, or null where there is none (read once, on first use). */
function bootIdentity(): Promise<string | null> {
  thisBootId ??= readFile(bootIdPath, 'utf8').then(
    (text) => text.trim() || null,
    () => null,
  );
  return thisBootId;
}
/** How far two readings of the boot time may differ (clock adjustments, rounding). */
const bootSlackSeconds = 60;
const recordPrefix = 'owner-';
/** How old a piece left beside a lock by a killed process must be to be swept away. */
const debrisAgeMs = 60 * 60 * 1000;
/**
 * Why a rename into place fails when something already stands there (per platform), or, on
 * Windows, another program holds it open for a moment (`heldOpenCodes`).
 */
const takenCodes = new Set(['ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EISDIR', ...heldOpenCodes]);

/**
 * The pid of the process on this machine holding the named lock, or null when none is recorded
 * (or the holder is on another machine).
 */
export async function lockHolder(locksDir: string, name: string): Promise<number | null> {
  const state = await inspect(`${join(locksDir, name)}.lock`);
  return state.kind === 'folder' && state.owner !== null && state.owner.host === thisHost
    ? state.owner.pid
    : null;
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
  const lockPath = `${join(locksDir, name)}.lock`;
  const waitMs = options.waitMs ?? defaultLockWaitMs;
  const staleMs = options.staleMs ?? 10_000;
  const warn = options.warn ?? (() => undefined);
  const token = `${thisRun}-${(nameCount += 1)}`;
  const staging = `${lockPath}.new-${token}`;
  const recordName = `${recordPrefix}${token}`;
  const bootId = await bootIdentity();
  const record: OwnerRecord = {
    pid: process.pid,
    host: thisHost,
    boot: thisBoot,
    ...(bootId === null ? {} : { bootId }),
    run: thisRun,
  };
  const legacyRecord = `${join(locksDir, name)}.owner`;
  try {
    await mkdir(staging, { mode: folderMode });
    await chmod(staging, folderMode).catch(() => undefined);
    await writeFile(join(staging, recordName), JSON.stringify(record), {
      mode: 0o600,
      flag: 'wx',
    });
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw cannotMake(locksDir, lockPath, name, error);
  }
  const deadline = Date.now() + waitMs;
  let held = false;
  // Clearing a dead holder's lock and trying again right away is allowed a few times past the
  // deadline: a caller that does not wait at all (`waitMs: 0`, the router's run lock) still
  // takes the lock a killed process left.
  let clearsPastDeadline = 0;
  const noticeAt = Date.now() + waitNoticeMs;
  let noticed = options.waiting === undefined;
  for (let attempt = 0; !held; attempt += 1) {
    // An earlier version's holder (its lock an empty folder, its record beside it) still running:
    // an empty folder would be replaced by the rename below.
    if (!(await legacyHolderRunning(legacyRecord))) {
      try {
        // The lock and its record appear in one step: a rename never replaces a folder that has
        // anything in it (an empty one holds nothing and may be replaced).
        await rename(staging, lockPath);
        held = true;
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (!takenCodes.has(code)) {
          await rm(staging, { recursive: true, force: true }).catch(() => undefined);
          throw cannotMake(locksDir, lockPath, name, error);
        }
      }
    }
    const late = Date.now() >= deadline;
    if (late && clearsPastDeadline >= 3) break;
    if (await clearAbandoned(lockPath, staleMs, warn)) {
      if (late) clearsPastDeadline += 1;
      continue;
    }
    if (late) break;
    if (!noticed && Date.now() >= noticeAt) {
      noticed = true;
      options.waiting?.(await lockHolder(locksDir, name));
    }
    await delay(Math.min(100, 20 + attempt * 5));
  }
  if (!held) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    // A holder that is still running keeps its lock however long it is stopped: name it, so a
    // process left stopped (Ctrl-Z) can be found and resumed or ended.
    const pid = await lockHolder(locksDir, name);
    const who = pid !== null ? `Codex Lab process ${pid}` : 'Another Codex Lab process';
    throw new LabError(
      'lock_timeout',
      `${who} is holding the ${name} lock in ${locksDir}; try again in a moment, or if that process is stopped (Ctrl-Z), resume or end it.`,
    );
  }
  const recordPath = join(lockPath, recordName);
  const lease = { compromised: false };
  const refresher = keepFresh(lockPath, recordPath, Math.max(1000, Math.floor(staleMs / 2)), () => {
    lease.compromised = true;
    warn(`lost the ${name} lock while holding it (another process took it over)`);
  });
  try {
    return await operation(lease);
  } finally {
    refresher.stop();
    await giveBack(lockPath, recordPath);
  }
}

/** The error for a lock that cannot be made at all (not a folder, no permission). */
function cannotMake(locksDir: string, lockPath: string, name: string, error: unknown): LabError {
  const code = (error as NodeJS.ErrnoException).code;
  // The same failure, and the same sentence, as when the home's folders are made.
  if (code === 'ENOTDIR' || code === 'EEXIST') return notAFolderError(lockPath, error);
  // A read-only or foreign-owned home: waiting for "another process" would never help.
  return new LabError(
    'io_error',
    `Codex Lab cannot make its ${name} lock in ${locksDir} (${code ?? 'unknown error'}): the home must be a folder you can write in; fix its permissions or set CODEX_LAB_HOME to one.`,
    { cause: error },
  );
}

/**
 * Touches the holder's record every `everyMs`, so a process on another machine (which cannot
 * check this one's pid) sees the holder is alive; tells `lost` if the record is gone. The folder
 * is touched too: an earlier version judges a lock without its kind of record by the folder's
 * date, and would otherwise take a live holder's lock after `staleMs`.
 */
function keepFresh(
  lockPath: string,
  recordPath: string,
  everyMs: number,
  lost: () => void,
): { stop(): void } {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const schedule = (): void => {
    timer = setTimeout(() => {
      const now = new Date();
      utimes(recordPath, now, now).then(
        () => {
          if (stopped) return;
          void utimes(lockPath, now, now).catch(() => undefined);
          schedule();
        },
        (error: unknown) => {
          if (stopped) return;
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') lost();
          else schedule();
        },
      );
    }, everyMs);
    // A held lock never keeps the process alive by itself.
    timer.unref();
  };
  schedule();
  return {
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
    },
  };
}

/**
 * Gives the lock back: this holder's own record goes first, by its unique name (if it is gone,
 * the lock was taken over and the folder there now is another holder's: left alone). The folder
 * is then removed by `rmdir`, which removes only an empty folder: even resumed long after, this
 * can never remove a newer holder's lock, which always has its record inside.
 */
async function giveBack(lockPath: string, recordPath: string): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await unlink(recordPath);
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (code === 'ENOENT') return;
      // Another program holding the file open (a virus scanner, an indexer: `heldOpenCodes` on
      // Windows) lets go in a moment; if it does not, or the failure is another, the record is
      // listed as given back, and this process clears it like a dead holder's when it next wants
      // the lock.
      if (attempt >= 10 || !heldOpenCodes.has(code)) {
        givenBack.add(basename(recordPath));
        return;
      }
      await delay(50);
    }
  }
  await rmdir(lockPath).catch(() => undefined);
}

/**
 * Whether an earlier version's holder of this lock (its record `<name>.owner` beside the lock
 * folder) is running on this machine. A dead one's record is removed.
 */
async function legacyHolderRunning(recordPath: string): Promise<boolean> {
  const owner = await readOwner(recordPath);
  if (owner === null || owner.host !== thisHost) return false;
  if ((await liveness(owner)) === 'running') return true;
  await rm(recordPath, { force: true }).catch(() => undefined);
  return false;
}

/** Reads what stands at `lockPath`. */
async function inspect(lockPath: string): Promise<LockState> {
  let info;
  try {
    info = await lstat(lockPath);
  } catch {
    return { kind: 'free' };
  }
  if (!info.isDirectory()) return { kind: 'foreign' };
  let entries: string[];
  try {
    entries = await readdir(lockPath);
  } catch {
    return { kind: 'free' };
  }
  if (entries.length === 0) return { kind: 'empty' };
  const records = entries.filter((entry) => entry.startsWith(recordPrefix));
  const record = records.length === 1 ? records[0]! : null;
  const owner = record === null ? null : await readOwner(join(lockPath, record));
  return { kind: 'folder', entries, record, owner, folderMtimeMs: info.mtimeMs };
}

/**
 * Clears a lock left by a process that is gone, and anything at the lock's path that no holder
 * could have made. True when something was cleared (worth trying again at once).
 */
async function clearAbandoned(
  lockPath: string,
  staleMs: number,
  warn: (message: string) => void,
): Promise<boolean> {
  const state = await inspect(lockPath);
  switch (state.kind) {
    case 'free':
      return false;
    case 'foreign':
      warn(`removed ${lockPath}: it is not a lock Codex Lab made`);
      // `unlink` never removes a folder: a lock made meanwhile stays.
      await unlink(lockPath).catch(() => undefined);
      return true;
    case 'empty':
      // Nobody holds an empty folder: its holder gave it back, or a dead holder's record was
      // claimed and the folder is about to go. `rmdir` leaves any folder with a record inside.
      await rmdir(lockPath).catch(() => undefined);
      return true;
    case 'folder':
      break;
  }
  const { entries, record, owner } = state;
  if (record !== null && givenBack.has(record)) return clearFolder(lockPath, record, entries);
  const alive =
    record !== null && owner !== null && owner.host === thisHost ? await liveness(owner) : null;
  if (alive === 'running') {
    // A live holder keeps its lock however long it is paused (Ctrl-Z, a debugger): it may have
    // spent a refresh token whose successor is not on disk yet, and a process that took its lock
    // over would read the spent one and spend it again (the issuer then revokes the family).
    return false;
  }
  if (alive === 'gone') return clearFolder(lockPath, record!, entries);
  // A holder on another machine, whose life cannot be checked from here, one of this machine
  // whose boot cannot be told from its record, or a record that cannot be read: abandoned once
  // not refreshed for `staleMs` (a running holder touches its record every `staleMs / 2`).
  // Something dated in the future would never go stale: it is stale now.
  const dated =
    record === null
      ? state.folderMtimeMs
      : ((await lstat(join(lockPath, record)).catch(() => null))?.mtimeMs ?? null);
  if (dated === null) return true;
  const now = Date.now();
  if (dated <= now + staleMs && now - dated < staleMs) return false;
  if (dated > now + staleMs) warn(`${lockPath} was dated in the future; treated it as stale`);
  else if (record === null || owner === null) {
    warn(
      `removed ${lockPath}: it is not a lock Codex Lab made, or its holder's record is unreadable`,
    );
  }
  return clearFolder(lockPath, record ?? entries[0]!, entries);
}

/**
 * Removes the lock folder at `lockPath` holding `first` (a holder's record), and only that one:
 * `first` is moved out by name (one rename, which only one process can make, and no other lock
 * holds a file of that name); the folder's other entries follow, then `rmdir` removes the folder
 * only if it is empty, so a lock made meanwhile (its record inside) is never removed.
 */
async function clearFolder(lockPath: string, first: string, entries: string[]): Promise<boolean> {
  const aside = (): string => `${lockPath}.gone-${thisRun}-${(nameCount += 1)}`;
  const moved: string[] = [];
  const claim = aside();
  try {
    await rename(join(lockPath, first), claim);
  } catch {
    // Another process claimed it first, or the holder gave its lock back.
    return true;
  }
  moved.push(claim);
  // Names seen in the cleared folder: a lock made since holds only its own fresh record.
  for (const entry of entries) {
    if (entry === first) continue;
    const to = aside();
    if (
      await rename(join(lockPath, entry), to).then(
        () => true,
        () => false,
      )
    )
      moved.push(to);
  }
  await rmdir(lockPath).catch(() => undefined);
  for (const path of moved) await rm(path, { recursive: true, force: true }).catch(() => undefined);
  await sweepDebris(lockPath);
  return true;
}

/**
 * Removes what killed processes left beside the lock (a folder being made, or one being cleared,
 * when the kill came): only pieces an hour old, far past any wait for a lock.
 */
async function sweepDebris(lockPath: string): Promise<void> {
  const folder = dirname(lockPath);
  const prefixes = [`${basename(lockPath)}.new-`, `${basename(lockPath)}.gone-`];
  const entries = await readdir(folder).catch(() => [] as string[]);
  for (const entry of entries) {
    if (!prefixes.some((prefix) => entry.startsWith(prefix))) continue;
    const info = await lstat(join(folder, entry)).catch(() => null);
    if (info === null || Date.now() - info.mtimeMs < debrisAgeMs) continue;
    await rm(join(folder, entry), { recursive: true, force: true }).catch(() => undefined);
  }
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
      ...(typeof parsed.bootId === 'string' ? { bootId: parsed.bootId } : {}),
      ...(typeof parsed.run === 'string' ? { run: parsed.run } : {}),
    };
  } catch {
    return null;
  }
}

/**
 * Whether the holder a record names (on this machine) is still running: `unsure` when its pid
 * runs but the record may be of an earlier boot (its pid handed out again) and only the dates
 * can tell, since the boot time read from the wall clock moves when the clock is stepped.
 */
async function liveness(owner: OwnerRecord): Promise<'running' | 'gone' | 'unsure'> {
  // A record from an earlier boot, or of this very pid in another run, names a process that is
  // gone, whatever process has its pid now.
  const bootId = await bootIdentity();
  if (owner.bootId !== undefined && bootId !== null && owner.bootId !== bootId) return 'gone';
  if (owner.pid === process.pid) {
    return owner.run === undefined || owner.run === thisRun ? 'running' : 'gone';
  }
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: running, as another user.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
  }
  const sameBoot =
    owner.bootId !== undefined && bootId !== null
      ? true
      : owner.boot === undefined || Math.abs(owner.boot - thisBoot) <= bootSlackSeconds;
  return sameBoot ? 'running' : 'unsure';
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
