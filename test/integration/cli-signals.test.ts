/**
 * Ctrl-C and SIGTERM during a refresh in a one-shot command (issue 9, item 2) or in `serve`: the
 * issuer has already rotated the token and holds its answer; the signals arrive; the answer is
 * then let go. The command must write the rotated token before it exits, however many signals came.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuthDotJson } from '../../core/profiles/schema.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import type { FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import {
  expireAccessTokens,
  holdTokenAnswers,
  issueAuthDotJson,
  refreshTokenIsValid,
  setNextLogin,
} from '../fakes/fake-issuer.ts';
import {
  authorizeLine,
  killRunning,
  loginEnv,
  spawnCli,
  startSignInFixture,
  visit,
  type SignInFixture,
  type TempHome,
} from '../helpers/auth-harness.ts';
import { runCodexLab } from '../helpers/cli.ts';
import { codexTurnBody } from '../helpers/lab-service.ts';

let fixture: SignInFixture;
let fake: FakeChatGpt;
let home: TempHome;
let store: ProfileStore;

beforeEach(async () => {
  fixture = await startSignInFixture([{ email: 'alice@example.com' }]);
  ({ fake, home } = fixture);
  store = new ProfileStore({ paths: home.paths });
  await store.saveSignIn({
    auth: issueAuthDotJson(fake, 'alice@example.com') as AuthDotJson,
    requestedName: 'alice',
  });
});

afterEach(() => fixture.close());

/** The exit code of a command a signal asked to stop (128 + the signal's number). */
const exitCodeOf = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

describe.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s during usage --refresh', (signal) => {
  it('exits only after the rotated token is on disk', async () => {
    const before = (await store.readAuth('alice')).tokens!.refresh_token;
    // The usage endpoint rejects the access token, so the command refreshes it.
    expireAccessTokens(fake, 'alice@example.com');
    const hold = holdTokenAnswers(fake);
    const cli = spawnCli(['usage', '--refresh'], {
      CODEX_LAB_HOME: home.home,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    });
    await hold.arrived;
    cli.child.kill(signal);
    // The signal is in; the issuer's answer arrives a moment later.
    await new Promise((resolve) => setTimeout(resolve, 300));
    hold.release();
    const code = await cli.exited;
    expect(code).toBe(exitCodeOf[signal]);
    const after = (await store.readAuth('alice')).tokens!.refresh_token;
    expect(after).not.toBe(before);
    expect(refreshTokenIsValid(fake, after)).toBe(true);
    expect(cli.stderr()).toContain('finishing a token refresh');
  });
});

describe.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s three times during serve', (signal) => {
  it('stops, finishes the refresh, then says it stopped and exits 0 with the rotated token kept', async () => {
    const before = (await store.readAuth('alice')).tokens!.refresh_token;
    const serve = spawnCli(['serve', '--port', '0'], {
      CODEX_LAB_HOME: home.home,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    });
    try {
      const url = /listening on (\S+)/.exec(await serve.waitForLine(/listening on http/))![1]!;
      const bearer = (await readFile(home.paths.routerToken, 'utf8')).trim();
      const turn = (session: string) =>
        fetch(`${url}/backend-api/codex/responses`, {
          method: 'POST',
          headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
          body: JSON.stringify(codexTurnBody({ session })),
        }).then((answer) => answer.text());
      // A first turn settles the router's start-up reads; the next one needs a refresh.
      await turn('s-warm');
      const hold = holdTokenAnswers(fake);
      expireAccessTokens(fake, 'alice@example.com');
      const held = turn('s-held').catch(() => '');
      await hold.arrived;
      // The user's way out: the stop (turns drain), again (streams end), and again.
      serve.child.kill(signal);
      await serve.waitForStderr(/Letting the request in flight finish|finishing a token refresh/);
      serve.child.kill(signal);
      await serve.waitForStderr(/finishing a token refresh|router stopped/);
      serve.child.kill(signal);
      // The third signal is answered by the same line again (a process it killed says nothing).
      while (serve.child.exitCode === null && serve.child.signalCode === null) {
        if (serve.stderr().match(/finishing a token refresh/g)?.length === 2) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      hold.release();
      expect(await serve.exited).toBe(0);
      await held;
      const after = (await store.readAuth('alice')).tokens!.refresh_token;
      expect(after).not.toBe(before);
      expect(refreshTokenIsValid(fake, after)).toBe(true);
      const said = serve.stderr();
      const finishing = said.indexOf('codex-lab: finishing a token refresh before exiting…');
      expect(finishing).toBeGreaterThan(-1);
      expect(said.indexOf('Codex Lab router stopped.')).toBeGreaterThan(finishing);
      expect(said.match(/finishing a token refresh/g)).toHaveLength(2);
      expect(await readdir(home.paths.locksDir)).toEqual([]);
    } finally {
      killRunning([serve]);
    }
  });
});

