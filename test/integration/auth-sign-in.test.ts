/** Browser sign-in through the fake issuer, following the real redirects (startLogin). */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLogin, type StartLoginOptions } from '../../core/auth/browser-login.ts';
import { startDeviceLogin } from '../../core/auth/device-login.ts';
import { withCliFix } from '../../core/format.ts';
import { systemClock, type Clock } from '../../core/ports.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import type { FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import {
  holdTokenAnswers,
  issuedSecrets,
  issuerStats,
  setApiKeyExchange,
  setNextLogin,
} from '../fakes/fake-issuer.ts';
import {
  createRecordingLogger,
  leakedSecrets,
  rejection,
  startSignInFixture,
  threeAccounts,
  visit,
  type SignInFixture,
  type TempHome,
} from '../helpers/auth-harness.ts';
import { createTestLabService, signInProfiles } from '../helpers/lab-service.ts';

let fixture: SignInFixture;
let fake: FakeChatGpt;
let home: TempHome;
let logger: ReturnType<typeof createRecordingLogger>;

beforeEach(async () => {
  fixture = await startSignInFixture(threeAccounts('acct-carol-team'));
  ({ fake, home } = fixture);
  logger = createRecordingLogger();
});

afterEach(() => fixture.close());

function options(overrides: Partial<StartLoginOptions> = {}): StartLoginOptions {
  return {
    paths: home.paths,
    issuer: fake.issuerUrl,
    callbackPort: 0,
    requestedName: null,
    clock: systemClock,
    logger,
    ...overrides,
  };
}

