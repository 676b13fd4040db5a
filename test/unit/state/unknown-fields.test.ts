/**
 * Fields this version does not know (written by a newer Codex Lab, or by hand) survive every
 * rewrite of `state/health.json` and `state/quota.json`, as they do in the registry and auth.json;
 * a file whose version is newer than this one reads is named as such and left untouched.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../../core/home/paths.ts';
import { silentLogger, systemClock } from '../../../core/ports.ts';
import { QuotaKeeper } from '../../../core/service/quota-keeper.ts';
import { HealthStore } from '../../../core/state/health-store.ts';
import type { QuotaSnapshot } from '../../../core/state/schema.ts';

let home: string;
let paths: LabPaths;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'codex-lab-unknown-'));
  paths = labPaths(home);
  await mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
});
afterEach(() => rm(home, { recursive: true, force: true }));

const now = Date.now();

function snapshot(usedPercent: number): QuotaSnapshot {
  return {
    observedAt: now,
    source: 'usage',
    plan: 'plus',
    primary: { usedPercent, windowMinutes: 300, resetsAt: now + 3_600_000 },
    secondary: null,
    credits: null,
    activeLimit: null,
    limitReached: null,
    others: [],
  };
}

describe('unknown fields', () => {
  it('state/health.json keeps them, in the file and in the entries, across a rewrite', async () => {
    const entry = { status: 'ok', unavailableUntil: null, code: null, message: null };
    await writeFile(
      paths.health,
      JSON.stringify({
        version: 1,
        future: { kept: true },
        profiles: {
          alice: { ...entry, updatedAt: now, note: 'alice-note' },
          bob: { ...entry, updatedAt: now, note: 'bob-note' },
        },
      }),
    );
    await new HealthStore(paths).markLimited('alice', now + 60_000, 'limited', now);
    const file = JSON.parse(await readFile(paths.health, 'utf8'));
    expect(file.future).toEqual({ kept: true });
    expect(file.profiles.alice).toMatchObject({ status: 'limited', note: 'alice-note' });
    expect(file.profiles.bob.note).toBe('bob-note');
  });

  it('state/quota.json keeps them, in the file and in the entries, across a rewrite', async () => {
    await writeFile(
      paths.quota,
      JSON.stringify({
        version: 1,
        future: { kept: true },
        profiles: {
          alice: { latest: { ...snapshot(5), extra: 'in-snapshot' }, history: [], note: 'a' },
          bob: { latest: { ...snapshot(7), extra: 'in-snapshot' }, history: [], note: 'b' },
        },
      }),
    );
    const keeper = new QuotaKeeper({ paths, clock: systemClock, logger: silentLogger });
    await keeper.load();
    keeper.book.observe('alice', snapshot(50));
    expect(await keeper.flush()).toBeNull();
    const file = JSON.parse(await readFile(paths.quota, 'utf8'));
    expect(file.future).toEqual({ kept: true });
    expect(file.profiles.alice.note).toBe('a');
    expect(file.profiles.alice.latest.primary.usedPercent).toBe(50);
    expect(file.profiles.bob).toMatchObject({ note: 'b', latest: { extra: 'in-snapshot' } });
  });
});
