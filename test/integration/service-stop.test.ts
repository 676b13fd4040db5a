/**
 * What `LabService.stop()` promises: once it returns, the work the service started is over and on
 * disk. A process exits, a test removes the home, the desktop app quits right after it: a refresh
 * still in flight then loses the account's only valid refresh token, and a late write lands in a
 * folder being removed (seen as ENOTEMPTY in teardowns). Each test holds one kind of background
 * work at the fake while the stop is asked for, and checks the stop waits for it and keeps it.
 */
import { readFile, rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { silentLogger } from '../../core/ports.ts';
import { readConfig } from '../../core/config.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { LabService } from '../../core/service/lab-service.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { holdTokenAnswers, refreshLog } from '../fakes/fake-issuer.ts';
import { makeTempHome } from '../helpers/cli.ts';
import { codexTurnBody, createTestLabService, signInProfiles } from '../helpers/lab-service.ts';
import { FakeClock } from '../unit/router/fake-clock.ts';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

async function homeWithAnn(): Promise<{ fake: FakeChatGpt; paths: LabPaths }> {
  const fake = await startFakeChatGpt({
    accounts: [{ email: 'ann@example.com', usagePerTurn: 0 }],
  });
  const home = await makeTempHome('codex-lab-stop-');
  cleanup.push(async () => {
    await fake.close();
    // No retries: a write landing after stop() returned fails the removal (ENOTEMPTY).
    await rm(home, { recursive: true, force: true });
  });
  const paths = labPaths(home);
  await signInProfiles(fake, paths, [['ann@example.com', 'ann']]);
  return { fake, paths };
}

/** Resolves once `condition` holds (checked every 10 ms, for at most 10 s). */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the condition never held');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Starts `service.stop()`; `stopped()` says whether it has returned yet. */
function stopping(service: LabService): { done: Promise<void>; stopped: () => boolean } {
  let stopped = false;
  const done = service.stop().then(() => {
    stopped = true;
  });
  return { done, stopped: () => stopped };
}

const aMoment = () => new Promise((resolve) => setTimeout(resolve, 150));

describe('LabService.stop()', () => {
  it('waits for a refresh a turn started, even once its client went away, and keeps the new token', async () => {
    const { fake, paths } = await homeWithAnn();
    const service = createTestLabService(fake, paths);
    const token = await service.routerToken();
    const { url } = await service.start({ port: 0 });
    // The upstream rejects ann's access token once: the turn refreshes it.
    fake.account('ann@example.com').failures.push({ kind: 'unauthorized' });
    const hold = holdTokenAnswers(fake);
    const client = new AbortController();
    const turn = fetch(`${url}/backend-api/codex/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(codexTurnBody({ session: 'stop-1' })),
      signal: client.signal,
    }).catch(() => undefined);
    // The issuer has rotated ann's refresh token; its answer is held on the way back.
    await hold.arrived;
    client.abort();
    await turn;
    const stop = stopping(service);
    await aMoment();
    expect(stop.stopped()).toBe(false);
    hold.release();
    await stop.done;
    const issued = refreshLog(fake).at(-1)?.issued;
    expect(issued).toBeTruthy();
    const store = new ProfileStore({ paths });
    expect((await store.readAuth('ann')).tokens?.refresh_token).toBe(issued);
  });

  it('waits for a usage poll in flight, and its figures are saved', async () => {
    const { fake, paths } = await homeWithAnn();
    const clock = new FakeClock(Date.now());
    const service = new LabService({
      paths,
      config: readConfig({
        CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
        CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
      }),
      clock,
      logger: silentLogger,
      rendererDir: null,
      usagePollMs: 60_000,
    });
    await service.start({ port: 0 });
    let release = () => {};
    fake.account('ann@example.com').usageHold = new Promise((resolve) => (release = resolve));
    const usageReads = () =>
      fake.requests.filter((request) => request.path === '/backend-api/wham/usage').length;
    // The first poll runs 20 s after the start.
    clock.advance(20_000);
    await until(() => usageReads() === 1);
    const stop = stopping(service);
    await aMoment();
    expect(stop.stopped()).toBe(false);
    release();
    await stop.done;
    const quota = JSON.parse(await readFile(paths.quota, 'utf8')) as {
      profiles: Record<string, { latest?: unknown }>;
    };
    expect(quota.profiles.ann?.latest).toBeTruthy();
  });
});
