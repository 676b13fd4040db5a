import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir, uptime } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withLock } from '../../../core/home/lock.ts';

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'codex-lab-lock-'));
});
afterEach(() => rm(folder, { recursive: true, force: true }));

describe('withLock', () => {
  it('runs the operation under the lock and gives the lock back', async () => {
    const locks = join(folder, 'locks');
    expect(await withLock(locks, 'registry', async () => 'done')).toBe('done');
    expect(await withLock(locks, 'registry', async () => 'again')).toBe('again');
  });

  it.skipIf(process.platform === 'win32')(
    'takes over an abandoned lock whose owner record is a FIFO, never waiting on the pipe',
    async () => {
      const locks = join(folder, 'locks');
      await mkdir(join(locks, 'quota.lock'), { recursive: true });
      execFileSync('mkfifo', [join(locks, 'quota.lock', 'owner-a-dead-run-1')]);
      const old = new Date(Date.now() - 60_000);
      await utimes(join(locks, 'quota.lock', 'owner-a-dead-run-1'), old, old);
      expect(await withLock(locks, 'quota', async () => 'taken', { staleMs: 1000 })).toBe('taken');
    },
  );

  it.runIf(process.platform === 'linux')(
    'names a lock it cannot make at all, at once, instead of blaming another process',
    async () => {
      // /sys refuses new folders even to root: what a read-only home gives any user.
      const locks = '/sys/kernel';
      const began = Date.now();
      const failure = await withLock(locks, 'registry', async () => 'never', {
        waitMs: 5000,
      }).catch((error: unknown) => error);
      expect(Date.now() - began).toBeLessThan(2000);
      expect(failure).toMatchObject({
        code: 'io_error',
        message: `Codex Lab cannot make its registry lock in ${locks} (EPERM): the home must be a folder you can write in; fix its permissions or set CODEX_LAB_HOME to one.`,
      });
    },
  );

  it('says a file standing where the lock goes is one, with the code the home folders use', async () => {
    const locks = join(folder, 'locks');
    await mkdir(locks, { recursive: true });
    await writeFile(join(locks, 'sub'), 'not a folder');
    const failure = await withLock(locks, 'sub/registry', async () => 'never').catch(
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({
      code: 'corrupt_file',
      message: `${join(locks, 'sub', 'registry.lock')} (or a folder above it) is a file, not a folder. Move that file away and try again.`,
    });
  });

  it('clears at once a lock whose record names a running pid of an earlier boot or run', async () => {
    // After a reboot, or in a restarted container, the pid a dead holder recorded may belong to
    // a running process again: the record's boot time and run id say it is not the holder.
    const locks = join(folder, 'locks');
    const earlierBoot = Math.round(Date.now() / 1000 - uptime()) - 86_400;
    for (const record of [
      { pid: process.ppid, host: hostname(), boot: earlierBoot, run: 'an-old-run' },
      { pid: process.pid, host: hostname(), run: 'another-run-of-this-pid' },
    ]) {
      await mkdir(join(locks, 'refresh-work.lock'), { recursive: true });
      await writeFile(
        join(locks, 'refresh-work.lock', `owner-${record.run}-1`),
        JSON.stringify(record),
      );
      const began = Date.now();
      expect(await withLock(locks, 'refresh-work', async () => 'taken', { staleMs: 60_000 })).toBe(
        'taken',
      );
      expect(Date.now() - began).toBeLessThan(2000);
    }
  });
});
