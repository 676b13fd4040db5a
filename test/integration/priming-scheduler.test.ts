/**
 * The priming scheduler against the fake ChatGPT with scripted unstarted windows, on a real home
 * folder, with an injected clock (timers fire only when the test says; nothing sleeps).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unconstrained } from '../../core/net/workspace-routing.ts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokenManager } from '../../core/auth/token-manager.ts';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { silentLogger } from '../../core/ports.ts';
import {
  PrimingScheduler,
  readPrimingFile,
  type PrimingEvent,
  type PrimingSchedulerOptions,
} from '../../core/priming/scheduler.ts';
import { listClaims, saveClaim, tryClaim } from '../../core/priming/claims.ts';
import { resetSlot } from '../../core/priming/detect.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { HealthStore } from '../../core/state/health-store.ts';
import { startFakeChatGpt, type FakeChatGpt, type RecordedRequest } from '../fakes/fake-chatgpt.ts';
import { addUnstartedAccounts } from '../helpers/fake-windows.ts';
import { seedProfiles, type SeededProfile } from '../helpers/seed-profiles.ts';
import { FakeClock } from '../unit/priming/fake-clock.ts';

const start = Date.UTC(2026, 10, 24, 9, 0, 0);
const minuteMs = 60_000;
const weekMs = 7 * 24 * 60 * minuteMs;

interface Harness {
  fake: FakeChatGpt;
  home: string;
  paths: LabPaths;
  clock: FakeClock;
  store: ProfileStore;
  seeded: SeededProfile[];
  events: PrimingEvent[];
  /** Primes as soon as idle (no spread) unless `options` say otherwise. */
  scheduler(options?: Partial<PrimingSchedulerOptions>): PrimingScheduler;
  primes(): RecordedRequest[];
}

let harness: Harness;

beforeEach(async () => {
  const fake = await startFakeChatGpt();
  fake.setNow(start / 1000);
  addUnstartedAccounts(fake, ['alpha@example.com', 'beta@example.com'], start / 1000);
  const home = await mkdtemp(join(tmpdir(), 'codex-lab-priming-'));
  const seeded = await seedProfiles(fake, home, [
    { name: 'alpha', email: 'alpha@example.com' },
    { name: 'beta', email: 'beta@example.com' },
  ]);
  const clock = new FakeClock(start);
  clock.onChange = (now) => fake.setNow(Math.floor(now / 1000));
  const paths = labPaths(home);
  const store = new ProfileStore({ paths, now: () => clock.now() });
  const events: PrimingEvent[] = [];
  harness = {
    fake,
    home,
    paths,
    clock,
    store,
    seeded,
    events,
    scheduler(options = {}) {
      const health = new HealthStore(paths);
      const tokens = new TokenManager({
        paths,
        store,
        health,
        issuer: fake.issuerUrl,
        clock,
        logger: silentLogger,
      });
      return new PrimingScheduler({
        paths,
        workspaces: { routingFor: () => unconstrained },
        store,
        tokens,
        health,
        clock,
        baseUrl: fake.backendUrl,
        random: () => 0.5,
        // The spread between two homes' priming times has its own tests below.
        spreadMs: 0,
        onEvent: (event) => events.push(event),
        ...options,
      });
    },
    primes: () =>
      fake.requests.filter(
        (request) => request.method === 'POST' && request.path === '/backend-api/codex/responses',
      ),
  };
});

afterEach(async () => {
  await harness.fake.close();
  await rm(harness.home, { recursive: true, force: true });
});

/** One tick, then time moves on by a minute (the detector needs two observations). */
async function tickAndWait(scheduler: PrimingScheduler, ms = minuteMs): Promise<void> {
  await scheduler.tick();
  await scheduler.settled();
  harness.clock.advance(ms);
}

function bearerOf(request: RecordedRequest): string {
  return String(request.headers['authorization']).replace(/^Bearer /, '');
}

