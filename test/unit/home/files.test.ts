import { lstat, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isLabError } from '../../../core/errors.ts';
import { readJsonFile, writeJsonFile } from '../../../core/home/files.ts';

describe('private JSON files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'codex-lab-files-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes 0600 files inside 0700 folders and reads them back', async () => {
    const path = join(dir, 'nested', 'value.json');
    await writeJsonFile(path, { a: 1 });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'nested'))).mode & 0o777).toBe(0o700);
    expect(await readJsonFile(path, z.object({ a: z.number() }))).toEqual({ a: 1 });
  });

  it('returns undefined for a missing file', async () => {
    expect(await readJsonFile(join(dir, 'none.json'), z.object({}))).toBeUndefined();
  });

  it('reports a link to a missing file by name, as unreadable rather than missing, and leaves it', async () => {
    const path = join(dir, 'linked.json');
    const target = join(dir, 'moved-away.json');
    await symlink(target, path);
    const error = await readJsonFile(path, z.object({})).catch((caught: unknown) => caught);
    expect(isLabError(error) && error.code).toBe('corrupt_file');
    expect((error as Error).message).toBe(
      `${path} is a link to ${target}, which does not exist. It was left untouched: point it at the file or remove it, then try again.`,
    );
    expect((await lstat(path)).isSymbolicLink()).toBe(true);
    expect(await readlink(path)).toBe(target);
  });

  it('reports a corrupt file by name and leaves it untouched', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{"a":');
    const error = await readJsonFile(path, z.object({ a: z.number() })).catch(
      (caught: unknown) => caught,
    );
    expect(isLabError(error) && error.code).toBe('corrupt_file');
    expect((error as Error).message).toContain(path);
    expect(await readFile(path, 'utf8')).toBe('{"a":');
  });

  it('reports a file of the wrong shape with the offending field', async () => {
    const path = join(dir, 'shape.json');
    await writeFile(path, '{"a":"x"}');
    await expect(readJsonFile(path, z.object({ a: z.number() }))).rejects.toThrow(
      /shape.json has an unexpected shape at a/,
    );
  });
});
