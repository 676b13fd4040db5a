/**
 * `codex-lab login NAME` for a profile whose auth.json cannot be read, as a real child process
 * against the fake issuer: a sign-in as the account the registry records for it sets the broken
 * file aside (never overwritten, never deleted) and saves the fresh tokens; another account is
 * refused as before; with no account recorded, the command refuses before any browser step.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProfileStore } from '../../core/profiles/store.ts';
import type { FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { createTestLabService } from '../helpers/lab-service.ts';
import { issuedSecrets, setNextLogin } from '../fakes/fake-issuer.ts';
import {
  authorizeLine,
  killRunning,
  leakedSecrets,
  loginEnv,
  spawnCli,
  startSignInFixture,
  visit,
  type CliProcess,
  type SignInFixture,
  type TempHome,
} from '../helpers/auth-harness.ts';

let fixture: SignInFixture;
let fake: FakeChatGpt;
let home: TempHome;
const processes: CliProcess[] = [];
const broken = '{ "tokens": { "refresh_token": "kept-by-hand';

beforeEach(async () => {
  fixture = await startSignInFixture();
  ({ fake, home } = fixture);
});

afterEach(async () => {
  killRunning(processes, 'SIGTERM');
  await fixture.close();
});

function login(args: string[]): CliProcess {
  const running = spawnCli(['login', ...args], loginEnv(home, fake));
  processes.push(running);
  return running;
}

async function signIn(email: string, args: string[]): Promise<CliProcess> {
  setNextLogin(fake, email);
  const running = login(args);
  await visit(await running.waitForLine(authorizeLine));
  await running.exited;
  return running;
}

function asideFiles(auth: string): string[] {
  return readdirSync(dirname(auth)).filter((file) => file.startsWith('auth.json.unreadable-'));
}

describe('codex-lab login for a profile whose auth file cannot be read', () => {
  it('as the same account: the broken file is set aside under a new name and the tokens saved', async () => {
    const first = await signIn('alice@example.com', ['house', '--no-browser']);
    expect(await first.exited, first.stderr()).toBe(0);
    const auth = home.paths.profileAuth('house');
    writeFileSync(auth, broken);

    const again = await signIn('alice@example.com', ['house', '--no-browser']);
    expect(await again.exited, again.stderr()).toBe(0);
    const aside = asideFiles(auth);
    expect(aside).toHaveLength(1);
    const kept = join(dirname(auth), aside[0]!);
    // The broken bytes are kept as they were, readable by the user only.
    expect(readFileSync(kept, 'utf8')).toBe(broken);
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    expect(again.stdout()).toContain(kept);
    expect(again.stdout()).toContain(
      'Signed in as alice@example.com (plus) — updated profile "house"',
    );
    const saved = await new ProfileStore({ paths: home.paths }).readAuth('house');
    expect(saved.tokens?.account_id).toBe('acct-alice');
    expect(leakedSecrets(issuedSecrets(fake), [again.stdout(), again.stderr()])).toEqual([]);
  });

  it('as another account: refused as before, the broken file left where it is', async () => {
    await signIn('alice@example.com', ['house', '--no-browser']);
    const auth = home.paths.profileAuth('house');
    writeFileSync(auth, broken);

    const other = await signIn('bob@example.com', ['house', '--no-browser']);
    // "house" is alice's (`name_taken`): the user's input, exit 2.
    expect(await other.exited).toBe(2);
    expect(readFileSync(auth, 'utf8')).toBe(broken);
    expect(asideFiles(auth)).toEqual([]);
  });

  it('with no account recorded for the profile: refused before the sign-in URL, naming the file', async () => {
    await signIn('alice@example.com', ['house', '--no-browser']);
    const auth = home.paths.profileAuth('house');
    writeFileSync(auth, broken);
    const registry = JSON.parse(readFileSync(home.paths.registry, 'utf8')) as {
      profiles: Array<Record<string, unknown>>;
    };
    for (const profile of registry.profiles) {
      profile['email'] = null;
      profile['accountId'] = null;
    }
    writeFileSync(home.paths.registry, JSON.stringify(registry));

    const running = login(['house', '--no-browser', '--timeout', '5']);
    expect(await running.exited).toBe(1);
    expect(running.stdout()).not.toMatch(/https?:\/\//);
    expect(running.stderr()).toContain(`codex-lab: ${auth} is not valid JSON`);
    expect(readFileSync(auth, 'utf8')).toBe(broken);
    expect(asideFiles(auth)).toEqual([]);
  });

  it('through the dashboard: "Sign in again" as the same account sets the file aside and says so', async () => {
    await signIn('alice@example.com', ['house', '--no-browser']);
    const auth = home.paths.profileAuth('house');
    writeFileSync(auth, broken);
    const service = createTestLabService(fake, home.paths, {
      env: { CODEX_LAB_CALLBACK_PORT: '0' },
    });
    try {
      setNextLogin(fake, 'alice@example.com');
      const started = await service.startLogin({ name: 'house', popup: false });
      if (!started.ok) throw new Error(started.message);
      await visit(started.value.authorizeUrl);
      await expect
        .poll(async () =>
          (await service.getState()).activity.some((entry) => entry.message.includes('kept as')),
        )
        .toBe(true);
      const [kept] = asideFiles(auth);
      expect(readFileSync(join(dirname(auth), kept!), 'utf8')).toBe(broken);
      const said = (await service.getState()).activity.find((entry) =>
        entry.message.includes('kept as'),
      );
      expect(said?.message).toContain(join(dirname(auth), kept!));
    } finally {
      await service.stop();
    }
  });

  it('through the dashboard: with no account recorded, "Sign in again" is refused before the browser', async () => {
    await signIn('alice@example.com', ['house', '--no-browser']);
    const auth = home.paths.profileAuth('house');
    writeFileSync(auth, broken);
    const registry = JSON.parse(readFileSync(home.paths.registry, 'utf8')) as {
      profiles: Array<Record<string, unknown>>;
    };
    for (const profile of registry.profiles) {
      profile['email'] = null;
      profile['accountId'] = null;
    }
    writeFileSync(home.paths.registry, JSON.stringify(registry));
    const service = createTestLabService(fake, home.paths, {
      env: { CODEX_LAB_CALLBACK_PORT: '0' },
    });
    try {
      const started = await service.startLogin({ name: 'house', popup: false });
      expect(started).toMatchObject({ ok: false, code: 'corrupt_file' });
      expect(started.ok ? '' : started.message).toContain(`${auth} is not valid JSON`);
      expect(readFileSync(auth, 'utf8')).toBe(broken);
    } finally {
      await service.stop();
    }
  });
});
