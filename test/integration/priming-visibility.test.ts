/**
 * Audit of the priming issue: the gaps the scheduler and CLI tests leave open. The real
 * `LabService` (the code `codex-lab serve` runs) on an injected clock against the fake ChatGPT:
 * off by default means no priming request at all; every attempt, failed ones included, shows in
 * the activity log and the control API. Also: a limited profile is skipped, and `prime --dry-run`
 * prints exactly the request `prime` then sends.
 */
import { unconstrained } from '../../core/net/workspace-routing.ts';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../../core/config.ts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { silentLogger } from '../../core/ports.ts';
import { PrimingScheduler } from '../../core/priming/scheduler.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { LabService } from '../../core/service/lab-service.ts';
import { HealthStore } from '../../core/state/health-store.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { runCodexLab } from '../helpers/cli.ts';
import { addUnstartedAccounts } from '../helpers/fake-windows.ts';
import { seedProfiles, type SeededProfile } from '../helpers/seed-profiles.ts';
import { fireUntil as fireTimersUntil, until } from '../helpers/service-timers.ts';
import { FakeClock } from '../unit/priming/fake-clock.ts';

const start = Date.UTC(2026, 10, 24, 9, 0, 0);
const minuteMs = 60_000;

let fake: FakeChatGpt;
let home: string;
let paths: LabPaths;
let clock: FakeClock;
let seeded: SeededProfile[];
let service: LabService | undefined;

beforeEach(async () => {
  fake = await startFakeChatGpt();
  fake.setNow(start / 1000);
  addUnstartedAccounts(fake, ['alpha@example.com', 'beta@example.com'], start / 1000);
  home = await mkdtemp(join(tmpdir(), 'codex-lab-priming-visibility-'));
  seeded = await seedProfiles(fake, home, [
    { name: 'alpha', email: 'alpha@example.com' },
    { name: 'beta', email: 'beta@example.com' },
  ]);
  paths = labPaths(home);
  clock = new FakeClock(start);
  clock.onChange = (now) => fake.setNow(Math.floor(now / 1000));
});

