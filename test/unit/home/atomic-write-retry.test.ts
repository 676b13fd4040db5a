import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isLabError } from '../../../core/errors.ts';
import {
  heldOpenOnWindows,
  writeFileAtomically,
  type AtomicWriteEffects,
} from '../../../core/home/files.ts';
import { fileWriteRetryMs, tokenWriteRetryMs } from '../../../core/home/lock-waits.ts';
import type { Clock } from '../../../core/ports.ts';
import {
  heldOpenError,
  instantClock,
  refuseRenames,
  refuseTempRemoval,
} from '../../helpers/held-open.ts';

describe('a file another program holds open on Windows', () => {
  let dir: string;
  let path: string;
  let clock: ReturnType<typeof instantClock>;
  let warnings: string[];
  let effects: Partial<AtomicWriteEffects>;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'codex-lab-atomic-'));
    path = join(dir, 'health.json');
    await writeFile(path, 'old\n', { mode: 0o600 });
    clock = instantClock();
    warnings = [];
    effects = { platform: 'win32', clock, warn: (message) => warnings.push(message) };
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  it('is written once it lets go, with growing waits and one warning naming the file', async () => {
    const renames = refuseRenames(4);
    await writeFileAtomically(path, 'new\n', { mode: 0o600, effects });
    expect(await readFile(path, 'utf8')).toBe('new\n');
    expect(renames.tries()).toBe(5);
    expect(clock.waits).toHaveLength(4);
    for (let i = 1; i < clock.waits.length; i += 1) {
      expect(clock.waits[i]!).toBeGreaterThan(clock.waits[i - 1]!);
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(path);
    // Each try's temp file is removed: only the target is left.
    expect(await readdir(dir)).toEqual(['health.json']);
  });

  it('retries EACCES and EBUSY too', async () => {
    refuseRenames(1, { code: 'EACCES' });
    await writeFileAtomically(path, 'a\n', { mode: 0o600, effects });
    vi.restoreAllMocks();
    refuseRenames(1, { code: 'EBUSY' });
    await writeFileAtomically(path, 'b\n', { mode: 0o600, effects });
    expect(await readFile(path, 'utf8')).toBe('b\n');
  });

  it('gives up after a few seconds in one sentence naming the file, old file untouched, no temp file left', async () => {
    const renames = refuseRenames(Number.POSITIVE_INFINITY);
    const error = await writeFileAtomically(path, 'new\n', { mode: 0o600, effects }).catch(
      (caught: unknown) => caught,
    );
    expect(isLabError(error) && error.code).toBe('io_error');
    const message = (error as Error).message;
    expect(message.split(path)).toHaveLength(2);
    expect(message).toMatch(/another program/);
    expect(message).not.toMatch(/\n/);
    const waited = clock.waits.reduce((sum, wait) => sum + wait, 0);
    expect(waited).toBeLessThanOrEqual(fileWriteRetryMs);
    expect(waited).toBeGreaterThan(fileWriteRetryMs / 2);
    expect(renames.tries()).toBe(clock.waits.length + 1);
    expect(warnings).toHaveLength(1);
    expect(await readFile(path, 'utf8')).toBe('old\n');
    expect(await readdir(dir)).toEqual(['health.json']);
  });

  it('waits longer for a token write', async () => {
    refuseRenames(Number.POSITIVE_INFINITY);
    await writeFileAtomically(path, 'new\n', { mode: 0o600, holdsTokens: true, effects }).catch(
      () => undefined,
    );
    const waited = clock.waits.reduce((sum, wait) => sum + wait, 0);
    expect(waited).toBeGreaterThan(fileWriteRetryMs);
    expect(waited).toBeLessThanOrEqual(tokenWriteRetryMs);
  });

  it('stops retrying once the lock it writes under is lost', async () => {
    const renames = refuseRenames(Number.POSITIVE_INFINITY);
    const lease = { compromised: false };
    const lose: Clock = {
      now: clock.now,
      setTimeout(callback, delayMs) {
        // The lock is taken over during the second wait.
        if (clock.waits.length === 1) lease.compromised = true;
        return clock.setTimeout(callback, delayMs);
      },
    };
    const error = await writeFileAtomically(path, 'new\n', {
      mode: 0o600,
      holdsTokens: true,
      lease,
      effects: { ...effects, clock: lose },
    }).catch((caught: unknown) => caught);
    expect(isLabError(error) && error.code).toBe('io_error');
    expect(renames.tries()).toBe(2);
    expect(await readFile(path, 'utf8')).toBe('old\n');
    expect(await readdir(dir)).toEqual(['health.json']);
  });

  it('fails at once elsewhere than Windows, where those codes are real refusals', async () => {
    const renames = refuseRenames(1);
    await expect(
      writeFileAtomically(path, 'new\n', {
        mode: 0o600,
        effects: { ...effects, platform: 'linux' },
      }),
    ).rejects.toThrow(path);
    expect(renames.tries()).toBe(1);
    expect(clock.waits).toEqual([]);
    expect(warnings).toEqual([]);
    expect(await readFile(path, 'utf8')).toBe('old\n');
  });

  it('removes the temp file itself when the library could not (the scanner held it too)', async () => {
    refuseRenames(Number.POSITIVE_INFINITY);
    refuseTempRemoval(path);
    await writeFileAtomically(path, 'new\n', { mode: 0o600, effects }).catch(() => undefined);
    expect(await readdir(dir)).toEqual(['health.json']);
    expect(await readFile(path, 'utf8')).toBe('old\n');
  });

  it('tells a held-open refusal from any other by code and platform', () => {
    expect(heldOpenOnWindows(heldOpenError('EBUSY', 'a', 'b'), 'win32')).toBe(true);
    expect(heldOpenOnWindows(heldOpenError('EBUSY', 'a', 'b'), 'darwin')).toBe(false);
    expect(heldOpenOnWindows(heldOpenError('ENOSPC', 'a', 'b'), 'win32')).toBe(false);
  });
});