describe.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s during login', (signal) => {
  it('exits only after the signed-in tokens are saved, once the code exchange is under way', async () => {
    const before = (await store.readAuth('alice')).tokens!.refresh_token;
    setNextLogin(fake, 'alice@example.com');
    const cli = spawnCli(['login', '--no-browser', 'alice'], loginEnv(home, fake));
    const url = await cli.waitForLine(authorizeLine);
    // The browser lands on the callback; the issuer has issued the tokens and holds its answer.
    const hold = holdTokenAnswers(fake);
    const browser = visit(url).catch(() => undefined);
    await hold.arrived;
    cli.child.kill(signal);
    await new Promise((resolve) => setTimeout(resolve, 300));
    hold.release();
    const code = await cli.exited;
    await browser;
    expect(code).toBe(exitCodeOf[signal]);
    expect(cli.stderr()).toContain('saving the sign-in before exiting');
    const after = (await store.readAuth('alice')).tokens!.refresh_token;
    expect(after).not.toBe(before);
    expect(refreshTokenIsValid(fake, after)).toBe(true);
  });

  it('says what it saved, makes it live and lets the browser see the success page', async () => {
    setNextLogin(fake, 'alice@example.com');
    const cli = spawnCli(['login', '--no-browser', 'alice'], loginEnv(home, fake));
    const url = await cli.waitForLine(authorizeLine);
    const hold = holdTokenAnswers(fake);
    const browser = visit(url);
    await hold.arrived;
    cli.child.kill(signal);
    await cli.waitForStderr(/saving the sign-in before exiting/);
    // A second signal cannot stop the save: it says so, once.
    cli.child.kill(signal);
    cli.child.kill(signal);
    await cli.waitForStderr(/still saving the sign-in/);
    hold.release();
    expect(await cli.exited).toBe(exitCodeOf[signal]);
    expect(cli.stdout().trim().split('\n').at(-1)).toBe(
      'Signed in as alice@example.com (plus) — updated profile "alice" before exiting.',
    );
    expect(cli.stderr().match(/still saving the sign-in/g)).toHaveLength(1);
    expect((await browser).url).toMatch(/\/success$/);
    // The sign-in was made live as on the normal path: its quota was read at once.
    const listed = JSON.parse((await runCodexLab(['list', '--json'], { home: home.home })).stdout);
    expect(listed).toMatchObject([{ name: 'alice', status: 'ok' }]);
    expect(listed[0].quota.updatedAt).not.toBeNull();
  });

  it('cancels a sign-in that is still waiting for the browser: one short line, the signal’s exit code, nothing written', async () => {
    const before = await store.readAuth('alice');
    const cli = spawnCli(['login', '--no-browser', 'alice'], loginEnv(home, fake));
    await cli.waitForLine(authorizeLine);
    const files = await filesOf(home.home);
    cli.child.kill(signal);
    // 130 after Ctrl-C, as a shell expects of a command the user interrupted (not a failure's 1).
    expect(await cli.exited).toBe(exitCodeOf[signal]);
    const said = cli
      .stderr()
      .split('\n')
      .filter((line) => line !== '' && !/^codex-lab: (debug|info): /.test(line));
    expect(said.length, cli.stderr()).toBeLessThanOrEqual(1);
    for (const line of said) expect(line.length).toBeLessThanOrEqual(80);
    expect(await store.readAuth('alice')).toEqual(before);
    // Nothing half-written: the home holds what it held while the sign-in waited, no lock left.
    expect(await filesOf(home.home)).toEqual(files);
    expect(await readdir(home.paths.locksDir).catch(() => [])).toEqual([]);
  });

  it('cancels a device-code sign-in that is still waiting for approval the same way', async () => {
    const before = await store.readAuth('alice');
    const cli = spawnCli(['login', '--device', 'alice'], loginEnv(home, fake));
    await cli.waitForLine(/^ {2}[0-9A-F]{4}-[0-9A-F]{4}$/);
    cli.child.kill(signal);
    expect(await cli.exited).toBe(exitCodeOf[signal]);
    expect(cli.stderr()).toContain('codex-lab: Sign-in cancelled; nothing was saved.');
    expect(await store.readAuth('alice')).toEqual(before);
  });
});

/** Every file under `folder` with its contents, by path: what a command left behind. */
async function filesOf(folder: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    found[path.slice(folder.length)] = await readFile(path, 'utf8');
  }
  return found;
}