afterEach(async () => {
  await service?.stop();
  service = undefined;
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

function primes() {
  return fake.requests.filter(
    (request) => request.method === 'POST' && request.path === '/backend-api/codex/responses',
  );
}

function env(): Record<string, string> {
  return { CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl, CODEX_LAB_AUTH_ISSUER: fake.issuerUrl };
}

async function startService(): Promise<{ url: string; token: string }> {
  service = new LabService({
    paths,
    config: readConfig(env()),
    clock,
    logger: silentLogger,
    rendererDir: null,
    // Usage polling off: only priming may talk to the upstream in these tests.
    usagePollMs: 0,
    primingPollMs: minuteMs,
  });
  const { url } = await service.start({ port: 0 });
  return { url, token: await service.routerToken() };
}

/** Fires the service's injected-clock timers until `condition` holds (or `limit` fired). */
function fireUntil(condition: () => boolean | Promise<boolean>, limit = 40): Promise<number> {
  return fireTimersUntil(clock, service, condition, limit);
}

async function getJson(url: string, token: string): Promise<unknown> {
  const answer = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  expect(answer.status).toBe(200);
  return answer.json();
}

describe('priming through the service that serve runs', () => {
  it('a freshly stored profile has priming off, and then the upstream gets no priming request', async () => {
    const store = new ProfileStore({ paths, now: () => clock.now() });
    // The registry's schema default, not just what the seed helper wrote.
    const registry = JSON.parse(await readFile(paths.registry, 'utf8')) as {
      profiles: Array<Record<string, unknown>>;
    };
    for (const profile of registry.profiles) delete profile['priming'];
    await (
      await import('node:fs/promises')
    ).writeFile(paths.registry, JSON.stringify(registry), { mode: 0o600 });
    expect((await store.listProfiles()).map((profile) => profile.priming.enabled)).toEqual([
      false,
      false,
    ]);

    await startService();
    let fired = 0;
    // A simulated day of timer wake-ups (the priming timer included, every minute).
    while (fired < 60 && clock.now() < start + 24 * 60 * minuteMs) {
      if (!(await until(() => clock.pending().length > 0, 500))) break;
      clock.fireNext();
      fired += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(fired).toBeGreaterThan(10);
    expect(clock.now()).toBeGreaterThan(start + 10 * minuteMs);
    expect(primes()).toHaveLength(0);
    expect(fake.requests.filter((request) => request.path.startsWith('/backend-api'))).toEqual([]);
    expect(fake.account('alpha@example.com').secondary?.unstarted).toBe(true);
  });

  it('shows every attempt (500, 500, then success) in the activity log and the control API', async () => {
    await new ProfileStore({ paths, now: () => clock.now() }).setPriming('alpha', {
      enabled: true,
    });
    fake
      .account('alpha@example.com')
      .failures.push({ kind: 'server_error' }, { kind: 'server_error' });
    const { url, token } = await startService();

    await fireUntil(
      () => primes().length === 3 && !fake.account('alpha@example.com').secondary!.unstarted,
    );
    expect(primes()).toHaveLength(3);
    const confirmed = async () =>
      (await service!.getState()).activity.some(
        (entry) => entry.kind === 'prime' && /confirmed/.test(entry.message),
      );
    await fireUntil(confirmed);

    const state = (await getJson(`${url}/lab/v1/state`, token)) as {
      activity: Array<{ kind: string; profile: string | null; message: string }>;
    };
    const lines = state.activity.filter((entry) => entry.kind === 'prime');
    const attempts = lines.filter((entry) => /attempt \d of \d/.test(entry.message));
    expect(attempts.map((entry) => /attempt (\d) of/.exec(entry.message)![1])).toEqual([
      '1',
      '2',
      '3',
    ]);
    expect(attempts[0]!.message).toMatch(/failed: .*500.*retrying in/);
    expect(attempts[1]!.message).toMatch(/failed: .*500.*retrying in/);
    expect(attempts[2]!.message).toMatch(/sent a priming turn/);
    expect(lines.every((entry) => entry.profile === 'alpha')).toBe(true);
    expect(lines.some((entry) => /confirmed/.test(entry.message))).toBe(true);

    const priming = (await getJson(`${url}/lab/v1/priming`, token)) as unknown;
    const text = JSON.stringify(priming);
    expect(text).toContain('"alpha"');
    expect(text).toMatch(/"outcome":"(primed|confirmed)"/);
    const events = (await getJson(`${url}/lab/v1/activity`, token)) as unknown;
    expect(JSON.stringify(events).match(/attempt \d of \d/g)).toHaveLength(3);
    for (const profile of seeded) {
      for (const secret of [profile.accessToken, profile.refreshToken, profile.idToken]) {
        expect(JSON.stringify(state) + text).not.toContain(secret);
      }
    }
  });
});

describe("priming's usage reads reach the quota display", () => {
  it('after a window is primed, the card shows the figures priming read, and keeps reset credits', async () => {
    await new ProfileStore({ paths, now: () => clock.now() }).setPriming('alpha', {
      enabled: true,
    });
    const credit = (id: string) => ({
      id,
      resetType: 'codex_rate_limits',
      status: 'available',
      grantedAt: start / 1000,
      expiresAt: null,
      title: null,
    });
    fake.account('alpha@example.com').resetCredits = [credit('one'), credit('two')];
    await startService();
    // A usage refresh before priming: the card knows the account's reset credits.
    expect((await service!.refreshUsage({ profile: 'alpha' })).ok).toBe(true);
    const before = (await service!.getState()).profiles.find((p) => p.name === 'alpha')!;
    expect(before.resetCredits?.available).toBe(2);
    expect(before.quota.secondary?.usedPercent).toBe(0);

    const confirmed = async () =>
      (await service!.getState()).activity.some(
        (entry) => entry.kind === 'prime' && /confirmed/.test(entry.message),
      );
    await fireUntil(confirmed);
    expect(primes()).toHaveLength(1);

    const alpha = (await service!.getState()).profiles.find((p) => p.name === 'alpha')!;
    const window = fake.account('alpha@example.com').secondary!;
    // The card's weekly window is the started one priming saw, not the idle one read before.
    expect(window.unstarted).toBeFalsy();
    expect(alpha.quota.secondary?.resetsAt).toBe(new Date(window.resetAt * 1000).toISOString());
    expect(alpha.quota.secondary?.usedPercent).toBe(window.usedPercent);
    // Priming reads the windows only: what the card knew of reset credits stays.
    expect(alpha.resetCredits?.available).toBe(2);
  });
});

describe('priming skips', () => {
  it('skips a limited profile: no usage read, no priming turn, no event', async () => {
    const store = new ProfileStore({ paths, now: () => clock.now() });
    await store.setPriming('alpha', { enabled: true });
    await new HealthStore(paths).markLimited('alpha', start + 60 * minuteMs, 'limit', start);
    const seen: string[] = [];
    const scheduler = new PrimingScheduler({
      paths,
      store,
      tokens: { getCredentials: () => Promise.reject(new Error('must not be asked')) },
      workspaces: { routingFor: () => unconstrained },
      clock,
      observeUsage: (name) => {
        seen.push(`usage ${name}`);
        return Promise.reject(new Error('must not be asked'));
      },
      sendPrime: () => {
        seen.push('prime');
        return Promise.reject(new Error('must not be sent'));
      },
      onEvent: (event) => seen.push(`event ${event.outcome}`),
    });
    for (let index = 0; index < 3; index += 1) {
      await scheduler.tick();
      await scheduler.settled();
      clock.advance(minuteMs);
    }
    expect(seen).toEqual([]);
    // Once the limit is over, the same profile is observed again (the skip is not permanent).
    clock.advance(2 * 60 * minuteMs);
    await scheduler.tick();
    await scheduler.settled();
    expect(seen).toEqual(['usage alpha']);
  });
});

describe('prime --dry-run', () => {
  for (const residency of [false, true]) {
    it(`prints exactly the request that prime then sends, secrets redacted (${residency ? 'a residency workspace: its override' : 'a personal account'})`, async () => {
      // The CLI runs on the real clock: so does the fake here, with a freshly idle window.
      fake.setNow(null);
      const account = fake.account('alpha@example.com');
      account.secondary!.resetAt = fake.nowSeconds() + 10080 * 60;
      if (residency) account.workspace = { routingOverride: 'us' };
      const dry = await runCodexLab(['prime', 'alpha', '--dry-run'], { home, env: env() });
      expect(dry.code).toBe(0);
      const text = dry.stdout;
      expect(text).toContain(`POST ${fake.backendUrl}/codex/responses`);
      const jsonStart = text.indexOf('\n{');
      expect(jsonStart).toBeGreaterThan(0);
      const printedBody = JSON.parse(text.slice(jsonStart, text.lastIndexOf('}') + 1)) as unknown;
      const printedHeaders = new Map(
        text
          .slice(0, jsonStart)
          .split('\n')
          .filter((line) => /^[a-z-]+: /.test(line))
          .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
      );
      expect(primes()).toHaveLength(0);

      const real = await runCodexLab(['prime', 'alpha'], { home, env: env() });
      expect(real.code).toBe(0);
      expect(primes()).toHaveLength(1);
      const sent = primes()[0]!;
      expect(JSON.parse(sent.body)).toEqual(printedBody);
      expect(printedBody).not.toHaveProperty('max_output_tokens');
      for (const [name, value] of printedHeaders) {
        if (name === 'authorization') {
          expect(value).toBe('Bearer <redacted>');
          expect(String(sent.headers['authorization'])).toMatch(/^Bearer \S+/);
        } else if (name === 'chatgpt-account-id') {
          expect(value).toBe('<redacted>');
        } else {
          expect(sent.headers[name], name).toBe(value);
        }
      }
      for (const name of ['originator', 'user-agent', 'accept', 'content-type']) {
        expect(printedHeaders.has(name), name).toBe(true);
      }
      // The account's residency override is part of the request, printed as sent.
      expect(printedHeaders.get('x-openai-account-routing-override')).toBe(
        residency ? 'us' : undefined,
      );
      expect(sent.headers['x-openai-account-routing-override']).toBe(residency ? 'us' : undefined);
    });
  }
});
