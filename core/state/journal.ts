/**
 * A bounded on-disk log (`state/activity.jsonl`): one JSON object per line, appended in batches,
 * so the activity log, the decision log and the per-request log survive a restart without the
 * router writing a file per request.
 *
 * - `append` is O(1): it keeps the object in memory and schedules one write per batch
 *   (`flushDelayMs`); serialising happens when the batch is written, off the request's path.
 * - The file stays bounded: once it holds more than `capacity × 1.5` lines, it is rewritten
 *   (atomically) with the newest `capacity` lines.
 * - A file with a broken line is reported by name and never overwritten: the journal then keeps
 *   working in memory only. A torn last line (a crash mid-write: text after the last newline) is
 *   dropped quietly, and the next writer cuts it off the file before its first append (nothing
 *   else in the file moves). A whole line (one with its newline) that is no record is damage.
 * - The process that routes (one per home) writes; readers (`codex-lab log`) read the file. With
 *   no router running, a CLI rename appends its one `rename` line (never the compacting rewrite,
 *   which could drop the lines of a router started meanwhile).
 */
import { appendFile, readFile, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensurePrivateDirectory, readTextFile, writePrivateFile } from '../home/files.ts';
import type { Cancel, Clock, Logger } from '../ports.ts';

/** One line of the journal: a `type` and whatever the owning log keeps. */
export interface JournalRecord {
  type: string;
  [key: string]: unknown;
}

/** Options for `Journal`. */
export interface JournalOptions {
  path: string;
  clock: Clock;
  logger?: Logger;
  /** Lines kept after a compaction. Default 10 000. */
  capacity?: number;
  /** Delay between the first `append` of a batch and its write. Default 1 s. */
  flushDelayMs?: number;
}

/** What `readJournal` found. */
export interface JournalContent {
  records: JournalRecord[];
  /** Set when a whole line (one with its newline) is no record: the file is left untouched. */
  problem: string | null;
  /**
   * True when the file does not end in a newline (a crash mid-append): a writer must not append
   * after it, or the fragment and the next record would make one damaged line.
   */
  tornTail: boolean;
}

/** Default number of lines kept. */
export const defaultJournalCapacity = 10_000;

/** One line of text as a journal record, or null when it is not one. */
function parseRecord(line: string): JournalRecord | null {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' &&
      value !== null &&
      typeof (value as JournalRecord).type === 'string'
      ? (value as JournalRecord)
      : null;
  } catch {
    return null;
  }
}

/** Reads a journal file (missing → empty). Never throws for a broken file: it says so instead. */
export async function readJournal(path: string): Promise<JournalContent> {
  let text: string | undefined;
  try {
    // The one read of a home file: a folder or a pipe standing here is one sentence, not a hang.
    text = await readTextFile(path);
  } catch (error) {
    return { records: [], problem: (error as Error).message, tornTail: false };
  }
  if (text === undefined) return { records: [], problem: null, tornTail: false };
  const lines = text.split('\n');
  const records: JournalRecord[] = [];
  // Only the text after the last newline can be torn: every append ends in one, so a line that
  // has its newline was written whole, and one that is no record is damage.
  const tornTail = text !== '' && !text.endsWith('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    if (line === '') continue;
    const record = parseRecord(line);
    if (record !== null) {
      records.push(record);
      continue;
    }
    // A crash mid-append leaves one torn last line, dropped; anything else is a damaged file.
    if (tornTail && index === lines.length - 1) continue;
    return {
      records,
      problem: `${path} is damaged at line ${index + 1}; move it away to start a fresh activity log.`,
      tornTail,
    };
  }
  return { records, problem: null, tornTail };
}

/** The bounded, batched on-disk log. */
export class Journal {
  readonly #path: string;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #capacity: number;
  readonly #flushDelayMs: number;
  #pending: JournalRecord[] = [];
  #timer: Cancel | null = null;
  #writing: Promise<void> = Promise.resolve();
  /** The newest lines as written, for compaction (a ring would save little at this size). */
  #kept: string[] = [];
  /** Lines in the file now. */
  #lines = 0;
  #disabled = false;
  // Whether this journal made (or found) its folder: later batches skip the mkdir.
  #folderReady = false;
  /** The file ends in a torn line (a crash mid-append): mend it before appending. */
  #mendTail = false;

