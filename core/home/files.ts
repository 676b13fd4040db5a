/**
 * Atomic, private file writes and validated reads.
 *
 * Every write goes through `write-file-atomic` (temp file, fsync, rename) with mode 0600, and every
 * folder we create is 0700. A file that exists but does not parse is reported by name and never
 * overwritten.
 */
import { constants, type Stats } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  rm,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { z } from 'zod';
import { isLabError, LabError } from '../errors.ts';
import type { Clock, Logger } from '../ports.ts';
import { fileWriteRetryMs, tokenWriteRetryMs } from './lock-waits.ts';

/** Private file mode: owner read/write only. */
export const fileMode = 0o600;
/** Private folder mode: owner only. */
export const folderMode = 0o700;

/** The error for a file standing where a folder of the home must be (`path` or one above it). */
export function notAFolderError(path: string, cause?: unknown): LabError {
  return new LabError(
    'corrupt_file',
    `${path} (or a folder above it) is a file, not a folder. Move that file away and try again.`,
    { details: { path }, ...(cause === undefined ? {} : { cause }) },
  );
}

/** Creates `path` (and parents) as private folders; tightens an existing folder we own to 0700. */
export async function ensurePrivateDirectory(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode: folderMode });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw notAFolderError(path);
    // A recursive mkdir reports ENOENT when a missing parent cannot be made (a read-only
    // filesystem, EROFS): the first missing folder, made alone, gives the real reason.
    const cause = code === 'ENOENT' ? ((await firstFolderRefusal(path)) ?? error) : error;
    throw new LabError(
      'io_error',
      `Could not create the folder ${path} (${systemErrorReason(cause)}); check its permissions.`,
      { cause, details: { path } },
    );
  }
  await chmod(path, folderMode).catch(() => undefined);
}

