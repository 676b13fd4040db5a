import { execFileSync } from 'node:child_process';
import {
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isLabError } from '../../../core/errors.ts';
import {
  readError,
  readJsonFile,
  readTextFile,
  systemErrorReason,
  writeJsonFile,
} from '../../../core/home/files.ts';

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

describe('reading something that is not a regular file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'codex-lab-files-kind-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(process.platform === 'win32')(
    'refuses a FIFO by name at once instead of waiting for a writer forever',
    async () => {
      const path = join(dir, 'quota.json');
      execFileSync('mkfifo', [path]);
      const error = await readTextFile(path).catch((caught: unknown) => caught);
      expect(isLabError(error) && error.code).toBe('corrupt_file');
      expect((error as Error).message).toBe(
        `${path} is not a regular file (a pipe, a socket or a device). Move it away and try again.`,
      );
      expect((await lstat(path)).isFIFO()).toBe(true);
    },
  );

  it('names a folder standing where a file must be, in one sentence', async () => {
    const path = join(dir, 'quota.json');
    await mkdir(path);
    await expect(readJsonFile(path, z.object({}))).rejects.toThrow(
      `${path} is a folder, not a file. Move it away and try again.`,
    );
  });
});

describe('a file from a newer Codex Lab', () => {
  it('is named as such, with the upgrade to make, and left untouched', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'codex-lab-files-newer-'));
    try {
      const path = join(dir, 'auth-profiles.json');
      const text = '{"version":2,"profiles":[],"newThing":{}}';
      await writeFile(path, text);
      await expect(
        readJsonFile(path, z.looseObject({ version: z.literal(1), profiles: z.array(z.string()) })),
      ).rejects.toThrow(
        `${path} was written by a newer Codex Lab (file version 2; this one reads version 1). It was left untouched: upgrade Codex Lab to use it.`,
      );
      expect(await readFile(path, 'utf8')).toBe(text);
      // An older or malformed version is still a plain wrong shape.
      await writeFile(path, '{"version":0,"profiles":[]}');
      await expect(
        readJsonFile(path, z.object({ version: z.literal(1), profiles: z.array(z.string()) })),
      ).rejects.toThrow(/has an unexpected shape at version/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('systemErrorReason', () => {
  it("keeps what went wrong from Node's message and leaves out the path the sentence names", () => {
    const error = Object.assign(
      new Error("EACCES: permission denied, open '/home/me/.codex-lab/auth-profiles/a/auth.json'"),
      { code: 'EACCES', syscall: 'open', path: '/home/me/.codex-lab/auth-profiles/a/auth.json' },
    );
    expect(systemErrorReason(error)).toBe('permission denied');
    const rename = Object.assign(
      new Error("EXDEV: cross-device link not permitted, rename '/a' -> '/b'"),
      {
        code: 'EXDEV',
      },
    );
    expect(systemErrorReason(rename)).toBe('cross-device link not permitted');
    // Anything else is said as it is.
    expect(systemErrorReason(new Error('disk on fire'))).toBe('disk on fire');
  });

  it('names the file once when it cannot be read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'codex-lab-files-'));
    const path = join(dir, 'auth.json');
    try {
      await writeFile(path, '{}');
      const denied = Object.assign(new Error(`EACCES: permission denied, open '${path}'`), {
        code: 'EACCES',
      });
      const error = readError(path, denied);
      expect(error.message).toBe(
        `Could not read ${path} (permission denied); check its permissions.`,
      );
      expect(error.message.split(path)).toHaveLength(2);
      expect(error.details).toEqual({ path });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
