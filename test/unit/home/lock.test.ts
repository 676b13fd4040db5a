import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
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
    // a running process again: the record's boot id and run id say it is not the holder.
    const locks = join(folder, 'locks');
    const records: object[] = [
      { pid: process.pid, host: hostname(), run: 'another-run-of-this-pid' },
    ];
    if (process.platform === 'linux') {
      records.push({ pid: process.ppid, host: hostname(), bootId: 'an-earlier-boot', run: 'old' });
    }
    for (const [index, record] of records.entries()) {
      await mkdir(join(locks, 'refresh-work.lock'), { recursive: true });
      await writeFile(join(locks, 'refresh-work.lock', `owner-${index}`), JSON.stringify(record));
      const began = Date.now();
      expect(await withLock(locks, 'refresh-work', async () => 'taken', { staleMs: 60_000 })).toBe(
        'taken',
      );
      expect(Date.now() - began).toBeLessThan(2000);
    }
  });

  it('takes a killed holder’s lock even when it does not wait at all', async () => {
    // The router's run lock is taken with no wait: a serve killed with SIGKILL left its record.
    const locks = join(folder, 'locks');
    await mkdir(join(locks, 'router-run.lock'), { recursive: true });
    await writeFile(
      join(locks, 'router-run.lock', 'owner-dead'),
      JSON.stringify({ pid: 2 ** 22 + 11, host: hostname(), run: 'dead' }),
    );
    expect(await withLock(locks, 'router-run', async () => 'taken', { waitMs: 0 })).toBe('taken');
  });

  it('keeps a running holder’s lock when the clock stepped between the two processes’ starts', async () => {
    // The boot time read from the wall clock is a day off (the clock was stepped since the
    // holder started): its pid runs and its record is fresh, so it is a live holder.
    const locks = join(folder, 'locks');
    const steppedBoot = Math.round(Date.now() / 1000 - uptime()) - 86_400;
    const bootId = await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => null);
    const record = {
      pid: process.ppid,
      host: hostname(),
      boot: steppedBoot,
      ...(bootId === null ? {} : { bootId: bootId.trim() }),
      run: 'the-parent',
    };
    await mkdir(join(locks, 'refresh-work.lock'), { recursive: true });
    const recordPath = join(locks, 'refresh-work.lock', 'owner-parent');
    await writeFile(recordPath, JSON.stringify(record));
    const refused = await withLock(locks, 'refresh-work', async () => 'taken', {
      waitMs: 600,
      staleMs: 60_000,
    }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'lock_timeout' });
    if (bootId === null) {
      // Without the kernel's boot id only the dates tell: a record nobody touches goes stale.
      const old = new Date(Date.now() - 120_000);
      await utimes(recordPath, old, old);
      expect(await withLock(locks, 'refresh-work', async () => 'taken', { staleMs: 60_000 })).toBe(
        'taken',
      );
    }
  });

  it.skipIf(process.platform === 'win32')(
    'takes its own lock again when its record could not be deleted on the way out',
    async () => {
      const locks = join(folder, 'locks');
      await withLock(locks, 'quota', async () => {
        // Something holds the record so it cannot be deleted: here, a folder in its place.
        const lockFolder = join(locks, 'quota.lock');
        const [record] = await readdir(lockFolder);
        await rm(join(lockFolder, record!));
        await mkdir(join(lockFolder, record!, 'held'), { recursive: true });
      });
      expect(
        await withLock(locks, 'quota', async () => 'again', { waitMs: 1000, staleMs: 60_000 }),
      ).toBe('again');
    },
  );

  it('respects a running holder of an earlier version’s lock, and clears a dead one’s', async () => {
    // An earlier version's lock: an empty folder, its holder's record beside it.
    const locks = join(folder, 'locks');
    await mkdir(join(locks, 'registry.lock'), { recursive: true });
    const legacy = join(locks, 'registry.owner');
    await writeFile(legacy, JSON.stringify({ pid: process.ppid, host: hostname() }));
    const refused = await withLock(locks, 'registry', async () => 'taken', {
      waitMs: 600,
    }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'lock_timeout' });
    await writeFile(legacy, JSON.stringify({ pid: 2 ** 22 + 7, host: hostname() }));
    expect(await withLock(locks, 'registry', async () => 'taken')).toBe('taken');
    await expect(stat(legacy)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps the lock folder’s date fresh while held, as an earlier version judges it', async () => {
    const locks = join(folder, 'locks');
    const dates = await withLock(
      locks,
      'registry',
      async () => {
        const first = (await stat(join(locks, 'registry.lock'))).mtimeMs;
        await new Promise((resolve) => setTimeout(resolve, 1500));
        return [first, (await stat(join(locks, 'registry.lock'))).mtimeMs];
      },
      { staleMs: 2000 },
    );
    expect(dates[1]).toBeGreaterThan(dates[0]!);
  });
});