  constructor(options: JournalOptions) {
    this.#path = options.path;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#capacity = Math.max(1, options.capacity ?? defaultJournalCapacity);
    this.#flushDelayMs = options.flushDelayMs ?? 1000;
  }

  /**
   * Reads the file once before the first append. A damaged file is reported (logged, and in the
   * returned `problem`) and the journal stays in memory only, so nothing existing is lost.
   */
  async load(): Promise<JournalContent> {
    const content = await readJournal(this.#path);
    if (content.problem) {
      this.#disabled = true;
      this.#logger?.warn({ path: this.#path }, content.problem);
      return content;
    }
    this.#kept = content.records.slice(-this.#capacity).map((record) => JSON.stringify(record));
    this.#lines = content.records.length;
    // Mended right before this process's first append, not here: a process that loads and then
    // does not become the writer (its start fails) must not touch the file.
    this.#mendTail = content.tornTail;
    return content;
  }

  /** Queues one record; the batch is written within `flushDelayMs`. O(1). */
  append(record: JournalRecord): void {
    if (this.#disabled) return;
    this.#pending.push(record);
    this.#timer ??= this.#clock.setTimeout(() => {
      this.#timer = null;
      void this.flush();
    }, this.#flushDelayMs);
  }

  /** Writes the queued records now; resolves when they are on disk. Failures are logged. */
  flush(): Promise<void> {
    this.#timer?.();
    this.#timer = null;
    const batch = this.#pending;
    if (batch.length === 0) return this.#writing;
    this.#pending = [];
    // Writes are chained so batches land in order.
    this.#writing = this.#writing.then(() => this.#write(batch));
    return this.#writing;
  }

  async #makeFolder(): Promise<void> {
    await ensurePrivateDirectory(dirname(this.#path));
    this.#folderReady = true;
  }

  /** Appends `lines`, or rewrites the file with the kept lines once it has grown past bound. */
  async #writeLines(lines: string[]): Promise<void> {
    if (this.#lines + lines.length > this.#capacity * 1.5) {
      await writePrivateFile(this.#path, `${this.#kept.join('\n')}\n`);
      this.#lines = this.#kept.length;
    } else {
      await appendFile(this.#path, `${lines.join('\n')}\n`, { mode: 0o600 });
      this.#lines += lines.length;
    }
  }

  /**
   * Makes the file end cleanly before appending after a crash: a torn last line (the text after
   * the last newline) is cut off, and only it: every whole line stays where it is. A whole last
   * record missing its newline gets one. Appending after either would weld two records into one
   * damaged line, and from then on the whole log would read as damaged.
   */
  async #mendTornTail(): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.#path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    if (bytes.length === 0 || bytes[bytes.length - 1] === 0x0a) return;
    const start = bytes.lastIndexOf(0x0a) + 1;
    if (parseRecord(bytes.subarray(start).toString('utf8')) !== null) {
      await appendFile(this.#path, '\n', { mode: 0o600 });
      return;
    }
    await truncate(this.#path, start);
  }

  async #write(batch: JournalRecord[]): Promise<void> {
    const lines = batch.map((record) => JSON.stringify(record));
    for (const line of lines) this.#kept.push(line);
    if (this.#kept.length > this.#capacity)
      this.#kept.splice(0, this.#kept.length - this.#capacity);
    try {
      // The folder is made once, and again only when a write finds it gone (a batch a second
      // while busy need not pay a mkdir and a chmod each).
      if (!this.#folderReady) await this.#makeFolder();
      if (this.#mendTail) {
        await this.#mendTornTail();
        this.#mendTail = false;
      }
      try {
        await this.#writeLines(lines);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        await this.#makeFolder();
        await this.#writeLines(lines);
      }
    } catch (error) {
      this.#logger?.warn(
        { path: this.#path, error: (error as Error).message },
        'could not save the activity log',
      );
    }
  }
}

/** The size of a journal file in bytes (0 when missing), for followers that poll it. */
export async function journalSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