/** Why the first missing folder on the way to `path` cannot be made, or undefined when it can. */
async function firstFolderRefusal(path: string): Promise<unknown> {
  let missing = path;
  for (;;) {
    const parent = dirname(missing);
    if (parent === missing) return undefined;
    const there = await lstat(parent).then(
      () => true,
      () => false,
    );
    if (there) break;
    missing = parent;
  }
  try {
    await mkdir(missing, { mode: folderMode });
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Writes `data` atomically with mode 0600, creating the parent folder (0700) if needed. */
export async function writePrivateFile(
  path: string,
  data: string | Uint8Array,
  options: Omit<AtomicWriteOptions, 'mode'> = {},
): Promise<void> {
  await ensurePrivateDirectory(dirname(path));
  await writeFileAtomically(path, data, { ...options, mode: fileMode });
}

/**
 * Why Windows refuses to rename over, or remove, a file another program holds open without
 * sharing its deletion (a virus scan, a search indexer, a backup, an editor, Codex reading
 * auth.json): it passes once that program lets go. The one list for it (`core/home/lock.ts` too).
 */
export const heldOpenCodes: ReadonlySet<string> = new Set(['EPERM', 'EACCES', 'EBUSY']);

/**
 * Whether `error` is such a refusal: only on Windows, since elsewhere these codes are real
 * refusals (no permission) that waiting never changes.
 */
export function heldOpenOnWindows(error: unknown, platform: NodeJS.Platform): boolean {
  return platform === 'win32' && heldOpenCodes.has((error as NodeJS.ErrnoException).code ?? '');
}

/** The effects of an atomic write; tests replace them (a fake clock, another platform). */
export interface AtomicWriteEffects {
  platform: NodeJS.Platform;
  /** Times the waits between tries. */
  clock: Clock;
  /** Told once per write that has to wait for another program. */
  warn: (message: string) => void;
}

/** How an atomic write is made. */
export interface AtomicWriteOptions {
  /** The file's mode; without it, the existing file's mode and owner are kept. */
  mode?: number;
  /** The data holds tokens: retried for `tokenWriteRetryMs`, not `fileWriteRetryMs`. */
  holdsTokens?: boolean;
  /** The lock the write is made under: once another process took it, no further try is made. */
  lease?: { readonly compromised: boolean };
  /** Replaced in tests; by default the real platform and clock, warnings to `fileWarnings`. */
  effects?: Partial<AtomicWriteEffects>;
}

/** Where warnings of writes go when the caller names no place (`reportFileWarningsTo`). */
let fileWarnings: (message: string) => void = () => undefined;

/** Sends the warnings of every write made without its own `warn` to `logger` (set once per process). */
export function reportFileWarningsTo(logger: Logger): void {
  fileWarnings = (message) => logger.warn({}, message);
}

/** The first wait before a rename is tried again; each next one is twice as long, up to `longestRetryWaitMs`. */
const firstRetryWaitMs = 25;
const longestRetryWaitMs = 1_000;

/**
 * Writes `data` to `path` atomically (a temp file beside it, flushed, renamed over it) with
 * `options.mode`, or, with no mode, the existing file's mode and owner. The folder must exist;
 * nothing else about it changes (a file of another program's, such as Codex's config.toml, is
 * written this way).
 *
 * On Windows, a rename refused while another program holds the file open (`heldOpenOnWindows`)
 * is tried again after growing waits, for `fileWriteRetryMs` in all (`tokenWriteRetryMs` for
 * tokens), with one warning naming the file. write-file-atomic has no hook around its rename, so
 * the whole write is made again: each try writes a new temp file, and the one whose rename
 * failed is removed (by the library, else here). Giving up leaves the old file as it was.
 */
export async function writeFileAtomically(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const { platform, clock, warn } = {
    platform: process.platform,
    clock: writeClock,
    warn: fileWarnings,
    ...options.effects,
  };
  const patienceMs = options.holdsTokens === true ? tokenWriteRetryMs : fileWriteRetryMs;
  const started = clock.now();
  // Loaded on first write: read-only commands such as `list` never pay for it.
  const { default: writeFileAtomic } = await import('write-file-atomic');
  const content = typeof data === 'string' ? data : Buffer.from(data);
  for (let attempt = 0; ; attempt += 1) {
    // The lock taken over while this write waited: a newer holder's tokens may be there now.
    if (attempt > 0 && options.lease?.compromised === true) {
      throw new LabError(
        'io_error',
        `Could not replace ${path}: another program kept it open until this process lost its lock on it, so nothing was written.`,
        { details: { path } },
      );
    }
    let temp: string | undefined;
    try {
      await writeFileAtomic(path, content, {
        fsync: true,
        ...(options.mode === undefined ? {} : { mode: options.mode }),
        tmpfileCreated: (name: string) => {
          temp = name;
        },
      });
      return;
    } catch (error) {
      // The library removes its temp file on failure, but that removal is refused too while a
      // scanner holds the new file: a temp file left in a profile's folder would be taken for a
      // killed refresh's tokens by a later run.
      if (temp !== undefined) await removeHeldOpen(temp, platform, clock);
      const renameRefused =
        (error as NodeJS.ErrnoException).syscall === 'rename' && heldOpenOnWindows(error, platform);
      if (!renameRefused) throw writeError(path, error);
      const wait = Math.min(firstRetryWaitMs * 2 ** attempt, longestRetryWaitMs);
      const waited = clock.now() - started;
      if (waited + wait > patienceMs) {
        throw new LabError(
          'io_error',
          `Could not replace ${path}: another program kept it open for ${Math.round(waited / 1000)} s (a virus scan, a backup, a search indexer or an editor); close it or wait for it to finish, then try again.`,
          { cause: error, details: { path } },
        );
      }
      if (attempt === 0) {
        warn(
          `${path} is held open by another program (a virus scan, a backup, a search indexer or an editor); trying again for up to ${patienceMs / 1000} s`,
        );
      }
      await sleep(clock, wait);
    }
  }
}

/** The error for a write that failed for any other reason. */
function writeError(path: string, error: unknown): LabError {
  return new LabError(
    'io_error',
    `Could not write ${path} (${systemErrorReason(error)}); check that its folder is writable and the disk has space.`,
    { cause: error, details: { path } },
  );
}

/**
 * The real clock of a write's waits. Its timers keep the process alive, unlike `systemClock`'s: a
 * command awaiting a write held up by another program would otherwise end in the middle of a
 * wait, and the write (a refresh's new tokens) would never be made.
 */
const writeClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    return () => clearTimeout(timer);
  },
};

