/** `codex-lab priming on|off NAME` and `codex-lab prime [NAME] [--dry-run]`, as a child process. */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { freePort, makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { addUnstartedAccounts } from '../helpers/fake-windows.ts';
import { seedProfiles, type SeededProfile } from '../helpers/seed-profiles.ts';

let fake: FakeChatGpt;
let home: string;
let seeded: SeededProfile[];

function env(): Record<string, string> {
  return { CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl, CODEX_LAB_AUTH_ISSUER: fake.issuerUrl };
}

function primes() {
  return fake.requests.filter(
    (request) => request.method === 'POST' && request.path === '/backend-api/codex/responses',
  );
}

beforeEach(async () => {
  fake = await startFakeChatGpt();
  addUnstartedAccounts(fake, ['alpha@example.com', 'beta@example.com'], fake.nowSeconds());
  home = await makeTempHome('codex-lab-priming-cli-');
  seeded = await seedProfiles(fake, home, [
    { name: 'alpha', email: 'alpha@example.com' },
    { name: 'beta', email: 'beta@example.com' },
  ]);
});

afterEach(async () => {
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

describe('priming on|off', () => {
  it('turns priming on and off in the registry', async () => {
    const on = await runCodexLab(['priming', 'on', 'alpha'], { home });
    expect(on.code).toBe(0);
    expect(on.stdout).toMatch(/Priming is on for alpha/);
    const registry = JSON.parse(await readFile(join(home, 'auth-profiles.json'), 'utf8'));
    expect(registry.profiles[0].priming.enabled).toBe(true);
    expect(registry.profiles[1].priming.enabled).toBe(false);
    const off = await runCodexLab(['priming', 'off', 'alpha'], { home });
    expect(off.stdout).toMatch(/Priming is off for alpha/);
  });

  it('explains a state other than on/off and an unknown profile', async () => {
    const bad = await runCodexLab(['priming', 'maybe', 'alpha'], { home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"on" or "off"/);
    const ghost = await runCodexLab(['priming', 'on', 'ghost'], { home });
    expect(ghost.code).toBe(2);
    expect(ghost.stderr).toMatch(/ghost/);
  });
});

describe('priming.at in the registry', () => {
  async function setPriming(priming: Record<string, unknown>): Promise<void> {
    const file = join(home, 'auth-profiles.json');
    const registry = JSON.parse(await readFile(file, 'utf8'));
    registry.profiles[0].priming = priming;
    await writeFile(file, JSON.stringify(registry));
  }

  it('says when an HH:MM priming time is, and that plural windows get a turn', async () => {
    await setPriming({ enabled: false, windows: ['weekly', 'five_hour'], at: '07:05' });
    const on = await runCodexLab(['priming', 'on', 'alpha'], { home });
    expect(on.stderr).toBe('');
    expect(on.code).toBe(0);
    expect(on.stdout).toContain(
      'its idle weekly and 5-hour windows get one tiny turn at 07:05 local time after each reset',
    );
  });

  it.each(['25:99', '7:5', 'noon'])(
    'refuses %j, naming the file, as a bad windows value is',
    async (at) => {
      await setPriming({ enabled: false, windows: ['weekly'], at });
      const on = await runCodexLab(['priming', 'on', 'alpha'], { home });
      expect(on.code).toBe(1);
      expect(on.stdout).toBe('');
      expect(on.stderr).toContain(join(home, 'auth-profiles.json'));
      expect(on.stderr).toMatch(/at profiles\.0\.priming\.at \(.*HH:MM.*\)/);
      expect(on.stderr.trim().split('\n')).toHaveLength(1);
    },
  );
});

describe('prime', () => {
  it('--dry-run prints the exact request with secrets redacted and sends nothing', async () => {
    const run = await runCodexLab(['prime', 'alpha', '--dry-run'], { home, env: env() });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`POST ${fake.backendUrl}/codex/responses`);
    expect(run.stdout).toContain('authorization: Bearer <redacted>');
    expect(run.stdout).toContain('chatgpt-account-id: <redacted>');
    expect(run.stdout).toContain('"stream": true');
    expect(run.stdout).not.toContain('"instructions"');
    for (const profile of seeded) {
      for (const secret of [
        profile.accessToken,
        profile.refreshToken,
        profile.idToken,
        profile.accountId,
      ]) {
        expect(run.stdout + run.stderr).not.toContain(secret);
      }
    }
    // Only the account check, which says where priming's request would go (its workspace).
    expect(
      fake.requests
        .filter((request) => request.path.startsWith('/backend-api'))
        .map((request) => `${request.method} ${request.path}`),
    ).toEqual(['GET /backend-api/wham/accounts/check']);
  });

  it('--dry-run of an account that needs a new sign-in says so, as prime would, and shows no request', async () => {
    const { HealthStore } = await import('../../core/state/health-store.ts');
    const { labPaths } = await import('../../core/home/paths.ts');
    await new HealthStore(labPaths(home)).markAuthError(
      'alpha',
      'refresh_failed',
      'refused',
      Date.now(),
    );
    const run = await runCodexLab(['prime', 'alpha', '--dry-run'], { home, env: env() });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      'alpha: it needs to sign in again, so prime would send nothing; run codex-lab login alpha first.\n',
    );
    // Not even the account check, nor a token refresh.
    expect(fake.requests.filter((request) => request.path.startsWith('/backend-api'))).toEqual([]);
    expect(primes()).toHaveLength(0);
  });

  it('--dry-run says so on stderr when the account’s workspace cannot be read, and shows the request to the configured backend', async () => {
    // An origin the router would never send a token to: the workspace is unreadable.
    fake.account('alpha@example.com').workspace = { origin: 'ftp://nowhere.example' };
    const run = await runCodexLab(['prime', 'alpha', '--dry-run'], { home, env: env() });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`POST ${fake.backendUrl}/codex/responses`);
    expect(run.stdout).not.toContain('nowhere.example');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(
      /^codex-lab: Could not read alpha's workspace \(.*the workspace origin.*\), so the request below goes to the configured backend, as priming's would\.\n$/,
    );
    expect(primes()).toHaveLength(0);
  });

  it('--dry-run names a backend it cannot reach and why, in one codex-lab sentence, not an error class', async () => {
    // Nothing listens there: the workspace check fails on the network (fetch's TypeError, whose
    // cause is the socket's error).
    const port = await freePort();
    const run = await runCodexLab(['prime', 'alpha', '--dry-run'], {
      home,
      env: { ...env(), CODEX_LAB_CHATGPT_BASE_URL: `http://127.0.0.1:${port}/backend-api` },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`POST http://127.0.0.1:${port}/backend-api/codex/responses`);
    expect(run.stderr).not.toContain('TypeError');
    expect(run.stderr).toBe(
      `codex-lab: Could not read alpha's workspace (could not reach 127.0.0.1:${port} (ECONNREFUSED)), so the request below goes to the configured backend, as priming's would.\n`,
    );
  });

  it('without a name primes nothing while no profile has priming on', async () => {
    const run = await runCodexLab(['prime'], { home, env: env() });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/No profile has priming on/);
    expect(primes()).toHaveLength(0);
  });

  it('primes a named idle profile once, and not again for the same window', async () => {
    const run = await runCodexLab(['prime', 'alpha'], { home, env: env() });
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/alpha \(weekly\): primed/);
    expect(run.code).toBe(0);
    expect(primes()).toHaveLength(1);
    expect(fake.account('alpha@example.com').secondary?.unstarted).toBe(false);
    expect(fake.account('beta@example.com').secondary?.unstarted).toBe(true);
    const again = await runCodexLab(['prime', 'alpha'], { home, env: env() });
    // The second run finds the window started: it confirms the first run's priming, and keeps
    // that (more informative) outcome rather than a "skipped" after it.
    expect(again.stdout).toMatch(/^alpha \(weekly\): confirmed — the weekly window started/m);
    expect(again.code).toBe(0);
    expect(primes()).toHaveLength(1);
    const state = JSON.parse(await readFile(join(home, 'state', 'priming.json'), 'utf8'));
    expect(state.profiles.alpha.last.outcome).toBe('confirmed');
    expect(state.profiles.alpha.log[0].outcome).toBe('primed');
  });

  it('records the usage it read in state/quota.json, as any usage read is, with no router running', async () => {
    // The fake's time held still: an idle window's reset moves with each second, so a read and a
    // priming turn a second boundary apart would see two resets (a flake, not a finding).
    fake.setNow(fake.nowSeconds());
    const run = await runCodexLab(['prime', 'alpha'], { home, env: env() });
    expect(run.code).toBe(0);
    const quota = JSON.parse(await readFile(join(home, 'state', 'quota.json'), 'utf8')) as {
      profiles: Record<string, { latest: { secondary: { resetsAt: number } | null } | null }>;
    };
    const window = fake.account('alpha@example.com').secondary!;
    expect(quota.profiles['alpha']?.latest?.secondary?.resetsAt).toBe(window.resetAt * 1000);
  });

  it('exits non-zero, saying so, when priming.json is corrupt and the outcome cannot be recorded', async () => {
    const file = join(home, 'state', 'priming.json');
    await mkdir(join(home, 'state'), { recursive: true, mode: 0o700 });
    await writeFile(file, '{ not json', { mode: 0o600 });
    const run = await runCodexLab(['prime', 'alpha'], { home, env: env() });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      `codex-lab: alpha (weekly): primed, but the outcome could not be recorded: ${file} is not valid JSON. It was left untouched: fix or move it, then try again.`,
    );
    expect(await readFile(file, 'utf8')).toBe('{ not json');
  });

  it('says when a window was already primed as people read times', async () => {
    expect((await runCodexLab(['prime', 'alpha'], { home, env: env() })).code).toBe(0);
    // The upstream still reports the window idle: the claim of a moment ago is what stops it.
    Object.assign(fake.account('alpha@example.com').secondary!, {
      unstarted: true,
      usedPercent: 0,
    });
    const again = await runCodexLab(['prime', 'alpha'], { home, env: env() });
    expect(again.stdout).toMatch(
      /^alpha \(weekly\): skipped — already primed at \d{2}:\d{2} \(just now\) \(\w+\)$/m,
    );
    expect(again.stdout).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
    expect(primes()).toHaveLength(1);
  });
});
