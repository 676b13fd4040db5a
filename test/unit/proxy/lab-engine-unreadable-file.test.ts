/**
 * An auth file that becomes unreadable while the router runs: the router still holds the
 * profile's credentials for a while, but the views already call it "auth file unreadable ·
 * New sessions → another". The router agrees from the once-a-second file check on: new sessions
 * go elsewhere, and the file put back brings the profile back just as fast.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { labPaths } from '../../../core/home/paths.ts';
import { silentLogger } from '../../../core/ports.ts';
import { LabEngine } from '../../../core/proxy/lab-engine.ts';
import type { NoPick, ProfilePick, ProxyRequestInfo } from '../../../core/proxy/engine.ts';
import { emptyRegistry } from '../../../core/profiles/schema.ts';
import { QuotaBook } from '../../../core/quota/quota-book.ts';
import { ActivityLog } from '../../../core/service/events.ts';
import { HealthStore } from '../../../core/state/health-store.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';
import { FakeClock } from '../router/fake-clock.ts';

const goodAuth = JSON.stringify({
  OPENAI_API_KEY: null,
  tokens: { id_token: 'id', access_token: 'access', refresh_token: 'refresh', account_id: 'acc' },
  last_refresh: '2026-01-05T12:00:00Z',
});

function newSession(id: string): ProxyRequestInfo {
  return {
    kind: 'responses',
    method: 'POST',
    path: '/codex/responses',
    headers: { 'session-id': id },
    body: null,
  };
}

async function engineWith(names: string[]) {
  const home = tempFolder('codex-lab-unreadable-');
  const paths = labPaths(home);
  const clock = new FakeClock();
  const authOf = (name: string) => join(home, 'auth', name, 'auth.json');
  for (const name of names) {
    mkdirSync(dirname(authOf(name)), { recursive: true });
    writeFileSync(authOf(name), goodAuth, { mode: 0o600 });
  }
  const registry = emptyRegistry();
  const engine = new LabEngine({
    paths,
    store: {
      readRegistry: async () => registry,
      listProfiles: async () => names.map((name) => ({ name })),
      authFileOf: (entry) => authOf(entry.name),
    },
    health: new HealthStore(paths),
    credentials: {
      getCredentials: async () => ({ accessToken: 'token', accountId: null }),
      refreshAfterUnauthorized: async () => ({ accessToken: 'token', accountId: null }),
    },
    activity: new ActivityLog(clock),
    quota: new QuotaBook({
      clock,
      path: join(home, 'quota.json'),
      logger: silentLogger,
      write: async () => undefined,
    }),
    clock,
    logger: silentLogger,
  });
  await engine.load();
  onTestFinished(() => engine.settled());
  const route = async (id: string) => await engine.prepare(newSession(id)).choose(new Map());
  return { engine, clock, authOf, route };
}

describe('an auth file that becomes unreadable while the router runs', () => {
  it('takes no new session from the next file check on, and serves again once the file is back', async () => {
    const { engine, clock, authOf, route } = await engineWith(['first', 'spare']);
    expect(await route('s1')).toMatchObject({ ok: true, profile: 'first' });
    // Its credentials are cached (for 30 s): only the file says the profile cannot be used.
    await engine.credentials('first');

    writeFileSync(authOf('first'), '{ not json');
    clock.advance(1_100);
    expect(((await route('s2')) as ProfilePick).profile).toBe('spare');
    clock.advance(1_100);
    expect(((await route('s3')) as ProfilePick).profile).toBe('spare');

    writeFileSync(authOf('first'), goodAuth);
    clock.advance(1_100);
    expect(((await route('s4')) as ProfilePick).profile).toBe('first');
  });

  it('serves the turn right after the file is mended, however soon after the last check', async () => {
    const { clock, authOf, route } = await engineWith(['first']);
    writeFileSync(authOf('first'), '{ not json');
    clock.advance(1_100);
    expect(await route('s1')).toMatchObject({ ok: false, code: 'corrupt_file' });
    // Mended within the same second: no mark outlives the fix.
    writeFileSync(authOf('first'), goodAuth);
    clock.advance(10);
    expect(await route('s2')).toMatchObject({ ok: true, profile: 'first' });
  });

  it('a turn pinned to it is refused naming the file, not a sign-in', async () => {
    const { clock, authOf, engine } = await engineWith(['first', 'spare']);
    writeFileSync(authOf('first'), '{ not json');
    clock.advance(1_100);
    const refused = (await engine
      .prepare({
        ...newSession('s1'),
        headers: { 'session-id': 's1', 'x-codex-lab-profile': 'first' },
      })
      .choose(new Map())) as NoPick;
    expect(refused).toMatchObject({ ok: false, status: 400, code: 'corrupt_file' });
    expect(refused.message).toContain(authOf('first'));
    expect(refused.message).not.toContain('sign-in');
  });
});