describe('startLogin', () => {
  it('adds three profiles through the real redirect flow, none overwriting another', async () => {
    const store = new ProfileStore({ paths: home.paths });
    const plan: Array<[string, string | null]> = [
      ['alice@example.com', 'alice'],
      ['bob@example.com', null],
      ['carol@example.com', 'work'],
    ];
    for (const [email, name] of plan) {
      setNextLogin(fake, email);
      const login = await startLogin(options({ requestedName: name }));
      expect(login.view().state).toBe('waiting');
      const page = await visit(login.authorizeUrl);
      expect(page.status).toBe(200);
      expect(page.url).toBe(`http://127.0.0.1:${login.port}/success`);
      expect(page.text).toContain('Signed in');
      const result = await login.done;
      expect(result.created).toBe(true);
      expect(login.view()).toMatchObject({ state: 'done', profile: result.name, error: null });
    }
    const profiles = await store.listProfiles();
    expect(
      profiles.map((profile) => [profile.name, profile.email, profile.plan, profile.accountId]),
    ).toEqual([
      ['alice', 'alice@example.com', 'plus', 'acct-alice'],
      ['bob', 'bob@example.com', 'pro', 'acct-bob'],
      ['work', 'carol@example.com', 'team', 'acct-carol-team'],
    ]);
    const accountIds = new Set<string>();
    const refreshTokens = new Set<string>();
    for (const profile of profiles) {
      const auth = await store.readAuth(profile.name);
      expect(auth.auth_mode).toBe('chatgpt');
      expect(auth.OPENAI_API_KEY).toMatch(/^sk-proj-fake/);
      expect(auth.tokens?.account_id).toBe(profile.accountId);
      expect(Date.parse(auth.last_refresh ?? '')).toBeGreaterThan(Date.now() - 60_000);
      accountIds.add(auth.tokens!.account_id!);
      refreshTokens.add(auth.tokens!.refresh_token);
    }
    expect(accountIds.size).toBe(3);
    expect(refreshTokens.size).toBe(3);
    expect(issuerStats(fake)).toMatchObject({ authorizationCode: 3, tokenExchange: 3, revoke: 0 });
    expect(leakedSecrets(issuedSecrets(fake), logger.lines)).toEqual([]);
  });

  it("builds Codex's authorize URL and exchanges the code form-encoded with the PKCE verifier", async () => {
    setNextLogin(fake, 'alice@example.com');
    const login = await startLogin(options());
    const url = new URL(login.authorizeUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${fake.issuerUrl}/oauth/authorize`);
    expect([...url.searchParams.keys()]).toEqual([
      'response_type',
      'client_id',
      'redirect_uri',
      'code_challenge',
      'code_challenge_method',
      'state',
      'scope',
      'id_token_add_organizations',
      'codex_cli_simplified_flow',
      'originator',
    ]);
    expect(url.searchParams.get('client_id')).toBe('app_EMoamEEZ73f0CkXaXp7hrann');
    expect(url.searchParams.get('redirect_uri')).toBe(
      `http://127.0.0.1:${login.port}/auth/callback`,
    );
    expect(url.searchParams.get('originator')).toBe('codex_cli_rs');
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(login.authorizeUrl).toContain(
      'scope=openid+profile+email+offline_access+api.connectors.read',
    );
    await visit(login.authorizeUrl);
    await login.done;
    const exchange = fake.requests.find((request) =>
      request.body.startsWith('grant_type=authorization_code'),
    );
    expect(exchange?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const body = new URLSearchParams(exchange!.body);
    expect([...body.keys()]).toEqual([
      'grant_type',
      'code',
      'redirect_uri',
      'client_id',
      'code_verifier',
    ]);
    expect(body.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{86}$/);
  });

  it('re-authenticates the same account in place, and saves without an API key when the exchange fails', async () => {
    setApiKeyExchange(fake, false);
    setNextLogin(fake, 'alice@example.com');
    const first = await startLogin(options({ requestedName: 'alice' }));
    await visit(first.authorizeUrl);
    expect(await first.done).toMatchObject({ name: 'alice', created: true });
    setNextLogin(fake, 'alice@example.com');
    const second = await startLogin(options({ requestedName: 'other' }));
    await visit(second.authorizeUrl);
    expect(await second.done).toMatchObject({
      name: 'alice',
      created: false,
      email: 'alice@example.com',
    });
    const store = new ProfileStore({ paths: home.paths });
    expect((await store.listProfiles()).map((profile) => profile.name)).toEqual(['alice']);
    expect((await store.readAuth('alice')).OPENAI_API_KEY).toBeNull();
  });

  it('answers a wrong state with a 400 page, keeps waiting, and saves nothing', async () => {
    setNextLogin(fake, 'alice@example.com');
    const login = await startLogin(options());
    const response = await fetch(
      `http://127.0.0.1:${login.port}/auth/callback?code=abc&state=not-the-state`,
    );
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('State mismatch');
    expect(login.view().state).toBe('waiting');
    expect(issuerStats(fake).authorizationCode).toBe(0);
    login.cancel();
    expect(await rejection(login.done)).toMatchObject({ code: 'auth_cancelled' });
    expect(login.view().state).toBe('cancelled');
    expect(await new ProfileStore({ paths: home.paths }).listProfiles()).toEqual([]);
  });

  it('explains access_denied (and a missing Codex entitlement) and saves nothing', async () => {
    setNextLogin(fake, { error: 'access_denied', description: 'missing_codex_entitlement' });
    const denied = await startLogin(options());
    const page = await visit(denied.authorizeUrl);
    expect(page.status).toBe(403);
    expect(page.text).toContain('Codex is not enabled for your workspace');
    const error = await rejection(denied.done);
    expect(error).toMatchObject({ code: 'auth_denied' });
    expect(error.message).toContain('Codex is not enabled for your workspace');
    expect(denied.view()).toMatchObject({ state: 'failed', error: { code: 'auth_denied' } });

    setNextLogin(fake, { error: 'access_denied' });
    const plain = await startLogin(options());
    const plainPage = await visit(plain.authorizeUrl);
    expect(plainPage.text).toContain('access_denied');
    expect((await rejection(plain.done)).message).toMatch(/denied or cancelled/);
    expect(await new ProfileStore({ paths: home.paths }).listProfiles()).toEqual([]);
    expect(issuerStats(fake).authorizationCode).toBe(0);
  });

  it('fails clearly when the callback carries no code', async () => {
    const login = await startLogin(options());
    const state = new URL(login.authorizeUrl).searchParams.get('state')!;
    const response = await fetch(`http://127.0.0.1:${login.port}/auth/callback?state=${state}`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('missing_authorization_code');
    expect(await rejection(login.done)).toMatchObject({ code: 'auth_missing_code' });
    expect(await new ProfileStore({ paths: home.paths }).listProfiles()).toEqual([]);
  });

  it('reports a token endpoint refusal and saves nothing', async () => {
    const login = await startLogin(options());
    const state = new URL(login.authorizeUrl).searchParams.get('state')!;
    const response = await fetch(
      `http://127.0.0.1:${login.port}/auth/callback?code=forged&state=${state}`,
    );
    expect(response.status).toBe(500);
    const error = await rejection(login.done);
    expect(error.code).toBe('token_exchange_failed');
    // What went wrong, in one sentence ending once; starting again travels beside it.
    expect(error.message).toBe(
      'Sign-in failed: token endpoint returned status 400: Invalid or already used authorization code.',
    );
    expect(error.fix).toEqual({ action: 'retry_sign_in', name: null, method: 'browser' });
    // Started from Codex Lab's window (the default): the page sends the user back there.
    expect(await response.text()).toContain(
      'Invalid or already used authorization code. Go back to Codex Lab to try again.',
    );
    expect(await new ProfileStore({ paths: home.paths }).listProfiles()).toEqual([]);
  });

  it("words the browser's page for whoever started the sign-in, naming no command unless the CLI did", async () => {
    const pageOf = async (overrides: Partial<StartLoginOptions>) => {
      setNextLogin(fake, { error: 'access_denied' });
      const login = await startLogin(options(overrides));
      const page = await visit(login.authorizeUrl);
      const error = await rejection(login.done);
      return { text: page.text, message: error.message };
    };
    const lab = await pageOf({});
    expect(lab.message).toBe('Sign-in was denied or cancelled at the issuer (access_denied).');
    expect(lab.text).toContain(
      'Sign-in was denied or cancelled at the issuer (access_denied). Go back to Codex Lab to try again.',
    );
    expect(lab.text).not.toContain('codex-lab');
    const cli = await pageOf({ sayFailure: withCliFix, requestedName: 'work' });
    expect(cli.text).toContain(
      'Sign-in was denied or cancelled at the issuer (access_denied). Run codex-lab login work again.',
    );
  });

  it('times out', async () => {
    const login = await startLogin(options({ timeoutMs: 150 }));
    const error = await rejection(login.done);
    expect(error.code).toBe('auth_timeout');
    expect(error.message).toMatch(
      /No sign-in arrived within 0?\.?\d* ?seconds?|No sign-in arrived within/,
    );
    expect(login.view().state).toBe('failed');
    // The callback server is gone.
    await expect(fetch(`http://127.0.0.1:${login.port}/success`)).rejects.toThrow();
  });

  it('cancels an older login server on the same port (GET /cancel), as Codex does', async () => {
    const first = await startLogin(options());
    const second = await startLogin(options({ callbackPort: first.port }));
    expect(await rejection(first.done)).toMatchObject({ code: 'auth_cancelled' });
    expect(second.port).toBe(first.port);
    setNextLogin(fake, 'bob@example.com');
    await visit(second.authorizeUrl);
    expect(await second.done).toMatchObject({ name: 'bob', created: true });
  });

  it('gives one clear port_in_use error when another program holds the port', async () => {
    const blocker: Server = createServer((_request, response) =>
      response.end('not a login server'),
    );
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const started = Date.now();
      const error = await rejection(startLogin(options({ callbackPort: port })));
      expect(error.code).toBe('port_in_use');
      expect(error.message).toContain(`127.0.0.1:${port} is already in use`);
      // A random port is not on the issuer's allow-list: no such advice.
      expect(error.message).not.toContain('free one');
      // Ten retries every 200 ms.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1800);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('falls back to the second port when the first stays busy, as Codex goes from 1455 to 1457', async () => {
    const blocker: Server = createServer((_request, response) =>
      response.end('not a login server'),
    );
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    const spare: Server = createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    const fallback = (spare.address() as AddressInfo).port;
    await new Promise<void>((resolve) => spare.close(() => resolve()));
    try {
      setNextLogin(fake, 'carol@example.com');
      const login = await startLogin(
        options({ callbackPort: port, callbackFallbackPort: fallback, bindAttempts: 0 }),
      );
      expect(login.port).toBe(fallback);
      expect(new URL(login.authorizeUrl).searchParams.get('redirect_uri')).toBe(
        `http://127.0.0.1:${fallback}/auth/callback`,
      );
      await visit(login.authorizeUrl);
      expect(await login.done).toMatchObject({ name: 'carol' });
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('saves an approved sign-in whose code exchange outlasts the timeout', async () => {
    const timers = heldTimers(60_000);
    const login = await startLogin(options({ timeoutMs: 60_000, clock: timers.clock }));
    setNextLogin(fake, 'bob@example.com');
    // The callback has arrived; the issuer has issued the tokens and holds its answer.
    const hold = holdTokenAnswers(fake);
    const browser = visit(login.authorizeUrl);
    await hold.arrived;
    expect(login.view().state).toBe('exchanging');
    timers.fire();
    hold.release();
    expect(await login.done).toMatchObject({ name: 'bob', email: 'bob@example.com' });
    expect((await browser).url).toMatch(/\/success$/);
    expect(await profileNames()).toEqual(['bob']);
  });

  it('is not cancelled by a newer sign-in on its port while its code is exchanged', async () => {
    const first = await startLogin(options());
    setNextLogin(fake, 'bob@example.com');
    const hold = holdTokenAnswers(fake);
    const browser = visit(first.authorizeUrl);
    await hold.arrived;
    // The newer sign-in's GET /cancel is refused, so it finds the port busy.
    const second = await rejection(
      startLogin(options({ callbackPort: first.port, bindAttempts: 1 })),
    );
    expect(second.code).toBe('port_in_use');
    first.cancel();
    hold.release();
    expect(await first.done).toMatchObject({ name: 'bob' });
    expect((await browser).url).toMatch(/\/success$/);
    expect(await profileNames()).toEqual(['bob']);
  });

  it('rejects an invalid requested name before binding anything', async () => {
    expect(await rejection(startLogin(options({ requestedName: 'Not Valid!' })))).toMatchObject({
      code: 'invalid_name',
    });
  });
});

describe('startDeviceLogin', () => {
  it('saves an approved sign-in that is cancelled while its code is exchanged', async () => {
    // Polls follow one another at once (the fake approves on the second poll).
    const clock: Clock = {
      now: () => Date.now(),
      setTimeout: (callback) => systemClock.setTimeout(callback, 0),
    };
    setNextLogin(fake, 'bob@example.com');
    const hold = holdTokenAnswers(fake);
    const login = await startDeviceLogin({
      paths: home.paths,
      issuer: fake.issuerUrl,
      requestedName: null,
      clock,
      logger,
    });
    await hold.arrived;
    login.cancel();
    hold.release();
    expect(await login.done).toMatchObject({ name: 'bob' });
    expect(await profileNames()).toEqual(['bob']);
  });
});

/**
 * The real clock, except that timers of `delayMs` wait for `fire()` (the sign-in's timeout, fired
 * at a chosen moment instead of after a sleep).
 */
function heldTimers(delayMs: number): { clock: Clock; fire(): void } {
  const held = new Set<() => void>();
  return {
    clock: {
      now: () => Date.now(),
      setTimeout(callback, ms) {
        if (ms !== delayMs) return systemClock.setTimeout(callback, ms);
        held.add(callback);
        return () => held.delete(callback);
      },
    },
    fire: () => [...held].forEach((callback) => callback()),
  };
}

/** The saved profiles' names. */
async function profileNames(): Promise<string[]> {
  const profiles = await new ProfileStore({ paths: home.paths }).listProfiles();
  return profiles.map((profile) => profile.name);
}

describe('a router stopped during a sign-in', () => {
  it('waits for a sign-in whose code is being exchanged: its tokens are saved before the stop ends', async () => {
    const service = createTestLabService(fake, home.paths, {
      env: { CODEX_LAB_CALLBACK_PORT: '0' },
    });
    setNextLogin(fake, 'alice@example.com');
    const started = await service.startLogin({ name: 'house', popup: false });
    if (!started.ok) throw new Error(started.message);
    const hold = holdTokenAnswers(fake);
    const browser = visit(started.value.authorizeUrl);
    await hold.arrived;
    let stopped = false;
    const stopping = service.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stopped).toBe(false);
    hold.release();
    await stopping;
    await browser.catch(() => undefined);
    const store = new ProfileStore({ paths: home.paths });
    expect((await store.listProfiles()).map((profile) => profile.name)).toEqual(['house']);
    expect((await store.readAuth('house')).tokens?.refresh_token).toBeTruthy();
  });

  it('waits for what a sign-in saved during the stop still does (its health mark); its quota read is cancelled', async () => {
    const service = createTestLabService(fake, home.paths, {
      env: { CODEX_LAB_CALLBACK_PORT: '0' },
    });
    setNextLogin(fake, 'alice@example.com');
    let releaseUsage = () => {};
    // A quota read sent would be held: the stop returns only because none is waited for.
    fake.account('alice@example.com').usageHold = new Promise(
      (resolve) => (releaseUsage = resolve),
    );
    const started = await service.startLogin({ name: 'house', popup: false });
    if (!started.ok) throw new Error(started.message);
    const hold = holdTokenAnswers(fake);
    const browser = visit(started.value.authorizeUrl);
    await hold.arrived;
    const stopping = service.stop();
    // The sign-in ends after the stop began; what follows it (a health mark, a quota read) then.
    hold.release();
    await stopping;
    await browser.catch(() => undefined);
    releaseUsage();
    const health = JSON.parse(await readFile(home.paths.health, 'utf8')) as {
      profiles: Record<string, { status?: string }>;
    };
    expect(health.profiles.house?.status).toBe('ok');
    // The quota read is an outbound read of the service's: the stop, begun, ended it at once.
    const quota = JSON.parse(await readFile(home.paths.quota, 'utf8').catch(() => '{}')) as {
      profiles?: Record<string, { latest?: unknown }>;
    };
    expect(quota.profiles?.house?.latest).toBeUndefined();
  });
});

describe('Add account under a name a profile has', () => {
  it('is refused before any sign-in starts, saying whose it is; Sign in again renews it', async () => {
    await signInProfiles(fake, home.paths, [['alice@example.com', 'alice']]);
    const service = createTestLabService(fake, home.paths, {
      env: { CODEX_LAB_CALLBACK_PORT: '0' },
    });
    try {
      const before = issuerStats(fake);
      // Read as every typed name is: `Alice` is alice.
      const refused = await service.startLogin({ name: 'Alice', popup: false, newProfile: true });
      expect(refused).toEqual({
        ok: false,
        code: 'name_taken',
        message:
          'alice is alice@example.com’s profile: to renew it, use “Sign in again” on its card; for another account, pick another name.',
      });
      expect((await service.getState()).logins).toEqual([]);
      expect(issuerStats(fake)).toEqual(before);
      // Sign in again names the profile it renews: it starts.
      const renewing = await service.startLogin({ name: 'alice', popup: false });
      expect(renewing.ok).toBe(true);
      if (renewing.ok) await service.cancelLogin({ id: renewing.value.id });
    } finally {
      await service.stop();
    }
  });
});
