/** `codex-lab login` as a real child process against the fake issuer. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProfileStore } from '../../core/profiles/store.ts';
import { saidToUser } from '../helpers/cli.ts';
import type { FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { issuedSecrets, issuerStats, setNextLogin } from '../fakes/fake-issuer.ts';
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

beforeEach(async () => {
  fixture = await startSignInFixture();
  ({ fake, home } = fixture);
});

afterEach(async () => {
  killRunning(processes, 'SIGTERM');
  await fixture.close();
});

function login(args: string[], extraEnv: Record<string, string> = {}): CliProcess {
  const running = spawnCli(['login', ...args], { ...loginEnv(home, fake), ...extraEnv });
  processes.push(running);
  return running;
}

describe('codex-lab login', () => {
  it('adds three named profiles by following the printed URL; no token in any output', async () => {
    const outputs: string[] = [];
    const runs: Array<[string, string[], string]> = [
      [
        'alice@example.com',
        ['alice', '--no-browser'],
        'Signed in as alice@example.com (plus) — saved as profile "alice".',
      ],
      [
        'bob@example.com',
        ['--no-browser'],
        'Signed in as bob@example.com (pro) — saved as profile "bob".',
      ],
      [
        'carol@example.com',
        ['work', '--no-browser', '--timeout', '30'],
        'Signed in as carol@example.com (team) — saved as profile "work".',
      ],
    ];
    for (const [email, args, expected] of runs) {
      setNextLogin(fake, email);
      const running = login(args);
      const url = await running.waitForLine(authorizeLine);
      const page = await visit(url);
      expect(page.text).toContain('Signed in');
      expect(await running.exited, running.stderr()).toBe(0);
      expect(running.stdout().trim().split('\n').at(-1)).toBe(expected);
      outputs.push(running.stdout(), running.stderr());
    }
    const profiles = await new ProfileStore({ paths: home.paths }).listProfiles();
    expect(
      profiles.map((profile) => [profile.name, profile.email, profile.plan, profile.accountId]),
    ).toEqual([
      ['alice', 'alice@example.com', 'plus', 'acct-alice'],
      ['bob', 'bob@example.com', 'pro', 'acct-bob'],
      ['work', 'carol@example.com', 'team', 'acct-carol'],
    ]);
    expect(issuerStats(fake).revoke).toBe(0);
    expect(outputs.join('').length).toBeGreaterThan(0);
    expect(leakedSecrets(issuedSecrets(fake), outputs)).toEqual([]);
  });

  it('reads a typed name as every command does: ALICE renews alice, WORK is saved as work', async () => {
    setNextLogin(fake, 'alice@example.com');
    const first = login(['alice', '--no-browser']);
    await visit(await first.waitForLine(authorizeLine));
    expect(await first.exited, first.stderr()).toBe(0);

    setNextLogin(fake, 'alice@example.com');
    const again = login(['ALICE', '--no-browser']);
    await visit(await again.waitForLine(authorizeLine));
    expect(await again.exited, again.stderr()).toBe(0);
    expect(again.stdout()).toContain("alice is alice@example.com's profile");
    expect(again.stdout().trim().split('\n').at(-1)).toBe(
      'Signed in as alice@example.com (plus) — updated profile "alice".',
    );

    setNextLogin(fake, 'carol@example.com');
    const work = login(['WORK', '--no-browser']);
    await visit(await work.waitForLine(authorizeLine));
    expect(await work.exited, work.stderr()).toBe(0);
    expect(work.stdout()).toContain('WORK is saved as work (profile names are lower case).');
    expect(work.stdout().trim().split('\n').at(-1)).toBe(
      'Signed in as carol@example.com (team) — saved as profile "work".',
    );
    const profiles = await new ProfileStore({ paths: home.paths }).listProfiles();
    expect(profiles.map((profile) => profile.name)).toEqual(['alice', 'work']);
  });

  it('says so when the sign-in is another profile’s account: that one is renewed, the asked one is not', async () => {
    for (const [email, name] of [
      ['alice@example.com', 'alice'],
      ['bob@example.com', 'bob'],
    ]) {
      setNextLogin(fake, email!);
      const running = login([name!, '--no-browser']);
      await visit(await running.waitForLine(authorizeLine));
      expect(await running.exited, running.stderr()).toBe(0);
    }
    setNextLogin(fake, 'bob@example.com');
    const wrong = login(['alice', '--no-browser']);
    await visit(await wrong.waitForLine(authorizeLine));
    expect(await wrong.exited, wrong.stderr()).toBe(0);
    expect(wrong.stdout().trim().split('\n').at(-1)).toBe(
      'Signed in as bob@example.com — that is profile "bob"\'s account, whose sign-in was renewed; "alice" was not signed in again: sign in to it with its own account (alice@example.com).',
    );
    const profiles = await new ProfileStore({ paths: home.paths }).listProfiles();
    expect(profiles.map((profile) => [profile.name, profile.email])).toEqual([
      ['alice', 'alice@example.com'],
      ['bob', 'bob@example.com'],
    ]);
  });

  it('exits non-zero with one clear line when access is denied, saving nothing', async () => {
    setNextLogin(fake, { error: 'access_denied', description: 'missing_codex_entitlement' });
    const running = login(['--no-browser']);
    await visit(await running.waitForLine(authorizeLine));
    expect(await running.exited).toBe(1);
    const errorLines = saidToUser(running.stderr());
    expect(errorLines).toEqual([
      expect.stringContaining('Codex is not enabled for your workspace'),
    ]);
    expect(await new ProfileStore({ paths: home.paths }).listProfiles()).toEqual([]);
  });

  it('prints the URL when no browser can open it (the opener exits 3, as xdg-open does headless)', async () => {
    const headless = join(home.home, 'headless-bin');
    mkdirSync(headless);
    writeFileSync(join(headless, 'xdg-open'), '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    const running = login(['--timeout', '1'], { PATH: headless });
    const line = await running.waitForLine(authorizeLine);
    expect(line).toMatch(/^https?:\/\//);
    expect(running.stdout()).toContain('If your browser did not open, open this URL to sign in:');
    expect(await running.exited).toBe(1);
  });

  it('times out with --timeout', async () => {
    const running = login(['--no-browser', '--timeout', '1']);
    await running.waitForLine(authorizeLine);
    expect(await running.exited).toBe(1);
    expect(running.stderr()).toContain('No sign-in arrived within 1 second');
  });

  it('names the busy port and what to do', async () => {
    const blocker: Server = createServer((_request, response) => response.end('busy'));
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const running = login(['--no-browser'], { CODEX_LAB_CALLBACK_PORT: String(port) });
      expect(await running.exited).toBe(1);
      expect(running.stderr()).toContain(`codex-lab: Port 127.0.0.1:${port} is already in use`);
      expect(running.stderr()).toContain('Close the program using it');
      // docs/auth.md section 2: the sentence names the setting that chose the port.
      expect(running.stderr()).toContain(
        "cannot listen there (CODEX_LAB_CALLBACK_PORT chooses it; 1455 by default, the port OpenAI's sign-in expects).",
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('signs in with --device', async () => {
    setNextLogin(fake, 'bob@example.com');
    const running = login(['--device']);
    expect(await running.waitForLine(/\/codex\/device$/)).toContain(
      `${fake.issuerUrl}/codex/device`,
    );
    expect(await running.exited, running.stderr()).toBe(0);
    expect(running.stdout()).toMatch(/^ {2}[0-9A-F]{4}-[0-9A-F]{4}$/m);
    expect(running.stdout()).toContain(
      'Signed in as bob@example.com (pro) — saved as profile "bob".',
    );
    const auth = await new ProfileStore({ paths: home.paths }).readAuth('bob');
    expect(auth.OPENAI_API_KEY).toBeNull();
    expect(auth.tokens?.account_id).toBe('acct-bob');
    const exchange = fake.requests.find((request) =>
      request.body.startsWith('grant_type=authorization_code'),
    );
    expect(new URLSearchParams(exchange!.body).get('redirect_uri')).toBe(
      `${fake.issuerUrl}/deviceauth/callback`,
    );
    expect(leakedSecrets(issuedSecrets(fake), [running.stdout(), running.stderr()])).toEqual([]);
  });

  it('refuses a --timeout longer than a timer can wait, before anything starts', async () => {
    for (const seconds of ['99999999999', '3000000']) {
      const running = login(['--no-browser', '--timeout', seconds]);
      expect(await running.exited).toBe(2);
      expect(running.stderr().trim()).toBe(
        `codex-lab: --timeout must be at most 2147483 seconds (about 24 days), not "${seconds}".`,
      );
      expect(running.stdout()).not.toMatch(authorizeLine);
    }
  });

  it('words a short device-code limit in seconds', async () => {
    const running = login(['--device', '--timeout', '2']);
    expect(await running.exited).toBe(1);
    expect(running.stderr()).toContain(
      'Device code sign-in was not approved within 2 seconds. Run codex-lab login --device again.',
    );
  });

  it('rejects a bad --timeout', async () => {
    const running = login(['--timeout', 'soon']);
    expect(await running.exited).toBe(2);
    expect(running.stderr()).toContain('--timeout must be a positive number of seconds');
  });
});
