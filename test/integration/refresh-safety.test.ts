/**
 * Never lose a sign-in (issue 9, items 1, 4 and 5): rename and remove while a refresh is in flight,
 * a write that fails after the issuer rotated the token, a lock lost to a paused holder, a stale
 * snapshot right before spending a token, and transient issuer failures. The fake issuer holds
 * its answers to widen each race deterministically.
 */
import { spawn } from 'node:child_process';
import { statSync, watch } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  TokenManager,
  type TokenManagerOptions,
  type TokenStore,
} from '../../core/auth/token-manager.ts';
import { LabError } from '../../core/errors.ts';
import { fileWriteRetryMs, tokenWriteRetryMs } from '../../core/home/lock-waits.ts';
import { systemClock } from '../../core/ports.ts';
import type { AuthDotJson } from '../../core/profiles/schema.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { HealthStore } from '../../core/state/health-store.ts';
import type { FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { MemoryKeyring } from '../fakes/memory-keyring.ts';
import {
  holdTokenAnswers,
  issueAuthDotJson,
  issuerStats,
  refreshTokenIsValid,
  scriptRefresh,
} from '../fakes/fake-issuer.ts';
import {
  createRecordingLogger,
  rejection,
  startSignInFixture,
  type SignInFixture,
  type TempHome,
} from '../helpers/auth-harness.ts';
import { repoRoot } from '../helpers/cli.ts';
import { instantClock, refuseRenames } from '../helpers/held-open.ts';
import { FakeClock } from '../unit/router/fake-clock.ts';

const emails = ['alice@example.com', 'bob@example.com'];
let fixture: SignInFixture;
let fake: FakeChatGpt;
let home: TempHome;
let store: ProfileStore;
let health: HealthStore;
let logger: ReturnType<typeof createRecordingLogger>;

beforeEach(async () => {
  fixture = await startSignInFixture(emails.map((email) => ({ email })));
  ({ fake, home } = fixture);
  logger = createRecordingLogger();
  store = new ProfileStore({ paths: home.paths, logger });
  health = new HealthStore(home.paths);
  for (const email of emails) {
    await store.saveSignIn({
      auth: issueAuthDotJson(fake, email) as AuthDotJson,
      requestedName: email.split('@')[0]!,
    });
  }
});

afterEach(() => fixture.close());

function manager(
  tokenStore: TokenStore = store,
  options: Partial<
    Pick<TokenManagerOptions, 'requestTimeoutMs' | 'earlyRefreshWaitMs' | 'clock'>
  > = {},
): TokenManager {
  return new TokenManager({
    paths: home.paths,
    store: tokenStore,
    health,
    issuer: fake.issuerUrl,
    clock: systemClock,
    logger,
    ...options,
  });
}

/** True once `promise` has settled (checked after a few turns of the event loop). */
async function settledSoon(promise: Promise<unknown>, ms = 150): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setTimeout(resolve, ms));
  return settled;
}

async function refreshTokenOf(name: string): Promise<string> {
  return (await store.readAuth(name)).tokens!.refresh_token;
}

describe('a refresh in flight', () => {
  it('finishes before a rename moves the profile: the rotated token lands under the new name', async () => {
    const alice = await store.readAuth('alice');
    const hold = holdTokenAnswers(fake);
    const refresh = manager().refreshAfterUnauthorized('alice', alice.tokens!.access_token);
    await hold.arrived;
    const rename = store.rename('alice', 'work');
    // The rename waits for the profile's refresh lock while the issuer's answer is held.
    expect(await settledSoon(rename)).toBe(false);
    hold.release();
    await refresh;
    await rename;
    const moved = await refreshTokenOf('work');
    expect(moved).not.toBe(alice.tokens!.refresh_token);
    expect(refreshTokenIsValid(fake, moved)).toBe(true);
  });

  it('finishes before a remove deletes the profile, and nothing is left behind', async () => {
    const bob = await store.readAuth('bob');
    const hold = holdTokenAnswers(fake);
    const refresh = manager().refreshAfterUnauthorized('bob', bob.tokens!.access_token);
    await hold.arrived;
    const remove = store.remove('bob');
    expect(await settledSoon(remove)).toBe(false);
    hold.release();
    await refresh;
    await remove;
    expect((await store.listProfiles()).map((p) => p.name)).toEqual(['alice']);
    expect(await readdir(home.paths.profilesDir)).toEqual(['alice']);
  });
});

