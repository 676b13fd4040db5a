/**
 * "Auth file unreadable" is said of the auth file only: a failure carries the file it is about
 * (`failedFile`), and only the reader of stored tokens marks its failure as theirs
 * (`unreadableTokens`). A corrupt quota.json or health.json met on the same path (a usage
 * refresh, a credentials read) is that file's, named by it, and no state of the account.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { failedFile, isLabError, type LabError } from '../../../core/errors.ts';
import { isStandingFailure, unreadableTokens } from '../../../core/format.ts';
import { readJsonFile } from '../../../core/home/files.ts';
import { labPaths } from '../../../core/home/paths.ts';
import { readAuthFile } from '../../../core/profiles/auth-file.ts';
import { HealthStore } from '../../../core/state/health-store.ts';
import { quotaFileSchema } from '../../../core/state/schema.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';

async function failureOf(read: () => Promise<unknown>): Promise<LabError> {
  try {
    await read();
  } catch (error) {
    if (isLabError(error)) return error;
    throw error;
  }
  throw new Error('expected the read to fail');
}

describe('which file cannot be read', () => {
  it('marks a broken auth file as the tokens', async () => {
    const paths = labPaths(tempFolder('codex-lab-unreadable-'));
    const auth = paths.profileAuth('alice');
    await mkdir(paths.profileDir('alice'), { recursive: true });
    await writeFile(auth, '{"tokens":');
    const error = await failureOf(() => readAuthFile(auth));
    expect(error.code).toBe('corrupt_file');
    expect(failedFile(error)).toBe(auth);
    expect(unreadableTokens(error)).toBe(true);
    expect(isStandingFailure(error)).toBe(true);
  });

  it('names a broken health or quota file by itself, never as the auth file', async () => {
    const paths = labPaths(tempFolder('codex-lab-unreadable-'));
    await mkdir(paths.stateDir, { recursive: true });
    await writeFile(paths.health, '{"version":1,"prof');
    await writeFile(paths.quota, '{"version":1,"prof');
    for (const [file, read] of [
      [paths.health, () => new HealthStore(paths).read()],
      [paths.quota, () => readJsonFile(paths.quota, quotaFileSchema)],
    ] as const) {
      const error = await failureOf(read);
      expect(error.code).toBe('corrupt_file');
      expect(failedFile(error)).toBe(file);
      expect(unreadableTokens(error)).toBe(false);
      // A usage refresh that met it failed on that file: no state of the account's.
      expect(isStandingFailure(error)).toBe(false);
    }
  });
});
