/**
 * The profile journal (`state/journal/`): one intent record per multi-step profile operation in
 * progress (rename, remove, new sign-in), one record per set of refreshed tokens that could
 * not be written in place, and one per sign-in that could not be saved yet (its profile locked). A process killed in the middle leaves its record behind; the next
 * process that loads the registry completes or rolls back the operation from it (ProfileStore),
 * so tokens are never hidden in a folder no registry lists and never reported as "sign in again".
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import {
  ensurePrivateDirectory,
  readJsonFile,
  writeJsonFile,
  type AtomicWriteEffects,
} from '../home/files.ts';
import {
  authDotJsonSchema,
  profileNamePattern,
  profileRecordSchema,
  storeKindSchema,
} from './schema.ts';

const name = z.string().regex(profileNamePattern);

/** One journal record. */
export const journalEntrySchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('rename'),
    from: name,
    to: name,
    /** The legacy `auth.json` moved into `auth-profiles/<to>/`. */
    legacy: z.boolean(),
    /**
     * The registry record as it reads after the rename; its account (id and email) is the one the
     * replay acts for.
     */
    record: profileRecordSchema,
  }),
  z.object({
    op: z.literal('remove'),
    name,
    keyring: z.boolean(),
    legacy: z.boolean(),
    /**
     * The account the removed profile was (id and email): a replay acts only while the name is
     * still that account's. Absent in records written before it was kept.
     */
    account: z
      .object({ accountId: z.string().nullable(), email: z.string().nullable() })
      .optional(),
  }),
  z.object({ op: z.literal('add'), record: profileRecordSchema }),
  z.object({
    op: z.literal('recovered'),
    profile: name,
    accountId: z.string().nullable(),
    email: z.string().nullable(),
    /** sha256 of the refresh token these tokens replaced (still on disk when written). */
    replaces: z.string(),
    auth: authDotJsonSchema,
  }),
  z.object({
    /**
     * A finished sign-in that could not be saved (its profile stayed locked past the wait): kept
     * here rather than dropped, and saved under the profile's refresh lock once it is free. Of
     * several for one account, the newest wins.
     */
    op: z.literal('signin'),
    /** The name asked for (`login NAME`), or null. */
    requestedName: name.nullable(),
    /**
     * The profile it signed in to again, or null for a new account: once that profile is removed,
     * the sign-in is dropped rather than made a new profile. Absent in records written before it
     * was kept.
     */
    profile: name.nullable().optional(),
    store: storeKindSchema.optional(),
    accountId: z.string().nullable(),
    email: z.string().nullable(),
    auth: authDotJsonSchema,
  }),
]);
/** One journal record. */
export type JournalEntry = z.infer<typeof journalEntrySchema>;

/** A record as found on disk. */
export interface JournalRecord {
  path: string;
  entry: JournalEntry;
}

/** sha256 of a refresh token, so a journal never stores a spent token in the clear. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Writes a record (atomic, 0600, made with `effects`: the store's) and returns its path. */
export async function writeJournal(
  dir: string,
  entry: JournalEntry,
  effects: Partial<AtomicWriteEffects> = {},
): Promise<string> {
  // Sortable by time, unique across processes.
  const file = join(
    dir,
    `${Date.now().toString().padStart(15, '0')}-${randomBytes(4).toString('hex')}-${entry.op}.json`,
  );
  // A record holding tokens (a refresh's that could not be written, a sign-in's) may be their
  // only copy: it waits as long as a token write for a program holding it open.
  await writeJsonFile(file, entry, { effects, holdsTokens: 'auth' in entry });
  return file;
}

/** Deletes a record once its operation is complete or rolled back. */
export async function clearJournal(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** The records left in `dir`, oldest first; unreadable ones are reported through `skip`. */
export async function readJournal(
  dir: string,
  skip: (path: string, error: unknown) => void,
): Promise<JournalRecord[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((file) => file.endsWith('.json')).sort();
  } catch {
    return [];
  }
  const records: JournalRecord[] = [];
  for (const file of files) {
    const path = join(dir, file);
    try {
      const entry = await readJsonFile(path, journalEntrySchema);
      if (entry) records.push({ path, entry });
    } catch (error) {
      skip(path, error);
    }
  }
  return records;
}

/** Where records that cannot be read are set aside (`state/journal/unreadable/`). */
export function unreadableJournalDir(dir: string): string {
  return join(dir, 'unreadable');
}

/**
 * Moves a record that cannot be read out of the journal, content untouched, so that every later
 * load neither replays it nor takes the registry lock for it; returns its new path.
 */
export async function setAsideJournal(path: string): Promise<string> {
  const aside = unreadableJournalDir(dirname(path));
  await ensurePrivateDirectory(aside);
  const target = join(aside, basename(path));
  await rename(path, target);
  return target;
}

/** The records set aside as unreadable, by path (none when the folder is missing). */
export async function unreadableJournal(dir: string): Promise<string[]> {
  const aside = unreadableJournalDir(dir);
  try {
    return (await readdir(aside)).sort().map((file) => join(aside, file));
  } catch {
    return [];
  }
}

/** True when `dir` holds any record (one readdir; a missing folder is none). */
export async function journalPending(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).some((file) => file.endsWith('.json'));
  } catch {
    return false;
  }
}