/** Waits `ms` on `clock`. */
function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/**
 * Removes `path` (a failed write's temp file) if it is still there, trying again for a moment
 * while another program holds it open on Windows. Best effort.
 */
async function removeHeldOpen(
  path: string,
  platform: NodeJS.Platform,
  clock: Clock,
): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await unlink(path);
      return;
    } catch (error) {
      if (!heldOpenOnWindows(error, platform) || attempt >= 5) return;
      await sleep(clock, firstRetryWaitMs * 2 ** attempt);
    }
  }
}

/**
 * How a write-file-atomic temp file of ours is named: the file's name (a `.json` file, or the
 * router token), a dot, a 32-bit number. Other files beside them (logs) are never matched.
 */
const atomicTempName = /^(?:.+\.json|router-token)\.\d+$/;

/**
 * Removes the temp files atomic writes left in `dir` (a process killed between writing one and
 * renaming it over `name.json`) once they are older than `olderThanMs`: the write they belonged to
 * never happened (the rename is its commit). Younger ones may be a write still in flight in
 * another process. `of` limits it to one file's leftovers (the registry's, in the home, where the
 * legacy auth.json's may hold the only live refresh token). Best effort: returns the names
 * removed. Never used in a profile's folder or the journal, where such a file may hold the only
 * live refresh token (a refresh's answer, a `recovered` record).
 */
export async function removeStaleTempFiles(
  dir: string,
  now: number,
  olderThanMs: number,
  of?: string,
): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!atomicTempName.test(name)) continue;
    if (
      of !== undefined &&
      !(name.startsWith(`${of}.`) && /^\d+$/.test(name.slice(of.length + 1)))
    ) {
      continue;
    }
    const path = join(dir, name);
    try {
      const info = await lstat(path);
      if (!info.isFile() || now - info.mtimeMs < olderThanMs) continue;
      await rm(path, { force: true });
      removed.push(name);
    } catch {
      // Gone already, or not ours to remove: nothing to do.
    }
  }
  return removed;
}

/** Serializes `value` as pretty JSON (as Codex writes auth.json) and writes it atomically, 0600. */
export async function writeJsonFile(
  path: string,
  value: unknown,
  options: Omit<AtomicWriteOptions, 'mode'> = {},
): Promise<void> {
  await writePrivateFile(path, `${JSON.stringify(value, null, 2)}\n`, options);
}

/** The error for a folder standing where a file of the home must be. */
export function notAFileError(path: string): LabError {
  return new LabError(
    'corrupt_file',
    `${path} is a folder, not a file. Move it away and try again.`,
    {
      details: { path },
    },
  );
}

/** The error for a pipe, socket or device standing where a file of the home must be. */
function notARegularFileError(path: string): LabError {
  return new LabError(
    'corrupt_file',
    `${path} is not a regular file (a pipe, a socket or a device). Move it away and try again.`,
    { details: { path } },
  );
}

/**
 * What went wrong in a failed file system call, without the paths Node's message repeats
 * (`EACCES: permission denied, open '/x'` is "permission denied"): the sentence that says it
 * names the file itself, once. Any other message is kept as it is.
 */
export function systemErrorReason(error: unknown): string {
  const message = (error as Error).message;
  const parts = /^[A-Z][A-Z0-9_]*: (.+?), [a-z]+ '.*'$/s.exec(message);
  return parts?.[1] ?? message;
}

/** The error for a file that is there but could not be read: the file named once. */
export function readError(path: string, error: unknown): LabError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOTDIR') {
    return new LabError(
      'corrupt_file',
      `A folder above ${path} is a file, not a folder. Move that file away and try again.`,
      { details: { path } },
    );
  }
  if (code === 'EISDIR') return notAFileError(path);
  return new LabError(
    'io_error',
    `Could not read ${path} (${systemErrorReason(error)}); check its permissions.`,
    { cause: error, details: { path } },
  );
}

