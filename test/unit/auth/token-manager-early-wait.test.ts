/**
 * The brief wait for an early refresh (the access token still valid, inside the margin), on the
 * injected clock: a refresh that is merely slow is no failure (nothing warned, the current token
 * goes out), and a token that expires during that wait is an expired token: the caller joins the
 * refresh already running for as long as it would for one expired before, instead of being told
 * the issuer is slow and moving the session to another account.
 */
import { describe, expect, it } from 'vitest';
import { TokenManager, type TokenStore } from '../../../core/auth/token-manager.ts';
import { labPaths } from '../../../core/home/paths.ts';
import type { Logger } from '../../../core/ports.ts';
import type { AuthDotJson } from '../../../core/profiles/schema.ts';
import { HealthStore } from '../../../core/state/health-store.ts';
import { makeJwt } from '../../fakes/jwt.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';
import { FakeClock } from '../router/fake-clock.ts';

const start = Date.UTC(2026, 0, 5, 12, 0, 0);
const minute = 60_000;

/** An auth file whose access token expires at `expiresAt` (ms), with refresh token `refresh`. */
function authExpiring(expiresAt: number, refresh: string): AuthDotJson {
  return {
    auth_mode: 'chatgpt',
    OPENAI_API_KEY: null,
    tokens: {
      id_token: makeJwt({ email: 'alice@example.com' }),
      access_token: makeJwt({ exp: Math.floor(expiresAt / 1000), marker: refresh }),
      refresh_token: refresh,
      account_id: 'acct-alice',
    },
    last_refresh: new Date(start).toISOString(),
  };
}

/** A logger keeping `level message` lines. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const make = (): Logger => ({
    debug: (_fields, message) => lines.push(`debug ${message}`),
    info: (_fields, message) => lines.push(`info ${message}`),
    warn: (_fields, message) => lines.push(`warn ${message}`),
    error: (_fields, message) => lines.push(`error ${message}`),
    child: () => make(),
  });
  return Object.assign(make(), { lines });
}

/** Lets promise callbacks and file work (the lock's folder) run; the clock does not move. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** Lets file work run until `ready` holds (the refresh's request is out, say). */
async function until(ready: () => boolean): Promise<void> {
  for (let turn = 0; turn < 500 && !ready(); turn += 1) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  expect(ready()).toBe(true);
}

/**
 * A token manager for alice, whose access token expires `expiresIn` ms from now, against an
 * issuer whose answer the test sends with `answer()`.
 */
function world(expiresIn: number) {
  const clock = new FakeClock(start);
  const paths = labPaths(tempFolder('codex-lab-early-wait-'));
  let auth = authExpiring(start + expiresIn, 'rt-1');
  const store: TokenStore = {
    getProfile: () => Promise.resolve({ accountId: 'acct-alice', email: 'alice@example.com' }),
    readAuth: () => Promise.resolve(auth),
    writeAuth: (_name, next) => {
      auth = next;
      return Promise.resolve();
    },
  };
  let send: (() => void) | null = null;
  let asked = 0;
  const fetch = () => {
    asked += 1;
    return new Promise<Response>((resolve) => {
      send = () =>
        resolve(
          new Response(
            JSON.stringify({
              access_token: makeJwt({ exp: Math.floor((clock.now() + 60 * minute) / 1000) }),
              refresh_token: 'rt-2',
            }),
            { status: 200, headers: { 'content-type': 'application/json' } },
          ),
        );
    });
  };
  const logger = recordingLogger();
  const tokens = new TokenManager({
    paths,
    store,
    health: new HealthStore(paths),
    issuer: 'https://issuer.invalid',
    clock,
    logger,
    fetch,
    requestTimeoutMs: 30_000,
    earlyRefreshWaitMs: 2_000,
  });
  return {
    clock,
    logger,
    tokens,
    current: () => auth,
    asked: () => asked,
    /** Sends the issuer's answer (once the request is out). */
    answer: () => send?.(),
  };
}

/** Settles `promise` into a value the test can look at without awaiting it. */
function watch<T>(promise: Promise<T>) {
  const seen: { value?: T; error?: unknown; done: boolean } = { done: false };
  promise.then(
    (value) => Object.assign(seen, { value, done: true }),
    (error: unknown) => Object.assign(seen, { error, done: true }),
  );
  return seen;
}

describe('an early refresh that outlasts its brief wait', () => {
  it('hands out the still-valid token and warns of nothing', async () => {
    const w = world(4 * minute);
    const before = w.current().tokens!.access_token;
    const call = watch(w.tokens.getCredentials('alice'));
    await until(() => w.asked() === 1);
    expect(w.asked()).toBe(1);
    w.clock.advance(2_000);
    await settle();
    expect(call.done).toBe(true);
    expect(call.value?.accessToken).toBe(before);
    expect(w.logger.lines.filter((line) => line.startsWith('warn'))).toEqual([]);
    // The refresh goes on and lands on disk; `settled` waits for it.
    const settled = watch(w.tokens.settled());
    await settle();
    expect(settled.done).toBe(false);
    w.answer();
    await w.tokens.settled();
    expect(w.current().tokens!.refresh_token).toBe('rt-2');
  });

  it('joins the running refresh when the token expires during the wait, and gets the new token', async () => {
    // The token expires one second into the two-second early wait.
    const w = world(1_000);
    const call = watch(w.tokens.getCredentials('alice'));
    await until(() => w.asked() === 1);
    w.clock.advance(2_000);
    await settle();
    // Not "the issuer has not answered within 2 s": it waits on, as for an expired token.
    expect(call.error).toBeUndefined();
    expect(call.done).toBe(false);
    w.clock.advance(10_000);
    await settle();
    expect(call.done).toBe(false);
    w.answer();
    await until(() => call.done);
    expect(call.value?.accessToken).toBe(w.current().tokens!.access_token);
    expect(w.current().tokens!.refresh_token).toBe('rt-2');
    // One refresh in all: the caller joined it, never started a second.
    expect(w.asked()).toBe(1);
  });

  it('says the issuer is slow once the long wait for an expired token has passed too', async () => {
    const w = world(1_000);
    const call = watch(w.tokens.getCredentials('alice'));
    await until(() => w.asked() === 1);
    w.clock.advance(2_000);
    await settle();
    w.clock.advance(30_000);
    await settle();
    expect(call.done).toBe(true);
    expect((call.error as { code?: string }).code).toBe('refresh_transient');
    expect((call.error as Error).message).toContain('within 30 s');
    w.answer();
    await w.tokens.settled();
  });

  it('still warns when the early refresh failed and the current token is used', async () => {
    const w = world(4 * minute);
    const failing = new TokenManager({
      paths: labPaths(tempFolder('codex-lab-early-fail-')),
      store: {
        getProfile: () => Promise.resolve({}),
        readAuth: () => Promise.resolve(w.current()),
        writeAuth: () => Promise.resolve(),
      },
      health: new HealthStore(labPaths(tempFolder('codex-lab-early-fail-health-'))),
      issuer: 'https://issuer.invalid',
      clock: w.clock,
      logger: w.logger,
      fetch: () => Promise.resolve(new Response('busy', { status: 503 })),
      earlyRefreshWaitMs: 2_000,
    });
    const credentials = await failing.getCredentials('alice');
    expect(credentials.accessToken).toBe(w.current().tokens!.access_token);
    expect(w.logger.lines).toContain('warn early refresh failed; using the current token');
  });
});
