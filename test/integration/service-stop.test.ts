/**
 * What `LabService.stop()` promises: once it returns, the work the service started is over and on
 * disk. A process exits, a test removes the home, the desktop app quits right after it: a refresh
 * still in flight then loses the account's only valid refresh token, and a late write lands in a
 * folder being removed (seen as ENOTEMPTY in teardowns). Each test holds one kind of background
 * work at the fake while the stop is asked for: a token refresh is waited for and kept; an
 * outbound read or turn the service sent on its own behalf (a usage read, a priming turn) is
 * cancelled at once, and what sent it writes nothing after the stop returns.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import type { FakeAccountInit } from '../fakes/accounts.ts';
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
import { unstartedWeekly } from '../helpers/fake-windows.ts';
import { FakeClock } from '../unit/router/fake-clock.ts';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

async function homeWithAnn(
  ann: Partial<FakeAccountInit> = {},
): Promise<{ fake: FakeChatGpt; paths: LabPaths }> {
  const fake = await startFakeChatGpt({
    accounts: [{ email: 'ann@example.com', usagePerTurn: 0, ...ann }],
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

/** Resolves once `stop` has returned, or after 10 s (far below the router's 45 s handler bound). */
async function returnsSoon(stop: { done: Promise<void> }): Promise<void> {
  await Promise.race([stop.done, new Promise((resolve) => setTimeout(resolve, 10_000))]);
}

/** A file's text, or null when it is not there. */
function textOf(path: string): Promise<string | null> {
  return readFile(path, 'utf8').catch(() => null);
}

/** Requests the fake received on `path`. */
function received(fake: FakeChatGpt, path: string): number {
  return fake.requests.filter((request) => request.path === path).length;
}

/** Calls one control-API operation; resolves with its answer's body, or null without one. */
function control(
  url: string,
  token: string,
  operation: string,
  input: object,
): Promise<{ ok: boolean; code?: string } | null> {
  return fetch(`${url}/lab/v1/${operation}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  })
    .then((response) => response.json() as Promise<{ ok: boolean; code?: string }>)
    .catch(() => null);
}

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

  it('cancels a usage poll in flight at once, and nothing is written after it returns', async () => {
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
    // The first poll runs 20 s after the start.
    clock.advance(20_000);
    await until(() => received(fake, '/backend-api/wham/usage') === 1);
    const stop = stopping(service);
    await returnsSoon(stop);
    expect(stop.stopped()).toBe(true);
    const quota = await textOf(paths.quota);
    release();
    await aMoment();
    expect(await textOf(paths.quota)).toBe(quota);
  });

  it('cancels a prime-now whose turn the backend holds: the stop returns at once and nothing is written after', async () => {
    const { fake, paths } = await homeWithAnn({
      primary: null,
      secondary: unstartedWeekly(Math.floor(Date.now() / 1000)),
    });
    const service = createTestLabService(fake, paths);
    const token = await service.routerToken();
    const { url } = await service.start({ port: 0 });
    let release = () => {};
    fake.account('ann@example.com').turnHold = new Promise((resolve) => (release = resolve));
    const answer = control(url, token, 'primeNow', { profile: 'ann' });
    await until(() => received(fake, '/backend-api/codex/responses') === 1);
    const stop = stopping(service);
    await returnsSoon(stop);
    // Returned while the backend still holds the turn.
    expect(stop.stopped()).toBe(true);
    const priming = await textOf(paths.priming);
    // The claim on the window went back (before the stop returned): a later run may prime it.
    expect(await readdir(paths.primingClaimsDir)).toEqual([]);
    release();
    // The stop closes the connection at once (no drain asked for); an answer, if any, is this.
    expect([null, 'cancelled']).toContain((await answer)?.code ?? null);
    await aMoment();
    expect(await textOf(paths.priming)).toBe(priming);
  });

  it('cancels a usage refresh whose reads the backend holds: the stop returns at once and nothing is written after', async () => {
    const { fake, paths } = await homeWithAnn();
    const service = createTestLabService(fake, paths);
    await service.start({ port: 0 });
    let release = () => {};
    fake.account('ann@example.com').usageHold = new Promise((resolve) => (release = resolve));
    // Through the service's operations, as the desktop app calls them: the value is seen.
    const answer = service.refreshUsage({ profile: null });
    await until(() => received(fake, '/backend-api/wham/usage') === 1);
    const stop = stopping(service);
    await returnsSoon(stop);
    expect(stop.stopped()).toBe(true);
    const quota = await textOf(paths.quota);
    const health = await textOf(paths.health);
    // Cancelled, an expected failure, not a throw: the read was ended, not failed upstream.
    expect(await answer).toMatchObject({ ok: false, code: 'cancelled' });
    release();
    await aMoment();
    expect(await textOf(paths.quota)).toBe(quota);
    expect(await textOf(paths.health)).toBe(health);
  });
});
