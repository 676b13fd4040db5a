/**
 * A write held up by another program holding its file open (Windows) waits on real timers that
 * keep the process alive: a command awaiting it must not end in the middle of a wait, its write
 * (a refresh's new tokens) never made.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'codex-lab-held-open-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('keeps the process alive while it waits, and the write is made', async () => {
  const path = join(dir, 'auth.json');
  await writeFile(path, 'old\n');
  const child = spawnSync(
    process.execPath,
    [join(repoRoot, 'test/helpers/held-open-write-child.ts'), path],
    { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 },
  );
  expect(child.stderr).toBe('');
  expect(child.status).toBe(0);
  expect(child.stdout).toBe('holds new\n');
  expect(await readdir(dir)).toEqual(['auth.json']);
});