describe('a re-login (signing in again to an existing profile) while a refresh is in flight', () => {
  it('waits for the refresh: a permanent failure it answers never marks the fresh sign-in as needing one', async () => {
    const alice = await store.readAuth('alice');
    scriptRefresh(fake, 'alice@example.com', 'refresh_token_reused');
    const hold = holdTokenAnswers(fake);
    const refresh = manager().refreshAfterUnauthorized('alice', alice.tokens!.access_token);
    await hold.arrived;
    const fresh = issueAuthDotJson(fake, 'alice@example.com') as AuthDotJson;
    const relogin = store.saveSignIn({ auth: fresh, requestedName: null });
    // Like rename and remove, the re-login takes the profile's refresh lock first.
    expect(await settledSoon(relogin)).toBe(false);
    hold.release();
    expect((await rejection(refresh)).code).toBe('refresh_token_reused');
    expect(await relogin).toEqual({ name: 'alice', created: false });
    expect(await refreshTokenOf('alice')).toBe(fresh.tokens!.refresh_token);
    expect((await health.get('alice', Date.now())).status).not.toBe('auth_error');
  });

  it('lands after the rotated tokens are written, so the profile keeps the new sign-in', async () => {
    const alice = await store.readAuth('alice');
    // The refresh stops between its last look at the file and its write (a slow disk).
    let arrived = () => {};
    let release = () => {};
    const atWrite = new Promise<void>((resolve) => (arrived = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: TokenStore = {
      getProfile: (name) => store.getProfile(name),
      readAuth: (name) => store.readAuth(name),
      async writeAuth(name, auth) {
        arrived();
        await gate;
        await store.writeAuth(name, auth);
      },
    };
    const refresh = manager(slow).refreshAfterUnauthorized('alice', alice.tokens!.access_token);
    await atWrite;
    const fresh = issueAuthDotJson(fake, 'alice@example.com') as AuthDotJson;
    const relogin = store.saveSignIn({ auth: fresh, requestedName: null });
    expect(await settledSoon(relogin)).toBe(false);
    release();
    await refresh;
    await relogin;
    expect(await refreshTokenOf('alice')).toBe(fresh.tokens!.refresh_token);
    expect(refreshTokenIsValid(fake, fresh.tokens!.refresh_token)).toBe(true);
  });
});

describe('a refresh killed after writing its answer and before putting it in place', () => {
  /**
   * Kills a real process refreshing `name` the moment its atomic write creates the temporary
   * file beside auth.json, until a kill lands before the rename (the fsync between them is the
   * window). Returns the rotated tokens' file and the number of attempts.
   */
  async function killMidWrite(
    name: string,
  ): Promise<{ leftover: string; attempts: number; spent: AuthDotJson }> {
    const folder = home.paths.profileDir(name);
    for (let attempt = 1; attempt <= 40; attempt += 1) {
      // What auth.json holds as this attempt starts (an earlier attempt may have signed in again).
      const spent = await store.readAuth(name);
      const child = spawn(
        process.execPath,
        [join(repoRoot, 'test/helpers/refresh-once.ts'), home.home, fake.issuerUrl, name],
        { stdio: 'ignore' },
      );
      const watcher = watch(folder, (_event, file) => {
        if (file === null || !/^auth\.json\.\d+$/.test(file)) return;
        // The file is created empty, then written, then synced, then renamed: wait (briefly,
        // blocking, as a kill must not wait on the event loop) for the bytes, then kill.
        const until = performance.now() + 50;
        while (performance.now() < until) {
          const size = (() => {
            try {
              return statSync(join(folder, file)).size;
            } catch {
              return -1;
            }
          })();
          if (size !== 0) break;
        }
        child.kill('SIGKILL');
      });
      await new Promise((resolve) => child.once('exit', resolve));
      watcher.close();
      const leftover = (await readdir(folder)).find((file) => /^auth\.json\.\d+$/.test(file));
      if (leftover !== undefined) {
        // Only a whole answer counts: the kill must land after the write, before the rename (a
        // kill right after the file was created leaves it empty).
        const text = await readFile(join(folder, leftover), 'utf8');
        const held = text.length > 0 ? (JSON.parse(text) as AuthDotJson) : undefined;
        if (held?.tokens && refreshTokenIsValid(fake, held.tokens.refresh_token)) {
          return { leftover: join(folder, leftover), attempts: attempt, spent };
        }
        await rm(join(folder, leftover));
      }
      // A kill before the answer reached the file loses the rotated token on the wire (no
      // client can keep it): sign in again, as the user would, and try once more.
      const current = (await store.readAuth(name)).tokens!.refresh_token;
      if (!refreshTokenIsValid(fake, current)) {
        await store.writeAuth(name, issueAuthDotJson(fake, `${name}@example.com`) as AuthDotJson);
      }
    }
    throw new Error('no kill landed between the write and the rename in 40 attempts');
  }

  it('the next refresh puts the rotated tokens in place instead of spending the dead token', async () => {
    const { leftover, spent: before } = await killMidWrite('alice');
    const rotated = JSON.parse(await readFile(leftover, 'utf8')) as AuthDotJson;
    // auth.json still holds the token the issuer spent: refreshing from it would end the sign-in.
    expect((await store.readAuth('alice')).tokens!.refresh_token).toBe(
      before.tokens!.refresh_token,
    );
    expect(refreshTokenIsValid(fake, before.tokens!.refresh_token)).toBe(false);

    const credentials = await manager().refreshAfterUnauthorized(
      'alice',
      before.tokens!.access_token,
    );
    expect(credentials.accessToken).toBe(rotated.tokens!.access_token);
    const now = await store.readAuth('alice');
    expect(now.tokens!.refresh_token).toBe(rotated.tokens!.refresh_token);
    expect(refreshTokenIsValid(fake, now.tokens!.refresh_token)).toBe(true);
    expect((await health.read()).profiles['alice']?.status ?? 'ok').not.toBe('auth_error');
    expect(await readdir(home.paths.profileDir('alice'))).toEqual(['auth.json']);
    expect(logger.lines.join('\n')).not.toContain(rotated.tokens!.refresh_token);
  }, 60_000);

  it('a leftover older than auth.json (a later sign-in) or of another account is removed, never adopted', async () => {
    const folder = home.paths.profileDir('alice');
    const bob = issueAuthDotJson(fake, 'bob@example.com') as AuthDotJson;
    await writeFile(join(folder, 'auth.json.1234567'), JSON.stringify(bob), { mode: 0o600 });
    const stale = issueAuthDotJson(fake, 'alice@example.com') as AuthDotJson;
    await writeFile(join(folder, 'auth.json.42'), JSON.stringify(stale), { mode: 0o600 });
    await writeFile(join(folder, 'auth.json.77'), '{"tokens": {', { mode: 0o600 });
    // A sign-in written after the leftovers: it wins.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const fresh = issueAuthDotJson(fake, 'alice@example.com') as AuthDotJson;
    await store.writeAuth('alice', fresh);

    expect(await store.adoptUnfinishedWrite('alice')).toBe(false);
    expect((await store.readAuth('alice')).tokens!.refresh_token).toBe(fresh.tokens!.refresh_token);
    expect(await readdir(folder)).toEqual(['auth.json']);
  });

  it('renaming the legacy default first puts such tokens in place (only auth.json moves)', async () => {
    await store.remove('bob');
    const legacy = issueAuthDotJson(fake, 'bob@example.com') as AuthDotJson;
    await writeFile(home.paths.legacyAuth, JSON.stringify(legacy), { mode: 0o600 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const rotated = issueAuthDotJson(fake, 'bob@example.com') as AuthDotJson;
    await writeFile(`${home.paths.legacyAuth}.99`, JSON.stringify(rotated), { mode: 0o600 });
    await store.rename('default', 'bob');
    expect((await store.readAuth('bob')).tokens!.refresh_token).toBe(rotated.tokens!.refresh_token);
    expect((await readdir(home.home)).filter((file) => file.startsWith('auth.json'))).toEqual([]);
  });
});

describe('an issuer that answers a refresh late', () => {
  it('keeps waiting for the answer after the caller gave up, and its tokens reach the disk', async () => {
    const before = await store.readAuth('alice');
    // The callers' waits run on a clock the test moves: on a loaded machine, a real 200 ms could
    // pass between the answer's release and its landing, and fail the second caller too.
    const clock = new FakeClock(Date.now());
    const tokens = manager(store, { requestTimeoutMs: 200, clock });
    const hold = holdTokenAnswers(fake);
    const first = rejection(tokens.refreshAfterUnauthorized('alice', before.tokens!.access_token));
    await hold.arrived;
    clock.advance(200);
    // The issuer has rotated the token; its answer is late. The caller hears "slow", not more.
    const heard = await first;
    expect(heard.code).toBe('refresh_transient');
    expect(heard.message).toContain('keeps waiting for it');
    // A caller meanwhile joins the refresh in flight: nothing is sent twice.
    const second = tokens.refreshAfterUnauthorized('alice', before.tokens!.access_token);
    hold.release();
    const credentials = await second;
    const now = await store.readAuth('alice');
    expect(credentials.accessToken).toBe(now.tokens!.access_token);
    expect(now.tokens!.refresh_token).not.toBe(before.tokens!.refresh_token);
    expect(refreshTokenIsValid(fake, now.tokens!.refresh_token)).toBe(true);
    expect(issuerStats(fake).refreshToken).toBe(1);
    expect((await health.get('alice', Date.now())).status).not.toBe('auth_error');
  });

  it('gives a caller a fresh wait when its timer fired late because the process was paused', async () => {
    const before = await store.readAuth('alice');
    const clock = new FakeClock(Date.now());
    const tokens = manager(store, { requestTimeoutMs: 1_000, clock });
    const hold = holdTokenAnswers(fake);
    const call = tokens.refreshAfterUnauthorized('alice', before.tokens!.access_token);
    await hold.arrived;
    // Asleep for 5 s with the answer on its way: the wait's timer fires 4 s late on waking.
    clock.pause(5_000);
    expect(await settledSoon(call)).toBe(false);
    hold.release();
    const credentials = await call;
    expect(credentials.accessToken).toBe((await store.readAuth('alice')).tokens!.access_token);
    expect(credentials.accessToken).not.toBe(before.tokens!.access_token);
  });

  it('lets a request go out on a still-valid token instead of waiting for an early refresh', async () => {
    // Inside the refresh margin but not expired: an early refresh, and a slow issuer.
    const before = await store.readAuth('alice');
    const hold = holdTokenAnswers(fake);
    const started = Date.now();
    const early = new TokenManager({
      paths: home.paths,
      store,
      health,
      issuer: fake.issuerUrl,
      clock: systemClock,
      logger,
      earlyRefreshWaitMs: 100,
      // Every token is "about to expire" with this margin.
      marginMs: 365 * 24 * 3600_000,
    });
    const credentials = await early.getCredentials('alice');
    expect(credentials.accessToken).toBe(before.tokens!.access_token);
    expect(Date.now() - started).toBeLessThan(5_000);
    await hold.arrived;
    hold.release();
    // The refresh finishes on its own and lands on disk.
    const deadline = Date.now() + 5_000;
    while ((await store.readAuth('alice')).tokens!.refresh_token === before.tokens!.refresh_token) {
      if (Date.now() > deadline) throw new Error('the early refresh never landed');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(refreshTokenIsValid(fake, (await store.readAuth('alice')).tokens!.refresh_token)).toBe(
      true,
    );
  });
});

describe('a write that fails after the issuer rotated the token', () => {
  it('keeps the tokens in the journal, logs an error, and the next load adopts them', async () => {
    const alice = await store.readAuth('alice');
    let failures = 1;
    const failing: TokenStore = {
      getProfile: (name) => store.getProfile(name),
      readAuth: (name) => store.readAuth(name),
      saveRecoveredTokens: (name, auth, replaced) =>
        store.saveRecoveredTokens(name, auth, replaced),
      async writeAuth(name, auth) {
        if (failures-- > 0) throw new LabError('io_error', 'disk full (injected)');
        await store.writeAuth(name, auth);
      },
    };
    const credentials = await manager(failing).refreshAfterUnauthorized(
      'alice',
      alice.tokens!.access_token,
    );
    expect(credentials.accessToken).not.toBe(alice.tokens!.access_token);
    expect(logger.lines.some((line) => line.includes('"level":"error"'))).toBe(true);
    // A later load (any process) writes them to the profile that still holds the spent token.
    const fresh = new ProfileStore({ paths: home.paths });
    await fresh.recover();
    const adopted = await fresh.readAuth('alice');
    expect(adopted.tokens!.access_token).toBe(credentials.accessToken);
    expect(refreshTokenIsValid(fake, adopted.tokens!.refresh_token)).toBe(true);
    expect(await readdir(home.paths.journalDir)).toEqual([]);
  });
});

describe('an auth.json another program holds open on Windows (a virus scan, Codex reading it)', () => {
  /** A store of the same home, as on Windows, whose waits are recorded rather than slept. */
  function windowsStore(): { store: ProfileStore; clock: ReturnType<typeof instantClock> } {
    const clock = instantClock(Date.now());
    return {
      store: new ProfileStore({ paths: home.paths, logger, platform: 'win32', clock }),
      clock,
    };
  }
  afterEach(() => vi.restoreAllMocks());

  it('writes the rotated tokens in place once it lets go, with one warning naming the file', async () => {
    const alice = await store.readAuth('alice');
    const path = home.paths.profileAuth('alice');
    const renames = refuseRenames(5, { target: path });
    const { store: windows, clock } = windowsStore();
    const leases: unknown[] = [];
    const credentials = await manager({
      getProfile: (name) => windows.getProfile(name),
      readAuth: (name) => windows.readAuth(name),
      // The write is given the refresh lock's lease: it stops waiting once that lock is lost.
      writeAuth: (name, auth, options) => {
        leases.push(options?.lease);
        return windows.writeAuth(name, auth, options);
      },
    }).refreshAfterUnauthorized('alice', alice.tokens!.access_token);
    vi.restoreAllMocks();
    expect(leases).toEqual([{ compromised: false }]);
    expect(renames.tries()).toBe(6);
    expect(clock.waits).toHaveLength(5);
    const written = await store.readAuth('alice');
    expect(written.tokens!.access_token).toBe(credentials.accessToken);
    expect(refreshTokenIsValid(fake, written.tokens!.refresh_token)).toBe(true);
    expect(await readdir(home.paths.journalDir).catch(() => [])).toEqual([]);
    expect(await readdir(home.paths.profileDir('alice'))).toEqual(['auth.json']);
    const warnings = logger.lines.filter((line) => line.includes('"level":"warn"'));
    expect(warnings.filter((line) => line.includes(path))).toHaveLength(1);
  });

  it('gives up past the token write limit: the tokens go to the journal, auth.json and its folder as they were', async () => {
    const alice = await store.readAuth('alice');
    const before = await readFile(home.paths.profileAuth('alice'), 'utf8');
    refuseRenames(Number.POSITIVE_INFINITY, { target: home.paths.profileAuth('alice') });
    const { store: windows, clock } = windowsStore();
    const credentials = await manager(windows).refreshAfterUnauthorized(
      'alice',
      alice.tokens!.access_token,
    );
    vi.restoreAllMocks();
    const waited = clock.waits.reduce((sum, wait) => sum + wait, 0);
    expect(waited).toBeGreaterThan(fileWriteRetryMs);
    expect(waited).toBeLessThanOrEqual(tokenWriteRetryMs);
    expect(await readFile(home.paths.profileAuth('alice'), 'utf8')).toBe(before);
    // No temp file beside it that a later run could take for a killed refresh's tokens.
    expect(await readdir(home.paths.profileDir('alice'))).toEqual(['auth.json']);
    expect(await readdir(home.paths.journalDir)).toHaveLength(1);
    const fresh = new ProfileStore({ paths: home.paths });
    await fresh.recover();
    expect((await fresh.readAuth('alice')).tokens!.access_token).toBe(credentials.accessToken);
    expect(await readdir(home.paths.journalDir)).toEqual([]);
  });
});

describe('a keychain profile whose keychain fails while the issuer answers', () => {
  it('keeps the rotated tokens through loads that cannot read the keychain, never spends the replaced token, and saves them once it works', async () => {
    const keyring = new MemoryKeyring();
    const vault = new ProfileStore({ paths: home.paths, keyring, logger });
    await vault.saveSignIn({
      auth: issueAuthDotJson(fake, 'alice@example.com') as AuthDotJson,
      requestedName: 'alice',
      store: 'keyring',
    });
    const before = await vault.readAuth('alice');
    // The issuer's answer is held while the keychain's daemon dies: the rotated tokens cannot
    // be written, and go to the journal.
    const hold = holdTokenAnswers(fake);
    const refresh = manager(vault).refreshAfterUnauthorized('alice', before.tokens!.access_token);
    await hold.arrived;
    keyring.outage = 'all';
    hold.release();
    const used = await refresh;
    expect(used.accessToken).not.toBe(before.tokens!.access_token);
    expect(await readdir(home.paths.journalDir)).toHaveLength(1);
    // Loads (a `list`) while the keychain is gone, then back but locked, keep the record.
    await vault.listProfiles();
    keyring.outage = 'writes';
    await vault.listProfiles();
    expect(await readdir(home.paths.journalDir)).toHaveLength(1);
    // A refresh now reads the replaced token from the keychain, and must not spend it.
    const calls = issuerStats(fake).refreshToken;
    const refused = await rejection(
      manager(vault).refreshAfterUnauthorized('alice', before.tokens!.access_token),
    );
    expect(refused.code).toBe('keyring_unavailable');
    expect(issuerStats(fake).refreshToken).toBe(calls);
    // The keychain works again: the next load saves the rotated tokens, which are live.
    keyring.outage = 'none';
    const saved = await vault.readAuth('alice');
    expect(saved.tokens!.access_token).toBe(used.accessToken);
    expect(refreshTokenIsValid(fake, saved.tokens!.refresh_token)).toBe(true);
    expect(await readdir(home.paths.journalDir)).toEqual([]);
    await manager(vault).refreshAfterUnauthorized('alice', used.accessToken);
    expect((await health.get('alice', Date.now())).status).not.toBe('auth_error');
  });
});

describe('a keychain profile whose refresh is killed while its keychain write is under way', () => {
  it('the next refresh puts the rotated tokens in place instead of spending the dead token', async () => {
    // A keychain whose writes can be left hanging: a process killed mid-write never stores them.
    class DyingKeyring extends MemoryKeyring {
      dying = false;
      reached = () => {};
      readonly writing = new Promise<void>((resolve) => (this.reached = resolve));
      override async set(account: string, value: string): Promise<void> {
        if (!this.dying) return super.set(account, value);
        this.reached();
        await new Promise(() => {});
      }
    }
    const keyring = new DyingKeyring();
    const vault = new ProfileStore({ paths: home.paths, keyring, logger });
    await vault.saveSignIn({
      auth: issueAuthDotJson(fake, 'alice@example.com') as AuthDotJson,
      requestedName: 'alice',
      store: 'keyring',
    });
    const before = await vault.readAuth('alice');
    keyring.dying = true;
    void manager(vault).refreshAfterUnauthorized('alice', before.tokens!.access_token);
    await keyring.writing;
    // The process is dead: the issuer spent the token the keychain still holds, and the next
    // process finds the dead holder's lock gone.
    expect(refreshTokenIsValid(fake, before.tokens!.refresh_token)).toBe(false);
    await rm(join(home.paths.locksDir, 'refresh-alice.lock'), { recursive: true, force: true });
    keyring.dying = false;

    const next = new ProfileStore({ paths: home.paths, keyring, logger });
    const credentials = await manager(next).refreshAfterUnauthorized(
      'alice',
      before.tokens!.access_token,
    );
    const now = await next.readAuth('alice');
    expect(credentials.accessToken).toBe(now.tokens!.access_token);
    expect(refreshTokenIsValid(fake, now.tokens!.refresh_token)).toBe(true);
    expect((await health.get('alice', Date.now())).status).not.toBe('auth_error');
    expect(await readdir(home.paths.profileDir('alice'))).toEqual([]);
    expect(logger.lines.join('\n')).not.toContain(now.tokens!.refresh_token);
  });
});

describe('a lock lost to a paused holder', () => {
  it('never overwrites tokens another process wrote meanwhile', async () => {
    const alice = await store.readAuth('alice');
    const hold = holdTokenAnswers(fake);
    const refresh = manager().refreshAfterUnauthorized('alice', alice.tokens!.access_token);
    await hold.arrived;
    // Another process, having taken the lock over, signed alice in afresh.
    const newer = issueAuthDotJson(fake, 'alice@example.com') as AuthDotJson;
    await store.writeAuth('alice', newer);
    hold.release();
    const credentials = await refresh;
    expect(credentials.accessToken).toBe(newer.tokens!.access_token);
    expect(await refreshTokenOf('alice')).toBe(newer.tokens!.refresh_token);
  });

  it('re-reads the file right before the request and never spends a token already rotated', async () => {
    const stale = await store.readAuth('alice');
    // Another process refreshed alice after this one took its snapshot.
    await manager().refreshAfterUnauthorized('alice', stale.tokens!.access_token);
    const rotated = await refreshTokenOf('alice');
    const calls = issuerStats(fake).refreshToken;
    let first = true;
    const snapshot: TokenStore = {
      getProfile: (name) => store.getProfile(name),
      async readAuth(name) {
        if (first) {
          first = false;
          return stale;
        }
        return store.readAuth(name);
      },
      writeAuth: (name, auth) => store.writeAuth(name, auth),
    };
    const credentials = await manager(snapshot).refreshAfterUnauthorized(
      'alice',
      stale.tokens!.access_token,
    );
    expect(issuerStats(fake).refreshToken).toBe(calls);
    expect(credentials.accessToken).not.toBe(stale.tokens!.access_token);
    expect(refreshTokenIsValid(fake, rotated)).toBe(true);
  });
});

describe('transient refresh failures', () => {
  it('a 5xx, a 401 without a permanent code and a timeout never mark the profile auth_error', async () => {
    const alice = await store.readAuth('alice');
    await health.markOk('alice', Date.now());
    for (const script of [
      { status: 502, body: { error: 'bad gateway' } },
      { status: 401, body: { error: { message: 'proxy says no' } } },
    ]) {
      scriptRefresh(fake, 'alice@example.com', script);
      const error = await rejection(
        manager().refreshAfterUnauthorized('alice', alice.tokens!.access_token),
      );
      expect(error.code).toBe('refresh_transient');
      expect((await health.get('alice', Date.now())).status).toBe('ok');
    }
    // The token was never spent: the profile heals on the next try.
    expect(refreshTokenIsValid(fake, alice.tokens!.refresh_token)).toBe(true);
    await manager().refreshAfterUnauthorized('alice', alice.tokens!.access_token);
    expect(refreshTokenIsValid(fake, await refreshTokenOf('alice'))).toBe(true);
  });
});

describe('locks', () => {
  it('holds its lock folder private (0700), as every folder of the home', async () => {
    const { withLock } = await import('../../core/home/lock.ts');
    const { stat } = await import('node:fs/promises');
    const previous = process.umask(0o022);
    try {
      const mode = await withLock(home.paths.locksDir, 'probe', async () => {
        return (await stat(`${home.paths.locksDir}/probe.lock`)).mode & 0o777;
      });
      expect(mode).toBe(0o700);
    } finally {
      process.umask(previous);
    }
  });

  it('clears a lock left by a process that is gone instead of waiting out the stale time', async () => {
    const { withLock } = await import('../../core/home/lock.ts');
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = child.pid!;
    await new Promise((resolve) => child.on('exit', resolve));
    const { mkdir } = await import('node:fs/promises');
    const { hostname } = await import('node:os');
    await mkdir(`${home.paths.locksDir}/registry.lock`, { recursive: true });
    await writeFile(
      `${home.paths.locksDir}/registry.lock/owner-${deadPid}-a-dead-run-1`,
      JSON.stringify({ pid: deadPid, host: hostname() }),
    );
    const started = Date.now();
    await withLock(home.paths.locksDir, 'registry', async () => undefined);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('removes a foreign file named like a lock, even one dated in the future', async () => {
    const { withLock } = await import('../../core/home/lock.ts');
    const { mkdir, utimes } = await import('node:fs/promises');
    await mkdir(home.paths.locksDir, { recursive: true });
    const foreign = `${home.paths.locksDir}/health.lock`;
    await writeFile(foreign, 'not a lock');
    const future = new Date(Date.now() + 365 * 24 * 3600_000);
    await utimes(foreign, future, future);
    const warnings: string[] = [];
    await withLock(home.paths.locksDir, 'health', async () => undefined, {
      waitMs: 2_000,
      warn: (message) => warnings.push(message),
    });
    expect(warnings.join('\n')).toContain('not a lock Codex Lab made');
    // A lock of another machine's holder whose record is dated in the future would never go
    // stale: it is stale at once.
    const futureDir = `${home.paths.locksDir}/quota.lock`;
    await mkdir(futureDir);
    const futureRecord = `${futureDir}/owner-1-another-machine-1`;
    await writeFile(futureRecord, JSON.stringify({ pid: 1, host: 'another-machine.example' }));
    await utimes(futureRecord, future, future);
    const started = Date.now();
    await withLock(home.paths.locksDir, 'quota', async () => undefined, {
      waitMs: 5_000,
      warn: (message) => warnings.push(message),
    });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(warnings.join('\n')).toContain('dated in the future');
  });

  it('never takes a paused live holder’s lock over, and clears a killed holder’s at once', async () => {
    const { withLock } = await import('../../core/home/lock.ts');
    const holder = (pause: 'SIGSTOP' | 'none') =>
      spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { withLock } = await import(${JSON.stringify(new URL('../../core/home/lock.ts', import.meta.url).href)});
await withLock(${JSON.stringify(home.paths.locksDir)}, 'refresh-held', async () => {
  console.log('held');
  ${pause === 'SIGSTOP' ? "process.kill(process.pid, 'SIGSTOP');" : 'await new Promise(() => {});'}
}, { staleMs: 1000 });`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
    // Paused mid-operation (it may have spent a refresh token): its lock is not stale, however
    // long the pause. Another process waits, then says another process holds it.
    const paused = holder('SIGSTOP');
    await new Promise((resolve) => paused.stdout!.once('data', resolve));
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const waiting = await withLock(home.paths.locksDir, 'refresh-held', async () => 'taken', {
      staleMs: 1000,
      waitMs: 1500,
    }).catch((error: unknown) => error);
    expect(waiting).toMatchObject({ code: 'lock_timeout' });
    const pausedExit = new Promise((resolve) => paused.on('exit', resolve));
    paused.kill('SIGKILL');
    await pausedExit;
    // A killed holder's lock is cleared at once, not after a stale time.
    const began = Date.now();
    expect(
      await withLock(home.paths.locksDir, 'refresh-held', async () => 'taken', { staleMs: 60_000 }),
    ).toBe('taken');
    expect(Date.now() - began).toBeLessThan(2000);
  }, 20_000);

  it('survives losing its lock while paused: no crash, the lease says compromised', async () => {
    const { withLock } = await import('../../core/home/lock.ts');
    const lockPath = `${home.paths.locksDir}/paused.lock`;
    const lease = await withLock(
      home.paths.locksDir,
      'paused',
      async (held) => {
        // Another process takes the lock over once it is stale, while this one is paused.
        const taker = spawn(process.execPath, [
          '-e',
          `const fs = require('node:fs'); console.log('up'); setTimeout(() => { fs.rmSync(${JSON.stringify(lockPath)}, { recursive: true }); fs.mkdirSync(${JSON.stringify(lockPath)}); }, 2300);`,
        ]);
        await new Promise((resolve) => taker.stdout.once('data', resolve));
        const exited = new Promise((resolve) => taker.on('exit', resolve));
        // A paused process (Ctrl-Z, a debugger): the event loop stops past the stale time.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3_000);
        await exited;
        // The library notices on its next update (about a second later) and must not throw.
        for (let waited = 0; !held.compromised && waited < 5_000; waited += 50) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return held;
      },
      { staleMs: 2_000 },
    );
    expect(lease.compromised).toBe(true);
  }, 20_000);
});

describe('the journal', () => {
  it('is never read as a profile and holds no token in the clear for what it replaced', async () => {
    const alice = await store.readAuth('alice');
    await store.saveRecoveredTokens('alice', alice, 'spent-token-value');
    const [file] = await readdir(home.paths.journalDir);
    const text = await readFile(`${home.paths.journalDir}/${file}`, 'utf8');
    expect(text).not.toContain('spent-token-value');
    // Nobody holds "spent-token-value", so a load drops the record rather than guess.
    await store.recover();
    expect(await readdir(home.paths.journalDir)).toEqual([]);
    expect(await refreshTokenOf('alice')).toBe(alice.tokens!.refresh_token);
  });
});
