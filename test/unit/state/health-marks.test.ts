/**
 * `state/health.json` marks cannot be lost or reordered: every change is one read-modify-write
 * under the `health` lock, applied to the file as read there, so two processes (two
 * `HealthStore`s on one home) or a caller that decides on what it read cannot write a stale copy
 * over a mark made meanwhile. Per-model family marks live in the same file, with their reset.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../../core/home/paths.ts';
import { silentLogger, type Clock } from '../../../core/ports.ts';
import { applyReading } from '../../../core/quota/limit-marks.ts';
import { fileLiveState } from '../../../core/service/operations.ts';
import { QuotaKeeper } from '../../../core/service/quota-keeper.ts';
import { familyLimitedUntil, HealthStore } from '../../../core/state/health-store.ts';
import type { HealthFile, QuotaSnapshot } from '../../../core/state/schema.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';

const now = Date.UTC(2026, 11, 3, 12);
const hour = 3_600_000;

async function home(): Promise<LabPaths> {
  const paths = labPaths(tempFolder('codex-lab-health-marks-'));
  await mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
  return paths;
}

async function stored(paths: LabPaths): Promise<HealthFile> {
  return JSON.parse(await readFile(paths.health, 'utf8')) as HealthFile;
}

function reading(at: number, usedPercent: number, spark: number | null = null): QuotaSnapshot {
  return {
    observedAt: at,
    source: 'usage',
    plan: 'plus',
    primary: { usedPercent, windowMinutes: 300, resetsAt: at + hour },
    secondary: null,
    credits: null,
    activeLimit: null,
    limitReached: null,
    others:
      spark === null
        ? []
        : [
            {
              limitId: 'codex_spark',
              limitName: 'Spark',
              primary: { usedPercent: spark, windowMinutes: 300, resetsAt: at + 2 * hour },
              secondary: null,
            },
          ],
  };
}

describe('health marks across processes', () => {
  it('keeps every concurrent mark made through two stores on one home', async () => {
    const paths = await home();
    const serve = new HealthStore(paths);
    const cli = new HealthStore(paths);
    const names = Array.from({ length: 8 }, (_, index) => `p${index}`);
    await Promise.all([
      ...names.map((name, index) =>
        (index % 2 === 0 ? serve : cli).markLimited(name, now + hour, 'limited', now),
      ),
      // The same profile from both: a family's limit and a needs-sign-in.
      serve.markFamilyLimited('p0', 'codex_spark', now + hour, 'spark-model', now + 1),
      cli.markAuthError('p0', 'refresh_token_reused', 'Sign in again.', now + 1),
    ]);
    const file = await stored(paths);
    for (const name of names.slice(1)) expect(file.profiles[name]?.status).toBe('limited');
    expect(file.profiles['p0']).toMatchObject({ status: 'auth_error' });
    expect(familyLimitedUntil(file, 'p0', 'codex_spark', now)).toBe(now + hour);
    expect(file.families?.['p0']?.['codex_spark']?.models).toEqual(['spark-model']);
  });

  it('never lets an older mark land over a newer one', async () => {
    const paths = await home();
    const serve = new HealthStore(paths);
    const cli = new HealthStore(paths);
    await cli.markAuthError('alice', 'refresh_token_reused', 'Sign in again.', now + 10);
    // A write queued earlier (made at `now`) that reaches the lock last.
    await serve.markLimited('alice', now + hour, 'limited', now);
    await serve.markOk('alice', now + 5);
    expect((await stored(paths)).profiles['alice']).toMatchObject({
      status: 'auth_error',
      code: 'refresh_token_reused',
      updatedAt: now + 10,
    });
  });

  it('weighs a usage read against the file as it is when it writes, not as it was read', async () => {
    const paths = await home();
    await new HealthStore(paths).markLimited('alice', now + hour, 'limited', now);
    const serve = new HealthStore(paths);
    let raced = false;
    const markedMeanwhile = () =>
      serve.markAuthError('alice', 'refresh_token_reused', 'Sign in again.', now + 10);
    // The CLI's store: a running router marks alice needing sign-in right after any read of it.
    class Racing extends HealthStore {
      override async read(): Promise<HealthFile> {
        const file = await super.read();
        if (!raced) {
          raced = true;
          await markedMeanwhile();
        }
        return file;
      }
    }
    const clock: Clock = { now: () => now + 10, setTimeout: () => () => undefined };
    const quota = new QuotaKeeper({ paths, clock, logger: silentLogger });
    await quota.load();
    const live = fileLiveState({ quota, health: new Racing(paths), clock });
    // Room again: a reading that would lift the limit mark (`markOk`).
    await live.usageRead('alice', reading(now + 10, 20));
    if (!raced) await markedMeanwhile();
    await quota.flush();
    expect((await stored(paths)).profiles['alice']).toMatchObject({
      status: 'auth_error',
      code: 'refresh_token_reused',
    });
  });

  it('clears a needs-sign-in mark after a refresh, never a limit mark made meanwhile', async () => {
    const paths = await home();
    const tokens = new HealthStore(paths);
    const serve = new HealthStore(paths);
    await tokens.markAuthError('alice', 'refresh_token_reused', 'Sign in again.', now);
    await serve.markLimited('alice', now + hour, 'limited', now + 5);
    await tokens.clearAuthError('alice', now + 10);
    expect((await stored(paths)).profiles['alice']?.status).toBe('limited');
    await tokens.markAuthError('bob', 'refresh_token_reused', 'Sign in again.', now);
    await tokens.clearAuthError('bob', now + 10);
    expect((await stored(paths)).profiles['bob']?.status).toBe('ok');
  });
});

describe('family marks in health.json', () => {
  it('reads an older file without them as none, and keeps them through other marks', async () => {
    const paths = await home();
    await writeFile(
      paths.health,
      JSON.stringify({
        version: 1,
        profiles: {
          alice: { status: 'ok', unavailableUntil: null, code: null, message: null, updatedAt: 1 },
        },
      }),
    );
    const health = new HealthStore(paths);
    const file = await health.read();
    expect(file.families).toBeUndefined();
    expect(familyLimitedUntil(file, 'alice', 'codex_spark', now)).toBeNull();
    await health.markFamilyLimited('alice', 'codex_spark', now + hour, null, now);
    await health.markLimited('alice', now + hour, 'limited', now + 1);
    await health.forget('alice', 'alicia');
    const moved = await health.read();
    expect(familyLimitedUntil(moved, 'alicia', 'codex_spark', now)).toBe(now + hour);
    expect(familyLimitedUntil(moved, 'alice', 'codex_spark', now)).toBeNull();
  });

  it('lifts on a later reading with room, or when its reset passes; keeps on an older one', async () => {
    const paths = await home();
    const health = new HealthStore(paths);
    await health.markFamilyLimited('alice', 'codex_spark', now + hour, 'spark-model', now);
    // Taken before the 429: says nothing of it.
    await health.change((file) => applyReading(file, 'alice', reading(now - 1, 10, 20), now));
    expect(familyLimitedUntil(await health.read(), 'alice', 'codex_spark', now)).toBe(now + hour);
    expect(familyLimitedUntil(await health.read(), 'alice', 'codex_spark', now + hour)).toBeNull();
    // Main windows with room never lift a family's mark; the family's own figures do.
    await health.change((file) => applyReading(file, 'alice', reading(now + 10, 10), now + 10));
    expect(familyLimitedUntil(await health.read(), 'alice', 'codex_spark', now + 10)).toBe(
      now + hour,
    );
    await health.change((file) => applyReading(file, 'alice', reading(now + 20, 10, 30), now + 20));
    const lifted = await health.read();
    expect(familyLimitedUntil(lifted, 'alice', 'codex_spark', now + 20)).toBeNull();
    // A reading that shows the family spent marks it until that window resets.
    await health.change((file) =>
      applyReading(file, 'alice', reading(now + 30, 10, 100), now + 30),
    );
    expect(familyLimitedUntil(await health.read(), 'alice', 'codex_spark', now + 30)).toBe(
      now + 30 + 2 * hour,
    );
  });
});
