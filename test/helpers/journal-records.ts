/** What a profile operation left in the journal, for tests that check none stays behind. */
import { readdir } from 'node:fs/promises';
import type { LabPaths } from '../../core/home/paths.ts';

/** The journal's record files, by name (none when the folder is missing). */
export async function journalRecords(paths: LabPaths): Promise<string[]> {
  const files = await readdir(paths.journalDir).catch(() => [] as string[]);
  return files.filter((file) => file.endsWith('.json')).sort();
}