/** Throws the one sentence for `stats` when they are not a regular file's. */
function assertRegularFile(path: string, stats: Stats): void {
  if (stats.isDirectory()) throw notAFileError(path);
  if (!stats.isFile()) throw notARegularFileError(path);
}

/**
 * Reads a text file, or returns undefined when it does not exist. Anything but a regular file is
 * refused by name before it is opened: opening a FIFO waits for a writer forever, and no signal
 * ends a process blocked there. The open is non-blocking and checked again, so a pipe swapped in
 * between the two cannot hang it either. A link to a missing file is not a missing file: it is
 * reported by name (`corrupt_file`), since a caller that took it for missing would start afresh
 * (an empty registry) and write over the link.
 */
export async function readTextFile(path: string): Promise<string | undefined> {
  try {
    assertRegularFile(path, await stat(path));
  } catch (error) {
    if (isLabError(error)) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return missingOrDangling(path);
    throw readError(path, error);
  }
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return missingOrDangling(path);
    throw readError(path, error);
  }
  try {
    assertRegularFile(path, await handle.stat());
    return await handle.readFile('utf8');
  } catch (error) {
    if (isLabError(error)) throw error;
    throw readError(path, error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Undefined for a file that is not there; the `corrupt_file` error for a link to a missing one. */
async function missingOrDangling(path: string): Promise<undefined> {
  const target = await danglingLinkTarget(path);
  if (target === undefined) return undefined;
  throw new LabError(
    'corrupt_file',
    `${path} is a link to ${target}, which does not exist. It was left untouched: point it at the file or remove it, then try again.`,
    { details: { path } },
  );
}

/** Where `path` links to when it is a link (to something missing); undefined when it is none. */
async function danglingLinkTarget(path: string): Promise<string | undefined> {
  try {
    if (!(await lstat(path)).isSymbolicLink()) return undefined;
    return await readlink(path);
  } catch {
    return undefined;
  }
}

/**
 * Reads and validates a JSON file. Returns undefined when the file does not exist; throws
 * `corrupt_file` naming the file when it does not parse or does not match `schema`.
 */
export async function readJsonFile<Schema extends z.ZodType>(
  path: string,
  schema: Schema,
): Promise<z.output<Schema> | undefined> {
  const text = await readTextFile(path);
  if (text === undefined) return undefined;
  return parseJsonText(path, text, schema);
}

/** Parses JSON text that came from `path`, naming the file in any error. */
export function parseJsonText<Schema extends z.ZodType>(
  path: string,
  text: string,
  schema: Schema,
): z.output<Schema> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new LabError(
      'corrupt_file',
      `${path} is not valid JSON. It was left untouched: fix or move it, then try again.`,
      { details: { path } },
    );
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const newer = newerVersion(raw, parsed.error.issues);
    if (newer !== null) {
      throw new LabError(
        'corrupt_file',
        `${path} was written by a newer Codex Lab (file version ${newer.found}; this one reads version ${newer.known}). It was left untouched: upgrade Codex Lab to use it.`,
        { details: { path } },
      );
    }
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new LabError(
      'corrupt_file',
      `${path} has an unexpected shape${where}${issue ? ` (${issue.message})` : ''}. It was left untouched: fix or move it, then try again.`,
      { details: { path } },
    );
  }
  return parsed.data;
}

/**
 * The file's `version` and the newest one `issues` say this build reads, when the file's is the
 * higher: every versioned file's schema pins its `version` to a literal, so a file a newer Codex
 * Lab wrote fails there first, and is named as such rather than as a wrong shape.
 */
function newerVersion(
  raw: unknown,
  issues: readonly z.core.$ZodIssue[],
): { found: number; known: number } | null {
  const found = (raw as { version?: unknown } | null)?.version;
  if (typeof found !== 'number' || !Number.isFinite(found)) return null;
  for (const issue of issues) {
    if (issue.code !== 'invalid_value' || issue.path.join('.') !== 'version') continue;
    const known = issue.values.filter((value): value is number => typeof value === 'number');
    if (known.length > 0 && found > Math.max(...known)) {
      return { found, known: Math.max(...known) };
    }
  }
  return null;
}
