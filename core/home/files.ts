/**
 * Atomic, private file writes and validated reads.
 *
 * Every write goes through `write-file-atomic` (temp file, fsync, rename) with mode 0600, and every
 * folder we create is 0700. A file that exists but does not parse is reported by name and never
 * overwritten.
 */
import { chmod, lstat, mkdir, readFile, readlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { LabError } from '../errors.ts';

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
    throw new LabError(
      'io_error',
      `Could not create the folder ${path} (${(error as Error).message}); check its permissions.`,
      { cause: error },
    );
  }
  await chmod(path, folderMode).catch(() => undefined);
}

/** Writes `data` atomically with mode 0600, creating the parent folder (0700) if needed. */
export async function writePrivateFile(path: string, data: string | Uint8Array): Promise<void> {
  await ensurePrivateDirectory(dirname(path));
  try {
    // Loaded on first write: read-only commands such as `list` never pay for it.
    const { default: writeFileAtomic } = await import('write-file-atomic');
    await writeFileAtomic(path, typeof data === 'string' ? data : Buffer.from(data), {
      mode: fileMode,
      fsync: true,
    });
  } catch (error) {
    throw new LabError(
      'io_error',
      `Could not write ${path} (${(error as Error).message}); check that its folder is writable and the disk has space.`,
      {
        cause: error,
      },
    );
  }
}

/** Serializes `value` as pretty JSON (as Codex writes auth.json) and writes it atomically, 0600. */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await writePrivateFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Reads a text file, or returns undefined when it does not exist. A link to a missing file is
 * not a missing file: it is reported by name (`corrupt_file`), since a caller that took it for
 * missing would start afresh (an empty registry) and write over the link.
 */
export async function readTextFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const target = await danglingLinkTarget(path);
      if (target === undefined) return undefined;
      throw new LabError(
        'corrupt_file',
        `${path} is a link to ${target}, which does not exist. It was left untouched: point it at the file or remove it, then try again.`,
        { details: { path } },
      );
    }
    if (code === 'ENOTDIR') {
      throw new LabError(
        'corrupt_file',
        `A folder above ${path} is a file, not a folder. Move that file away and try again.`,
        { details: { path } },
      );
    }
    if (code === 'EISDIR') {
      throw new LabError(
        'corrupt_file',
        `${path} is a folder, not a file. Move it away and try again.`,
      );
    }
    throw new LabError(
      'io_error',
      `Could not read ${path} (${(error as Error).message}); check its permissions.`,
      {
        cause: error,
      },
    );
  }
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
