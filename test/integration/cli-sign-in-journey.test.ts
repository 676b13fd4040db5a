/**
 * Audit of issue 2 through the real `codex-lab` command: three sign-ins by following the printed
 * authorize URL, then `list --json` as a user would read it; bad input at `login` that must lose
 * nothing; and every output of login, list, rename, remove and a token refresh searched for every
 * token the fake issuer ever handed out.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeJwtClaims } from '../../core/profiles/jwt.ts';
import type { FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { expireAccessTokens, issuedSecrets, setNextLogin } from '../fakes/fake-issuer.ts';
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
import { runCodexLab, type CliRun } from '../helpers/cli.ts';

let fixture: SignInFixture;
let fake: FakeChatGpt;
let home: TempHome;
const processes: CliProcess[] = [];
const outputs: string[] = [];

beforeEach(async () => {
  fixture = await startSignInFixture();
  ({ fake, home } = fixture);
  outputs.length = 0;
});

afterEach(async () => {
  killRunning(processes);
  await fixture.close();
});

function env(): Record<string, string> {
  return { ...loginEnv(home, fake), CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl };
}

/** Runs `codex-lab login ARGS` and follows the printed URL like a browser. */
async function login(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const running = spawnCli(['login', '--no-browser', ...args], env());
  processes.push(running);
  const url = await running.waitForLine(authorizeLine).catch(() => undefined);
  if (url !== undefined) await visit(url);
  const code = await running.exited;
  outputs.push(running.stdout(), running.stderr());
  return { code, stdout: running.stdout(), stderr: running.stderr() };
}

async function cli(args: string[]): Promise<CliRun> {
  const run = await runCodexLab(args, { home: home.home, env: env() });
  outputs.push(run.stdout, run.stderr);
  return run;
}

interface ListedProfile {
  name: string;
  email: string | null;
  plan: string | null;
  accountId: string | null;
  active: boolean;
  status: string;
}

