/** Token refresh against the fake issuer: rotation, single-flight, cross-process lock, failures. */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { revokeProfileTokens } from '../../core/auth/revoke.ts';
import { TokenManager } from '../../core/auth/token-manager.ts';
import { systemClock, type Clock } from '../../core/ports.ts';
import type { AuthDotJson } from '../../core/profiles/schema.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { HealthStore } from '../../core/state/health-store.ts';
import type { FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import {
  accessTokenIsValid,
  accountForAccessToken,
  expireAccessTokens,
  issueAuthDotJson,
  issuedSecrets,
  issuerStats,
  refreshTokenIsValid,
  revokedTokens,
  scriptRefresh,
  setAccessTokenLifetime,
  setTokenDelay,
} from '../fakes/fake-issuer.ts';
import {
  createRecordingLogger,
  leakedSecrets,
  rejection,
  repositoryRoot,
  startSignInFixture,
  type SignInFixture,
  type TempHome,
} from '../helpers/auth-harness.ts';

const emails = ['alice@example.com', 'bob@example.com', 'carol@example.com'];
let fixture: SignInFixture;
let fake: FakeChatGpt;
let home: TempHome;
let store: ProfileStore;
let health: HealthStore;
let logger: ReturnType<typeof createRecordingLogger>;

beforeEach(async () => {
  fixture = await startSignInFixture(emails.map((email) => ({ email })));
  ({ fake, home } = fixture);
  store = new ProfileStore({ paths: home.paths });
  health = new HealthStore(home.paths);
  logger = createRecordingLogger();
  for (const email of emails) {
    await store.saveSignIn({
      auth: issueAuthDotJson(fake, email) as AuthDotJson,
      requestedName: email.split('@')[0]!,
    });
    await health.markOk(email.split('@')[0]!, Date.now());
  }
});

afterEach(() => fixture.close());

function manager(clock: Clock = systemClock): TokenManager {
  return new TokenManager({
    paths: home.paths,
    store,
    health,
    issuer: fake.issuerUrl,
    clock,
    logger,
  });
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('TokenManager', () => {
  it('hands out the stored token while it is fresh, without calling the issuer', async () => {
    const before = await store.readAuth('alice');
    const credentials = await manager().getCredentials('alice');
    expect(credentials).toEqual({
      accessToken: before.tokens!.access_token,
      accountId: 'acct-aliceexamplecom',
      userId: 'user-aliceexamplecom',
    });
    expect(issuerStats(fake).refreshToken).toBe(0);
  });

  it('refreshes proactively within the margin, writes the rotated tokens first, keeps unknown fields', async () => {
    const before = await store.readAuth('alice');
    await store.writeAuth('alice', { ...before, agent_identity: { keep: 'me' } } as AuthDotJson);
    // Five minutes before the access token's exp.
    const exp = accountClock(before);
    const clock: Clock = { now: () => exp - 4 * 60_000, setTimeout: systemClock.setTimeout };
    const credentials = await manager(clock).getCredentials('alice');
    const after = await store.readAuth('alice');
    expect(credentials.accessToken).toBe(after.tokens!.access_token);
    expect(credentials.accessToken).not.toBe(before.tokens!.access_token);
    expect(after.tokens!.refresh_token).not.toBe(before.tokens!.refresh_token);
    expect(after.tokens!.account_id).toBe(before.tokens!.account_id);
    expect((after as Record<string, unknown>)['agent_identity']).toEqual({ keep: 'me' });
    expect(after.last_refresh).toBe(new Date(clock.now()).toISOString());
    expect(accessTokenIsValid(fake, credentials.accessToken)).toBe(true);
    expect(accountForAccessToken(fake, credentials.accessToken)?.email).toBe('alice@example.com');
    const request = fake.requests.find(
      (entry) => entry.path === '/oauth/token' && entry.body.includes('refresh_token'),
    );
    expect(request?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request!.body)).toEqual({
      client_id: 'app_EMoamEEZ73f0CkXaXp7hrann',
      grant_type: 'refresh_token',
      refresh_reason: 'scheduled',
      refresh_token: before.tokens!.refresh_token,
    });
    expect(request?.headers['originator']).toBe('codex_cli_rs');
    expect(issuerStats(fake).refreshToken).toBe(1);
  });

  it('refreshes after a 401 once, even for many concurrent callers in one process', async () => {
    const before = await store.readAuth('bob');
    expireAccessTokens(fake, 'bob@example.com');
    expect(accessTokenIsValid(fake, before.tokens!.access_token)).toBe(false);
    setTokenDelay(fake, 100);
    const tokens = manager();
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        tokens.refreshAfterUnauthorized('bob', before.tokens!.access_token),
      ),
    );
    expect(new Set(results.map((result) => result.accessToken)).size).toBe(1);
    expect(issuerStats(fake).refreshToken).toBe(1);
    expect(accessTokenIsValid(fake, results[0]!.accessToken)).toBe(true);
    const sent = fake.requests.filter((entry) => entry.path === '/oauth/token').at(-1)!;
    expect(JSON.parse(sent.body).refresh_reason).toBe('unauthorized_recovery');
    // A later 401 for the old token adopts what is on disk instead of refreshing again.
    const again = await manager().refreshAfterUnauthorized('bob', before.tokens!.access_token);
    expect(again.accessToken).toBe(results[0]!.accessToken);
    expect(issuerStats(fake).refreshToken).toBe(1);
  });

  it('two processes refreshing one profile at once make exactly one token call and share the result', async () => {
    setAccessTokenLifetime(fake, 60); // inside the 5-minute margin: both children refresh proactively
    await store.saveSignIn({
      auth: issueAuthDotJson(fake, 'carol@example.com') as AuthDotJson,
      requestedName: null,
    });
    const before = await store.readAuth('carol');
    setTokenDelay(fake, 300);
    const goFile = join(home.home, 'go');
    const children = [0, 1].map(() => {
      const child = spawn(
        process.execPath,
        [
          join(repositoryRoot, 'test/helpers/auth-refresh-child.ts'),
          home.home,
          fake.issuerUrl,
          'carol',
          goFile,
        ],
        { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const ready = new Promise<void>((resolve) => {
        const check = () =>
          out.startsWith('ready') ? resolve() : child.stdout.once('data', check);
        check();
      });
      const exited = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
        child.on('close', (code) => resolve({ code, out, err })),
      );
      return { ready, exited };
    });
    await Promise.all(children.map((child) => child.ready));
    await writeFile(goFile, 'go');
    const outcomes = await Promise.all(children.map((child) => child.exited));
    for (const outcome of outcomes) expect(outcome, outcome.err).toMatchObject({ code: 0 });
    const results = outcomes.map(
      (outcome) => JSON.parse(outcome.out.split('\n')[1]!) as { sha256: string },
    );
    const onDisk = await store.readAuth('carol');
    expect(results.map((result) => result.sha256)).toEqual([
      sha256(onDisk.tokens!.access_token),
      sha256(onDisk.tokens!.access_token),
    ]);
    expect(onDisk.tokens!.access_token).not.toBe(before.tokens!.access_token);
    expect(issuerStats(fake).refreshToken).toBe(1);
    expect(refreshTokenIsValid(fake, onDisk.tokens!.refresh_token)).toBe(true);
  });

  it('a refresh_token_reused answer marks only that profile auth_error, with Codex’s message', async () => {
    const alice = await store.readAuth('alice');
    // Another party consumed alice's refresh token: presenting it again is reuse.
    const stolen = await fetch(`${fake.issuerUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: 'app_EMoamEEZ73f0CkXaXp7hrann',
        grant_type: 'refresh_token',
        refresh_token: alice.tokens!.refresh_token,
      }),
    });
    expect(stolen.status).toBe(200);
    const error = await rejection(
      manager().refreshAfterUnauthorized('alice', alice.tokens!.access_token),
    );
    // What is wrong in the sentence; the fix beside it (the CLI says its command, the dashboard
    // points at its button).
    expect(error).toEqual({
      code: 'refresh_token_reused',
      message: 'alice needs a new sign-in (its refresh token was already used).',
      fix: { action: 'sign_in', profiles: ['alice'] },
    });
    const now = Date.now();
    expect(await health.get('alice', now)).toMatchObject({
      status: 'auth_error',
      code: 'refresh_token_reused',
      message: error.message,
    });
    expect((await health.get('bob', now)).status).toBe('ok');
    expect((await health.get('carol', now)).status).toBe('ok');
    // The other profiles still refresh fine.
    const bob = await store.readAuth('bob');
    await manager().refreshAfterUnauthorized('bob', bob.tokens!.access_token);
    expect((await health.get('bob', Date.now())).status).toBe('ok');
  });

  it('classifies expired and invalidated refresh tokens, and does not retry a permanent failure', async () => {
    scriptRefresh(fake, 'alice@example.com', 'refresh_token_expired');
    scriptRefresh(fake, 'bob@example.com', 'refresh_token_invalidated');
    const tokens = manager();
    const alice = await store.readAuth('alice');
    const bob = await store.readAuth('bob');
    expect(
      (await rejection(tokens.refreshAfterUnauthorized('alice', alice.tokens!.access_token)))
        .message,
    ).toBe('alice needs a new sign-in (its refresh token has expired).');
    expect(
      (await rejection(tokens.refreshAfterUnauthorized('bob', bob.tokens!.access_token))).code,
    ).toBe('refresh_token_invalidated');
    const calls = issuerStats(fake).refreshToken;
    expect(
      (await rejection(tokens.refreshAfterUnauthorized('alice', alice.tokens!.access_token))).code,
    ).toBe('refresh_token_expired');
    expect(issuerStats(fake).refreshToken).toBe(calls);
    expect((await health.get('alice', Date.now())).code).toBe('refresh_token_expired');
    expect((await health.get('bob', Date.now())).code).toBe('refresh_token_invalidated');
    expect((await health.get('carol', Date.now())).status).toBe('ok');
  });

  it('treats other statuses as transient (not marked) and a later success clears auth_error', async () => {
    scriptRefresh(fake, 'alice@example.com', {
      status: 503,
      body: { error: { message: 'try later' } },
    });
    const alice = await store.readAuth('alice');
    let now = Date.now();
    const tokens = manager({ now: () => now, setTimeout: systemClock.setTimeout });
    const error = await rejection(
      tokens.refreshAfterUnauthorized('alice', alice.tokens!.access_token),
    );
    expect(error.code).toBe('refresh_transient');
    expect(error.message).toContain('503');
    expect((await health.get('alice', Date.now())).status).toBe('ok');
    // Backoff: the same refresh token is not sent again right away…
    const calls = issuerStats(fake).refreshToken;
    const again = await rejection(
      tokens.refreshAfterUnauthorized('alice', alice.tokens!.access_token),
    );
    expect(again.code).toBe('refresh_transient');
    expect(issuerStats(fake).refreshToken).toBe(calls);
    // …and once the backoff has passed, the retry heals the profile by itself.
    now += 2_000;
    await health.markAuthError('alice', 'refresh_failed', 'x', Date.now());
    await tokens.refreshAfterUnauthorized('alice', alice.tokens!.access_token);
    expect((await health.get('alice', Date.now())).status).toBe('ok');
  });

  it('reports account_mismatch when the file now holds another account', async () => {
    const tokens = manager();
    const alice = await store.readAuth('alice');
    await tokens.getCredentials('alice');
    await store.writeAuth('alice', issueAuthDotJson(fake, 'bob@example.com') as AuthDotJson);
    const error = await rejection(
      tokens.refreshAfterUnauthorized('alice', alice.tokens!.access_token),
    );
    expect(error.code).toBe('account_mismatch');
    expect(error.message).toBe(
      "alice needs a new sign-in (its auth file holds bob@example.com's sign-in).",
    );
    // Handed out as alice's by no read either, not only by a refresh.
    expect((await rejection(tokens.getCredentials('alice'))).code).toBe('account_mismatch');
    // The registry says which account alice is: a process that never saw her tokens refuses too.
    const fresh = await rejection(
      manager().refreshAfterUnauthorized('alice', alice.tokens!.access_token),
    );
    expect(fresh.code).toBe('account_mismatch');
    expect(issuerStats(fake).refreshToken).toBe(0);
  });

  it('never logs a token', async () => {
    scriptRefresh(fake, 'carol@example.com', 'refresh_token_reused');
    const tokens = manager();
    for (const name of ['alice', 'bob', 'carol']) {
      const auth = await store.readAuth(name);
      await tokens.refreshAfterUnauthorized(name, auth.tokens!.access_token).catch(() => undefined);
    }
    expect(logger.lines.length).toBeGreaterThan(3);
    expect(leakedSecrets(issuedSecrets(fake), logger.lines)).toEqual([]);
  });
});

describe('revokeProfileTokens', () => {
  it('revokes the refresh token with its hint and client id, best effort', async () => {
    const auth = await store.readAuth('alice');
    expect(await revokeProfileTokens(fake.issuerUrl, auth)).toBe('revoked');
    expect(revokedTokens(fake)).toEqual([auth.tokens!.refresh_token]);
    const request = fake.requests.find((entry) => entry.path === '/oauth/revoke');
    expect(JSON.parse(request!.body)).toEqual({
      token: auth.tokens!.refresh_token,
      token_type_hint: 'refresh_token',
      client_id: 'app_EMoamEEZ73f0CkXaXp7hrann',
    });
    expect(refreshTokenIsValid(fake, auth.tokens!.refresh_token)).toBe(false);
    expect(accessTokenIsValid(fake, auth.tokens!.access_token)).toBe(false);
    // Other profiles are untouched.
    const bob = await store.readAuth('bob');
    expect(refreshTokenIsValid(fake, bob.tokens!.refresh_token)).toBe(true);
    // Unreachable issuer: no throw.
    expect(await revokeProfileTokens('http://127.0.0.1:9', bob)).toBe('failed');
  });
});

/** The access token's exp in Unix ms. */
function accountClock(auth: AuthDotJson): number {
  const payload = JSON.parse(
    Buffer.from(auth.tokens!.access_token.split('.')[1]!, 'base64url').toString(),
  ) as {
    exp: number;
  };
  return payload.exp * 1000;
}
