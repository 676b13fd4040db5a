/**
 * A priming turn the upstream refuses for its account marks the account as a routed turn's
 * refusal would (`onTurnRefused` → the service's `#primeRefused`): a 429 `usage_limit_reached`
 * limits it until the reset, a per-model 429 limits only that family, and a 401 to a freshly
 * refreshed token counts toward "needs sign-in". The upstream is an injected `fetch`, time a fake
 * clock.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readConfig } from '../../../core/config.ts';
import { labPaths, type LabPaths } from '../../../core/home/paths.ts';
import { silentLogger } from '../../../core/ports.ts';
import type { AuthDotJson } from '../../../core/profiles/schema.ts';
import { ProfileStore } from '../../../core/profiles/store.ts';
import { LabService } from '../../../core/service/lab-service.ts';
import { makeJwt } from '../../fakes/jwt.ts';
import { FakeClock } from '../priming/fake-clock.ts';

const start = Date.UTC(2026, 10, 24, 9, 0, 0);
const week = 7 * 24 * 3600;
const accountId = 'acct-alpha';
const base = 'https://chatgpt.invalid/backend-api';
const issuer = 'https://auth.invalid';

/** What the fake upstream answers a priming turn with (status, JSON body, headers). */
interface TurnAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

let home: string;
let paths: LabPaths;
let clock: FakeClock;
let service: LabService;
let turn: TurnAnswer;
let refreshes: number;

function auth(serial: number): AuthDotJson {
  const seconds = Math.floor(start / 1000);
  const claims = {
    chatgpt_account_id: accountId,
    chatgpt_plan_type: 'plus',
    chatgpt_user_id: 'user-alpha',
  };
  return {
    auth_mode: 'chatgpt',
    OPENAI_API_KEY: null,
    tokens: {
      id_token: makeJwt({
        email: 'alpha@example.com',
        email_verified: true,
        exp: seconds + 3600,
        'https://api.openai.com/auth': { ...claims, organizations: [] },
        'https://api.openai.com/profile': { email: 'alpha@example.com', email_verified: true },
      }),
      access_token: makeJwt({ exp: seconds + 3600, serial, 'https://api.openai.com/auth': claims }),
      refresh_token: `refresh-${serial}`,
      account_id: accountId,
    },
    last_refresh: new Date(start).toISOString(),
  } as AuthDotJson;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** The upstream: an idle weekly window, refreshes that succeed, and the scripted turn answer. */
async function upstream(input: string): Promise<Response> {
  const path = new URL(input).pathname;
  if (path === '/oauth/token') {
    refreshes += 1;
    const fresh = auth(100 + refreshes).tokens!;
    return json(200, {
      id_token: fresh.id_token,
      access_token: fresh.access_token,
      refresh_token: fresh.refresh_token,
    });
  }
  if (path.endsWith('/wham/usage')) {
    const now = Math.floor(clock.now() / 1000);
    return json(200, {
      plan_type: 'plus',
      rate_limit: {
        allowed: true,
        limit_reached: false,
        primary_window: null,
        secondary_window: {
          used_percent: 0,
          limit_window_seconds: week,
          reset_after_seconds: week,
          reset_at: now + week,
        },
      },
    });
  }
  if (path.endsWith('/codex/responses')) return json(turn.status, turn.body, turn.headers);
  return json(404, { error: { message: 'Not found' } });
}

async function alpha() {
  const state = await service.getState();
  return { view: state.profiles.find((profile) => profile.name === 'alpha')!, state };
}

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'codex-lab-prime-refused-'));
  paths = labPaths(home);
  clock = new FakeClock(start);
  refreshes = 0;
  const store = new ProfileStore({ paths, now: () => clock.now() });
  await store.saveSignIn({ auth: auth(1), requestedName: 'alpha' });
  service = new LabService({
    paths,
    config: readConfig({ CODEX_LAB_CHATGPT_BASE_URL: base, CODEX_LAB_AUTH_ISSUER: issuer }),
    clock,
    logger: silentLogger,
    rendererDir: null,
    usagePollMs: 0,
    fetch: (input) => upstream(String(input)),
  });
});

afterEach(async () => {
  await service.stop();
  await rm(home, { recursive: true, force: true });
});

describe('a refused priming turn marks its account', () => {
  it('429 usage_limit_reached: limited until the answer’s reset', async () => {
    const resetsAt = Math.floor(start / 1000) + 3 * 3600;
    turn = {
      status: 429,
      body: {
        error: {
          type: 'usage_limit_reached',
          message: 'The usage limit has been reached',
          resets_at: resetsAt,
        },
      },
    };
    const outcome = await service.primeNow({ profile: 'alpha', dryRun: false });
    expect(outcome.ok).toBe(true);
    const { view } = await alpha();
    expect(view.status).toBe('limited');
    expect(view.unavailableUntil).toBe(new Date(resetsAt * 1000).toISOString());
  });

  it('a per-model 429 limits only that family, not the account', async () => {
    const resetsAt = Math.floor(start / 1000) + 3 * 3600;
    turn = {
      status: 429,
      body: {
        error: {
          type: 'usage_limit_reached',
          message: 'The usage limit has been reached',
          resets_at: resetsAt,
        },
      },
      // As the upstream says it: the family is the active limit, and its own window is full.
      headers: {
        'x-codex-active-limit': 'codex_bengalfox',
        'x-codex-bengalfox-limit-name': 'codex_bengalfox',
        'x-codex-bengalfox-primary-used-percent': '100',
        'x-codex-bengalfox-primary-window-minutes': '300',
        'x-codex-bengalfox-primary-reset-at': String(resetsAt),
      },
    };
    await service.primeNow({ profile: 'alpha', dryRun: false });
    const { view, state } = await alpha();
    expect(view.status).toBe('ok');
    expect(view.unavailableUntil).toBeNull();
    expect(
      state.activity.some(
        (entry) =>
          entry.kind === 'limited' &&
          entry.profile === 'alpha' &&
          /reached its codex_bengalfox limit/.test(entry.message),
      ),
    ).toBe(true);
  });

  it('401 even after a refresh: skipped for a while, and "needs sign-in" after three', async () => {
    turn = {
      status: 401,
      body: {
        error: { message: 'Provided authentication token is expired.', code: 'token_expired' },
      },
    };
    await service.primeNow({ profile: 'alpha', dryRun: false });
    expect(refreshes).toBeGreaterThanOrEqual(1);
    const first = await alpha();
    expect(first.view.status).not.toBe('auth_error');
    expect(first.view.skippedUntil).toBeDefined();
    for (let again = 0; again < 2; again += 1) {
      clock.advance(10 * 60_000);
      await service.primeNow({ profile: 'alpha', dryRun: false });
    }
    expect((await alpha()).view.status).toBe('auth_error');
  });
});