describe('priming scheduler', () => {
  it('sends nothing while priming is off (the default)', async () => {
    const scheduler = harness.scheduler();
    for (let index = 0; index < 10; index += 1) await tickAndWait(scheduler, 20 * minuteMs);
    scheduler.start();
    for (let index = 0; index < 20; index += 1) {
      harness.clock.fireNext();
      await scheduler.settled();
    }
    scheduler.stop();
    expect(harness.primes()).toHaveLength(0);
    expect(harness.fake.account('alpha@example.com').secondary?.unstarted).toBe(true);
  });

  it('primes an idle window with a short, uneven period, though the upstream rounds resets to seconds', async () => {
    await harness.store.setPriming('alpha', { enabled: true });
    // A period of 1.1 s (CODEX_LAB_PRIMING_POLL_MS caps the follow-up at it too): looks 5.5 s
    // apart see the idle window's reset move 5 s, which fits "stopped moving" as well.
    const scheduler = harness.scheduler({ pollIntervalMs: 1_100, followUpMs: 1_100 });
    scheduler.start();
    await scheduler.settled();
    for (let index = 0; index < 40 && harness.primes().length === 0; index += 1) {
      harness.clock.fireNext();
      await scheduler.settled();
    }
    scheduler.stop();
    expect(harness.primes()).toHaveLength(1);
    expect(harness.fake.account('alpha@example.com').secondary?.unstarted).toBe(false);
  });

  it('primes each reset of an enabled profile exactly once and leaves the other alone', async () => {
    await harness.store.setPriming('alpha', { enabled: true });
    const scheduler = harness.scheduler();
    for (let index = 0; index < 6; index += 1) await tickAndWait(scheduler);

    expect(harness.primes()).toHaveLength(1);
    const [prime] = harness.primes();
    const alpha = harness.seeded.find((entry) => entry.name === 'alpha')!;
    expect(bearerOf(prime!)).toBe(alpha.accessToken);
    expect(prime!.headers['chatgpt-account-id']).toBe(alpha.accountId);
    const body = JSON.parse(prime!.body) as Record<string, unknown>;
    expect(body).not.toHaveProperty('instructions');
    expect(body).not.toHaveProperty('tools');
    expect(body['stream']).toBe(true);
    expect(body['store']).toBe(false);
    expect(harness.fake.account('alpha@example.com').secondary?.unstarted).toBe(false);
    expect(harness.fake.account('beta@example.com').secondary?.unstarted).toBe(true);

    const outcomes = harness.events.map((event) => event.outcome);
    expect(outcomes).toEqual(['primed', 'confirmed']);
    const file = await readPrimingFile(harness.paths);
    expect(file.profiles['alpha']?.last?.outcome).toBe('confirmed');
    expect(file.profiles['beta']).toBeUndefined();

    // A week later the window resets, goes idle again, and gets exactly one more priming turn.
    harness.clock.advance(weekMs);
    for (let index = 0; index < 6; index += 1) await tickAndWait(scheduler, 10 * minuteMs);
    expect(harness.primes()).toHaveLength(2);
    // The token may have been refreshed in that week: the account header names the profile.
    expect(
      harness
        .primes()
        .every((request) => request.headers['chatgpt-account-id'] === alpha.accountId),
    ).toBe(true);
  });

  it('primes when it looks more often than every 5 s: it keeps the older look until 5 s have passed', async () => {
    await harness.store.setPriming('alpha', { enabled: true });
    const scheduler = harness.scheduler();
    // Looks 2 s apart: no two consecutive ones alone can tell an idle window from a started one.
    for (let index = 0; index < 8; index += 1) await tickAndWait(scheduler, 2_000);
    expect(harness.primes()).toHaveLength(1);
    expect(harness.events.map((event) => event.outcome)).toEqual(['primed', 'confirmed']);
  });

  it('does not prime the same window again after a restart', async () => {
    await harness.store.setPriming('alpha', { enabled: true });
    const first = harness.scheduler({ instanceId: 'first' });
    await tickAndWait(first);
    await tickAndWait(first);
    expect(harness.primes()).toHaveLength(1);
    first.stop();

    // The upstream is slow to show the start: the new process still sees an idle window.
    const window = harness.fake.account('alpha@example.com').secondary!;
    window.unstarted = true;
    window.usedPercent = 0;
    const second = harness.scheduler({ instanceId: 'second' });
    for (let index = 0; index < 4; index += 1) await tickAndWait(second);
    expect(harness.primes()).toHaveLength(1);
    expect(await readdir(harness.paths.primingClaimsDir)).toHaveLength(1);
  });

  it('confirms after a restart from the claim the previous run left', async () => {
    await harness.store.setPriming('alpha', { enabled: true });
    const first = harness.scheduler({ instanceId: 'first' });
    await tickAndWait(first);
    await tickAndWait(first);
    first.stop();
    const second = harness.scheduler({ instanceId: 'second' });
    await tickAndWait(second);
    expect(harness.events.map((event) => event.outcome)).toEqual(['primed', 'confirmed']);
    expect(harness.primes()).toHaveLength(1);
  });

  it('confirms a one-shot priming when the next one-shot finds the window started', async () => {
    const first = harness.scheduler({ instanceId: 'first' });
    expect((await first.primeNow('beta')).outcome).toBe('primed');
    harness.clock.advance(minuteMs);
    const second = harness.scheduler({ instanceId: 'second' });
    // The more informative outcome: the window started, as the earlier priming meant it to.
    const outcome = await second.primeNow('beta');
    expect(outcome.outcome).toBe('confirmed');
    expect(outcome.message).toMatch(/^the weekly window started; it resets at /);
    await second.settled();
    const file = await readPrimingFile(harness.paths);
    expect(file.profiles['beta']?.last?.outcome).toBe('confirmed');
    expect(file.profiles['beta']?.log.map((entry) => entry.outcome)).toEqual([
      'primed',
      'confirmed',
    ]);
    const claims = await listClaims(harness.paths, { profile: 'beta' });
    expect(claims.map((claim) => claim.state)).toEqual(['confirmed']);
    expect(harness.primes()).toHaveLength(1);
    // Nothing of either run may still be writing when the home is removed.
    await first.settled();
    await second.settled();
  });

  it('sends nothing to a limited account on a one-shot prime, as the timer skips it', async () => {
    // Its 5-hour window used up, its weekly window idle: the timer would skip it.
    harness.fake.account('alpha@example.com').primary = {
      usedPercent: 100,
      windowMinutes: 300,
      resetAt: start / 1000 + 3600,
      unstarted: false,
    };
    const scheduler = harness.scheduler();
    const outcome = await scheduler.primeNow('alpha');
    await scheduler.settled();
    expect(outcome.outcome).toBe('skipped');
    expect(outcome.message).toMatch(/^it is at its usage limit/);
    expect(harness.primes()).toHaveLength(0);
  });

  it('does not read the usage of an account its latest figures show limited', async () => {
    await harness.store.setPriming('alpha', { enabled: true });
    const looked: string[] = [];
    const scheduler = harness.scheduler({
      latestQuota: () =>
        ({
          observedAt: harness.clock.now(),
          primary: {
            usedPercent: 100,
            windowMinutes: 300,
            resetsAt: harness.clock.now() + 3_600_000,
          },
          secondary: null,
          limitReached: true,
          others: [],
        }) as never,
      observeUsage: (name) => {
        looked.push(name);
        return Promise.reject(new Error('not expected'));
      },
    });
    for (let index = 0; index < 3; index += 1) await tickAndWait(scheduler);
    expect(looked).toEqual([]);
    expect((await scheduler.primeNow('alpha')).message).toMatch(/^it is at its usage limit/);
    await scheduler.settled();
    expect(looked).toEqual([]);
  });

  it('says a priming waiting to retry is under way, and keeps its failure as the last outcome', async () => {
    harness.fake.account('beta@example.com').failures.push({ kind: 'server_error' });
    const timer = harness.scheduler();
    expect((await timer.primeNow('beta')).outcome).toBe('failed');
    await timer.settled();
    const again = await harness.scheduler({ retryInBackground: false }).primeNow('beta');
    expect(again.outcome).toBe('skipped');
    expect(again.message).toMatch(
      /^a priming of beta is already under way \(retrying after the upstream answered 5\d\d/,
    );
    expect(again.underWay).toBe(true);
    await timer.settled();
    const last = (await readPrimingFile(harness.paths)).profiles['beta']?.last;
    expect(last?.outcome).toBe('failed');
    expect(harness.primes()).toHaveLength(1);
    timer.stop();
  });

  it('hands a refused priming turn (429 usage limit, 401 after a refresh) to the host', async () => {
    harness.fake
      .account('beta@example.com')
      .failures.push({ kind: 'usage_limit', resetsInSeconds: 600 });
    harness.fake
      .account('alpha@example.com')
      .failures.push({ kind: 'unauthorized' }, { kind: 'unauthorized' });
    const refused: Array<[string, number | null, boolean]> = [];
    const scheduler = harness.scheduler({
      retryInBackground: false,
      onTurnRefused: (name, refusal) => {
        refused.push([name, refusal.status, /usage_limit_reached/.test(refusal.body)]);
      },
    });
    expect((await scheduler.primeNow('beta')).outcome).toBe('failed');
    expect((await scheduler.primeNow('alpha')).outcome).toBe('failed');
    await scheduler.settled();
    expect(refused).toEqual([
      ['beta', 429, true],
      ['alpha', 401, false],
    ]);
  });

  it('refreshes the sign-in once when a priming turn is answered 401, and primes', async () => {
    harness.fake.account('beta@example.com').failures.push({ kind: 'unauthorized' });
    const scheduler = harness.scheduler();
    const outcome = await scheduler.primeNow('beta');
    await scheduler.settled();
    expect(outcome.outcome).toBe('primed');
    const [refused, sent] = harness.primes();
    expect(sent).toBeDefined();
    expect(bearerOf(sent!)).not.toBe(bearerOf(refused!));
    expect(harness.fake.account('beta@example.com').secondary?.unstarted).toBe(false);
  });

  it('leaves a window a one-shot could not prime to the next try, whatever the failure', async () => {
    // Refused even with a fresh token: not retried, and nothing was spent.
    harness.fake.account('beta@example.com').stickyFailure = { kind: 'unauthorized' };
    const first = harness.scheduler({ instanceId: 'first', retryInBackground: false });
    expect((await first.primeNow('beta')).outcome).toBe('failed');
    await first.settled();
    // Fixed (signed in again): the next try primes, rather than finding the window claimed.
    harness.fake.account('beta@example.com').stickyFailure = null;
    const second = harness.scheduler({ instanceId: 'second', retryInBackground: false });
    const outcome = await second.primeNow('beta');
    await second.settled();
    expect(outcome.message).not.toMatch(/already claimed/);
    expect(outcome.outcome).toBe('primed');
  });

  it('lets a manual prime retry a window the timer failed to prime, once signed in again', async () => {
    await harness.store.setPriming('alpha', { enabled: true });
    // Refused even with a fresh token: the timer does not retry, and nothing was spent.
    harness.fake.account('alpha@example.com').stickyFailure = { kind: 'unauthorized' };
    const timer = harness.scheduler({ instanceId: 'timer' });
    for (let index = 0; index < 3; index += 1) await tickAndWait(timer);
    expect(harness.events.map((event) => event.outcome)).toContain('failed');
    expect((await listClaims(harness.paths, { profile: 'alpha' })).map((c) => c.state)).toEqual([
      'failed',
    ]);
    const sentBefore = harness.primes().length;
    // Signed in again: the same slot may be primed by hand, in this process or another.
    harness.fake.account('alpha@example.com').stickyFailure = null;
    await new HealthStore(harness.paths).markOk('alpha', harness.clock.now());
    const manual = harness.scheduler({ instanceId: 'manual', retryInBackground: false });
    const outcome = await manual.primeNow('alpha');
    await manual.settled();
    expect(outcome.message).not.toMatch(/already claimed/);
    expect(outcome.outcome).toBe('primed');
    expect(harness.primes()).toHaveLength(sentBefore + 1);
    expect(harness.fake.account('alpha@example.com').secondary?.unstarted).toBe(false);
  });

  it('still lets only one of two manual primes replace a failed claim', async () => {
    harness.fake.account('beta@example.com').stickyFailure = { kind: 'unauthorized' };
    const timer = harness.scheduler({ instanceId: 'timer' });
    expect((await timer.primeNow('beta')).outcome).toBe('failed');
    await timer.settled();
    expect((await listClaims(harness.paths, { profile: 'beta' })).map((c) => c.state)).toEqual([
      'failed',
    ]);
    harness.fake.account('beta@example.com').stickyFailure = null;
    await new HealthStore(harness.paths).markOk('beta', harness.clock.now());
    const sentBefore = harness.primes().length;
    const one = harness.scheduler({ instanceId: 'one', retryInBackground: false });
    const two = harness.scheduler({ instanceId: 'two', retryInBackground: false });
    const outcomes = await Promise.all([one.primeNow('beta'), two.primeNow('beta')]);
    await Promise.all([one.settled(), two.settled()]);
    expect(outcomes.map((outcome) => outcome.outcome).sort()).toEqual(['primed', 'skipped']);
    expect(harness.primes()).toHaveLength(sentBefore + 1);
  });

  it('does not let a manual prime take over a claim a live run holds', async () => {
    const live = await tryClaim(harness.paths, {
      profile: 'beta',
      window: 'weekly',
      slot: resetSlot('weekly', harness.clock.now()),
      owner: 'live',
      now: harness.clock.now() - weekMs,
    });
    await saveClaim(harness.paths, { ...live!, state: 'retrying', message: 'retrying' });
    const manual = harness.scheduler({ instanceId: 'manual', retryInBackground: false });
    const outcome = await manual.primeNow('beta');
    await manual.settled();
    expect(outcome.outcome).toBe('skipped');
    expect(outcome.message).toMatch(/already claimed/);
    expect(harness.primes()).toHaveLength(0);
  });

  it('retries a 500 with growing delays and succeeds on the third attempt', async () => {
    await harness.store.setPriming('alpha', { enabled: true });
    harness.fake
      .account('alpha@example.com')
      .failures.push({ kind: 'server_error' }, { kind: 'server_error' });
    const scheduler = harness.scheduler();
    await tickAndWait(scheduler);
    await scheduler.tick();
    await scheduler.settled();
    expect(harness.primes()).toHaveLength(1);

    const delays: number[] = [];
    for (let index = 0; index < 2; index += 1) {
      const timer = harness.clock.fireNext();
      delays.push(timer!.delayMs);
      await scheduler.settled();
    }
    expect(harness.primes()).toHaveLength(3);
    expect(delays[1]).toBeGreaterThan(delays[0]!);
    expect(harness.clock.pending()).toHaveLength(0);
    expect(harness.events.map((event) => event.outcome)).toEqual(['failed', 'failed', 'primed']);
    expect(harness.fake.account('alpha@example.com').secondary?.unstarted).toBe(false);
  });

  /** Priming on for alpha, whose every priming turn the upstream refuses (400): one sent. */
  async function firstRefusedPrime(): Promise<PrimingScheduler> {
    await harness.store.setPriming('alpha', { enabled: true });
    harness.fake.account('alpha@example.com').stickyFailure = {
      kind: 'bad_request',
      message: 'Unsupported model',
    };
    const scheduler = harness.scheduler();
    await tickAndWait(scheduler);
    await scheduler.tick();
    await scheduler.settled();
    return scheduler;
  }

  it('stops at the bound when the upstream always answers 400 and reports the error', async () => {
    const scheduler = await firstRefusedPrime();
    while (harness.clock.fireNext()) await scheduler.settled();
    expect(harness.primes()).toHaveLength(4);
    const last = harness.events.at(-1)!;
    expect(last.outcome).toBe('failed');
    expect(last.message).toMatch(/gave up after 4 attempts/);
    expect(last.message).toMatch(/400/);
    // Later checks in the same window do not start over.
    for (let index = 0; index < 3; index += 1) await tickAndWait(scheduler);
    expect(harness.primes()).toHaveLength(4);
    const file = await readPrimingFile(harness.paths);
    expect(file.profiles['alpha']?.log.filter((entry) => entry.outcome === 'failed')).toHaveLength(
      4,
    );
  });

  it('sends no planned retry once priming is turned off, and says it skipped it', async () => {
    const scheduler = await firstRefusedPrime();
    expect(harness.primes()).toHaveLength(1);
    // A retry is planned; the user turns priming off before it is due.
    await harness.store.setPriming('alpha', { enabled: false });
    while (harness.clock.fireNext()) await scheduler.settled();
    expect(harness.primes()).toHaveLength(1);
    const last = harness.events.at(-1)!;
    expect(last.outcome).toBe('skipped');
    expect(last.message).toBe('not retried: priming was turned off');
  });

  it('sends one priming request between two schedulers on one home', async () => {
    await harness.store.setPriming('alpha', { enabled: true });
    const one = harness.scheduler({ instanceId: 'one' });
    const two = harness.scheduler({ instanceId: 'two' });
    await Promise.all([one.tick(), two.tick()]);
    harness.clock.advance(minuteMs);
    await Promise.all([one.tick(), two.tick()]);
    await Promise.all([one.settled(), two.settled()]);
    harness.clock.advance(minuteMs);
    await Promise.all([one.tick(), two.tick()]);
    await Promise.all([one.settled(), two.settled()]);
    expect(harness.primes()).toHaveLength(1);
  });

  it('skips a profile that needs to sign in again or serves a live session', async () => {
    await harness.store.setPriming('alpha', { enabled: true });
    await harness.store.setPriming('beta', { enabled: true });
    await new HealthStore(harness.paths).markAuthError(
      'alpha',
      'refresh_token_reused',
      'sign in again',
      start,
    );
    const scheduler = new PrimingScheduler({
      paths: harness.paths,
      workspaces: { routingFor: () => unconstrained },
      store: harness.store,
      tokens: { getCredentials: () => Promise.reject(new Error('not used')) },
      clock: harness.clock,
      observeUsage: () => Promise.reject(new Error('not used')),
      sendPrime: () => Promise.reject(new Error('not used')),
      isServingLiveSession: (name) => name === 'beta',
      onEvent: (event) => harness.events.push(event),
    });
    for (let index = 0; index < 3; index += 1) await tickAndWait(scheduler);
    expect(harness.primes()).toHaveLength(0);
    expect(harness.events).toHaveLength(0);
  });

  it('waits for the chosen local time before priming', async () => {
    await harness.store.setPriming('alpha', { enabled: true, at: '03:30' });
    const scheduler = harness.scheduler();
    scheduler.start();
    await scheduler.settled();
    // Its timers fire until the priming turn; the first looks find the window idle.
    for (let fired = 0; fired < 2000 && harness.primes().length === 0; fired += 1) {
      harness.clock.fireNext();
      await scheduler.settled();
    }
    scheduler.stop();
    expect(harness.primes()).toHaveLength(1);
    const sent = new Date(harness.clock.now());
    expect([sent.getHours(), sent.getMinutes()]).toEqual([3, 30]);
  });

  it('runs on its own timer once started: primes, confirms, then stays quiet until the reset', async () => {
    await harness.store.setPriming('alpha', { enabled: true });
    const scheduler = harness.scheduler();
    scheduler.start();
    await scheduler.settled();
    for (let index = 0; index < 5; index += 1) {
      harness.clock.fireNext();
      await scheduler.settled();
    }
    expect(harness.primes()).toHaveLength(1);
    expect(harness.events.map((event) => event.outcome)).toEqual(['primed', 'confirmed']);
    const usageReads = () =>
      harness.fake.requests.filter((request) => request.path === '/backend-api/wham/usage').length;
    const readsAfterConfirm = usageReads();
    // Many wake-ups later, still within the running window: no upstream call at all.
    for (let index = 0; index < 50; index += 1) {
      harness.clock.fireNext();
      await scheduler.settled();
    }
    expect(usageReads()).toBe(readsAfterConfirm);
    scheduler.stop();
    expect(harness.clock.pending()).toHaveLength(0);
  });
});

/** `at` as a local `HH:MM` (the start is on a whole minute in every zone). */
function localHhMm(at: number): string {
  const date = new Date(at);
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

function usageReads(): number {
  return harness.fake.requests.filter((request) => request.path === '/backend-api/wham/usage')
    .length;
}

describe('priming.at when the wall clock jumps (a suspend, the clock set forward or back)', () => {
  const at = start + 30 * minuteMs;
  // The default 5-minute spread, times the injected random 0.5.
  const sendAt = at + 150_000;

  /** Priming on at `at`; started; its second look found the window idle and waits for `at`. */
  async function waitingForAt(): Promise<PrimingScheduler> {
    await harness.store.setPriming('alpha', { enabled: true, at: localHhMm(at) });
    const scheduler = harness.scheduler({ spreadMs: 5 * minuteMs });
    scheduler.start();
    await scheduler.settled();
    harness.clock.fireNext();
    await scheduler.settled();
    // Waiting for the chosen time reads no usage.
    const reads = usageReads();
    while ((harness.clock.pending()[0]?.dueAt ?? Infinity) < start + 20 * minuteMs) {
      harness.clock.fireNext();
      await scheduler.settled();
    }
    expect(usageReads()).toBe(reads);
    expect(harness.primes()).toHaveLength(0);
    return scheduler;
  }

  it('primes on the first wake-up after an 8-hour suspend, with one usage read', async () => {
    const scheduler = await waitingForAt();
    // Timers keep their remaining delay; the wall clock is 8 hours on (a clock set forward alike).
    harness.clock.jump(8 * 60 * minuteMs);
    const woke = harness.clock.now();
    const reads = usageReads();
    harness.clock.fireNext();
    await scheduler.settled();
    expect(harness.primes()).toHaveLength(1);
    expect(harness.clock.now() - woke).toBeLessThanOrEqual(minuteMs);
    expect(usageReads()).toBe(reads + 1);
    // Confirmed by the follow-up, then quiet: no more looks and no second turn.
    for (let index = 0; index < 120; index += 1) {
      harness.clock.fireNext();
      await scheduler.settled();
    }
    scheduler.stop();
    expect(harness.primes()).toHaveLength(1);
    expect(harness.events.map((event) => event.outcome)).toEqual(['primed', 'confirmed']);
    expect(usageReads()).toBe(reads + 2);
  });

  it('does not prime early when the clock is set back 2 hours, and reads usage once at the time', async () => {
    const scheduler = await waitingForAt();
    harness.clock.jump(-2 * 60 * minuteMs);
    const reads = usageReads();
    for (let fired = 0; fired < 1000 && harness.primes().length === 0; fired += 1) {
      harness.clock.fireNext();
      await scheduler.settled();
    }
    scheduler.stop();
    expect(harness.primes()).toHaveLength(1);
    expect(harness.clock.now()).toBe(sendAt);
    expect(usageReads()).toBe(reads + 1);
  });
});

it('primes at its spread time, though that comes seconds after the look that found it idle', async () => {
  await harness.store.setPriming('alpha', { enabled: true });
  // 1 % of a 5-minute spread: 3 s, too soon after the idle look for a look to tell more.
  const scheduler = harness.scheduler({ spreadMs: 5 * minuteMs, random: () => 0.01 });
  scheduler.start();
  await scheduler.settled();
  harness.clock.fireNext();
  await scheduler.settled();
  expect(harness.primes()).toHaveLength(0);
  harness.clock.fireNext();
  await scheduler.settled();
  scheduler.stop();
  expect(harness.primes()).toHaveLength(1);
  expect(harness.clock.now()).toBe(start + minuteMs + 3_000);
});

describe('one account signed in under two homes, priming on in both', () => {
  const resetAt = start + 60 * minuteMs;
  let second: { home: string; paths: LabPaths; store: ProfileStore; events: PrimingEvent[] };

  beforeEach(async () => {
    const home = await mkdtemp(join(tmpdir(), 'codex-lab-priming-second-'));
    await seedProfiles(harness.fake, home, [{ name: 'alpha', email: 'alpha@example.com' }]);
    const paths = labPaths(home);
    second = {
      home,
      paths,
      store: new ProfileStore({ paths, now: () => harness.clock.now() }),
      events: [],
    };
    // alpha's weekly window runs and resets in an hour; a priming turn shows no whole percent.
    const account = harness.fake.account('alpha@example.com');
    account.usagePerTurn = 0;
    Object.assign(account.secondary!, {
      unstarted: false,
      usedPercent: 10,
      resetAt: resetAt / 1000,
    });
    await harness.store.setPriming('alpha', { enabled: true });
    await second.store.setPriming('alpha', { enabled: true });
  });

  afterEach(async () => {
    await rm(second.home, { recursive: true, force: true });
  });

  /** The second home's scheduler (its own health, tokens and claims). */
  function secondScheduler(options: Partial<PrimingSchedulerOptions>): PrimingScheduler {
    const health = new HealthStore(second.paths);
    return new PrimingScheduler({
      paths: second.paths,
      workspaces: { routingFor: () => unconstrained },
      store: second.store,
      tokens: new TokenManager({
        paths: second.paths,
        store: second.store,
        health,
        issuer: harness.fake.issuerUrl,
        clock: harness.clock,
        logger: silentLogger,
      }),
      health,
      clock: harness.clock,
      baseUrl: harness.fake.backendUrl,
      onEvent: (event) => second.events.push(event),
      ...options,
    });
  }

  /** Both run on their timers until half an hour after the reset. */
  async function runPastReset(one: PrimingScheduler, two: PrimingScheduler): Promise<void> {
    one.start();
    two.start();
    while (harness.clock.now() < resetAt + 30 * minuteMs) {
      harness.clock.fireNext();
      await Promise.all([one.settled(), two.settled()]);
    }
    one.stop();
    two.stop();
  }

  it('sends one priming turn after the reset, though both look at it at once', async () => {
    const one = harness.scheduler({ spreadMs: 5 * minuteMs, random: () => 0.1 });
    const two = secondScheduler({ spreadMs: 5 * minuteMs, random: () => 0.7 });
    await runPastReset(one, two);
    expect(harness.primes()).toHaveLength(1);
    expect(harness.events.map((event) => event.outcome)).toEqual(['primed', 'confirmed']);
    expect(second.events).toEqual([]);
  });

  it('does not retry a failed priming turn once the other home has started the window', async () => {
    harness.fake.account('alpha@example.com').failures.push({ kind: 'server_error' });
    // The first home sends at the reset and meets a 500; the second sends 15 s later.
    const one = harness.scheduler({ spreadMs: 5 * minuteMs, random: () => 0 });
    const two = secondScheduler({ spreadMs: 5 * minuteMs, random: () => 0.05 });
    await runPastReset(one, two);
    expect(harness.primes()).toHaveLength(2);
    expect(second.events.map((event) => event.outcome)).toEqual(['primed', 'confirmed']);
    const outcomes = harness.events.map((event) => [event.outcome, event.message]);
    expect(outcomes[0]?.[0]).toBe('failed');
    expect(outcomes[1]).toEqual([
      'skipped',
      'not retried: the weekly window already started (its countdown is below the full window length)',
    ]);
  });
});