describe('sign-in to list through the codex-lab command', () => {
  it('three CLI sign-ins through the redirect flow show up in list --json with the id_token identity', async () => {
    const signIns: Array<[string, string[]]> = [
      ['alice@example.com', ['alice']],
      ['bob@example.com', []],
      ['carol@example.com', ['work']],
    ];
    for (const [email, args] of signIns) {
      setNextLogin(fake, email);
      const run = await login(args);
      expect(run.code, run.stderr).toBe(0);
    }
    const files = await Promise.all(
      ['alice', 'bob', 'work'].map(async (name) => {
        const auth = JSON.parse(await readFile(home.paths.profileAuth(name), 'utf8')) as {
          tokens: { id_token: string; refresh_token: string };
        };
        return { name, auth };
      }),
    );
    // Three distinct token families: nobody overwrote anybody.
    expect(new Set(files.map((file) => file.auth.tokens.refresh_token)).size).toBe(3);

    const listed = await cli(['list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const views = JSON.parse(listed.stdout) as ListedProfile[];
    expect(views.map((view) => view.name)).toEqual(['alice', 'bob', 'work']);
    for (const { name, auth } of files) {
      const claims = decodeJwtClaims(auth.tokens.id_token)!;
      const chatgpt = claims['https://api.openai.com/auth'] as Record<string, unknown>;
      const view = views.find((candidate) => candidate.name === name)!;
      expect(view).toMatchObject({
        email: claims['email'],
        plan: chatgpt['chatgpt_plan_type'],
        accountId: chatgpt['chatgpt_account_id'],
        active: false,
      });
      expect(['ok', 'unknown']).toContain(view.status);
    }
    expect(views.map((view) => [view.email, view.plan, view.accountId])).toEqual([
      ['alice@example.com', 'plus', 'acct-alice'],
      ['bob@example.com', 'pro', 'acct-bob'],
      ['carol@example.com', 'team', 'acct-carol'],
    ]);

    // Signing in again to bob re-authenticates "bob" instead of adding a fourth profile.
    setNextLogin(fake, 'bob@example.com');
    expect((await login([])).code).toBe(0);
    const again = JSON.parse((await cli(['list', '--json'])).stdout) as ListedProfile[];
    expect(again.map((view) => view.name)).toEqual(['alice', 'bob', 'work']);

    // The human table, rename, use, remove and a token refresh through the CLI.
    const human = await cli(['list']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/alice\s+alice@example\.com\s+plus/);
    expect((await cli(['rename', 'work', 'carol'])).code).toBe(0);
    expect((await cli(['use', 'carol'])).code).toBe(0);
    expireAccessTokens(fake, 'alice@example.com');
    const usage = await cli(['usage', 'alice', '--refresh', '--json']);
    expect(usage.code, usage.stderr).toBe(0);
    expect((await cli(['remove', 'bob'])).code).toBe(0);
    expect(outputs.join('').length).toBeGreaterThan(0);
    expect(leakedSecrets(issuedSecrets(fake), outputs)).toEqual([]);
  });

  it.each([
    ['../x', /"\.\.\/x" is not a valid profile name/],
    // Quoted as typed, though read as its lower case (`Alice` is alice: it renews that profile).
    ['A B', /"A B" is not a valid profile name/],
    ['x'.repeat(65), /65 characters long; use at most 64/],
    ['auto', /reserved/],
  ])(
    'login %j fails before any sign-in, with one clear line, leaving alice untouched',
    async (name, message) => {
      setNextLogin(fake, 'alice@example.com');
      expect((await login(['alice'])).code).toBe(0);
      const before = [
        await readFile(home.paths.registry, 'utf8'),
        await readFile(home.paths.profileAuth('alice'), 'utf8'),
      ];
      setNextLogin(fake, 'bob@example.com');
      const run = await login([name]);
      expect(run.code).toBe(2);
      // Refused before the browser step: no sign-in is wasted on a name that could never be saved.
      expect(run.stdout).not.toContain('/oauth/authorize');
      const errors = run.stderr.split('\n').filter((line) => line.trim() !== '');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^codex-lab: /);
      expect(errors[0]).toMatch(message);
      expect([
        await readFile(home.paths.registry, 'utf8'),
        await readFile(home.paths.profileAuth('alice'), 'utf8'),
      ]).toEqual(before);
    },
  );

  it('a denied or mismatched sign-in leaves an existing profile byte for byte', async () => {
    setNextLogin(fake, 'alice@example.com');
    expect((await login(['alice'])).code).toBe(0);
    const before = [
      await readFile(home.paths.registry, 'utf8'),
      await readFile(home.paths.profileAuth('alice'), 'utf8'),
    ];
    setNextLogin(fake, { error: 'access_denied' });
    const denied = await login(['alice']);
    expect(denied.code).toBe(1);
    // What went wrong, then the command that starts this very sign-in again (said once).
    expect(denied.stderr).toContain(
      'codex-lab: Sign-in was denied or cancelled at the issuer (access_denied). Run codex-lab login alice again.\n',
    );

    // A callback with a wrong state: the login keeps waiting, then times out; nothing changes.
    const running = spawnCli(['login', '--no-browser', '--timeout', '2', 'alice'], env());
    processes.push(running);
    const url = new URL(await running.waitForLine(authorizeLine));
    const redirect = new URL(url.searchParams.get('redirect_uri')!);
    const wrong = await fetch(`${redirect.origin}${redirect.pathname}?code=x&state=wrong`);
    expect(wrong.status).toBe(400);
    expect(await running.exited).toBe(1);
    outputs.push(running.stdout(), running.stderr());
    expect([
      await readFile(home.paths.registry, 'utf8'),
      await readFile(home.paths.profileAuth('alice'), 'utf8'),
    ]).toEqual(before);
    expect(leakedSecrets(issuedSecrets(fake), outputs)).toEqual([]);
  });

  it('login with a corrupt registry names the file, exits 1 and leaves it unchanged', async () => {
    const broken = '{"version":1,"profiles":[';
    await writeFile(home.paths.registry, broken, { mode: 0o600 });
    setNextLogin(fake, 'alice@example.com');
    const run = await login([]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`codex-lab: ${home.paths.registry} is not valid JSON`);
    expect(await readFile(home.paths.registry, 'utf8')).toBe(broken);
    await rm(home.paths.registry);
  });
});
