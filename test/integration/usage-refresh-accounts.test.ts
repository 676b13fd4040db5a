/**
 * A quota refresh over accounts that cannot all be read, as a user meets it: `work` limited,
 * `client-acme-long-project-name` needing a new sign-in, `research` with an auth file that does
 * not parse. The readable accounts are refreshed and the refresh says so; each account that
 * cannot be read is named once, in its state's one sentence, and is not a failure of the whole
 * refresh: the same outcome from `codex-lab usage --refresh` (with and without a router) and
 * from the control API.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import {
  expireAccessTokens,
  issueAuthDotJson,
  scriptRefresh,
  setAccessTokenLifetime,
} from '../fakes/fake-issuer.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';

const signIn = 'client-acme-long-project-name';
const names = ['work', signIn, 'research'];

let fake: FakeChatGpt;
let home: string;
const children: ServeChild[] = [];

function env(): Record<string, string> {
  return { CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl, CODEX_LAB_AUTH_ISSUER: fake.issuerUrl };
}

/** How often `text` occurs in `haystack`. */
function count(haystack: string, text: string): number {
  return haystack.split(text).length - 1;
}

beforeEach(async () => {
  fake = await startFakeChatGpt({ accounts: names.map((name) => ({ email: `${name}@x.test` })) });
  fake.account('work@x.test').primary!.usedPercent = 100;
  home = await makeTempHome('codex-lab-refresh-accounts-');
  await seedProfiles(
    fake,
    home,
    names.map((name) => ({ name, email: `${name}@x.test` })),
  );
  // The sign-in's refresh token is dead: every refresh asks for a new sign-in.
  for (let time = 0; time < 6; time++) {
    scriptRefresh(fake, `${signIn}@x.test`, 'refresh_token_invalidated');
  }
  expireAccessTokens(fake, `${signIn}@x.test`);
  await writeFile(join(home, 'auth-profiles', 'research', 'auth.json'), '{ not json');
});

afterEach(async () => {
  await stopServes(children);
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

const signInSentence = `${signIn} needs a new sign-in (its refresh token was revoked): run codex-lab login ${signIn}.`;

describe('a quota refresh over accounts that cannot all be read', () => {
  it.each([
    ['with no router', false],
    ['with serve running', true],
  ])(
    'usage --refresh %s: refreshes work, names each unreadable account once, exits as usage does',
    async (_label, serving) => {
      if (serving) children.push(await startServe(home, env()));
      const researchFile = join(home, 'auth-profiles', 'research', 'auth.json');
      const run = await runCodexLab(['usage', '--refresh', '--wide'], { home, env: env() });
      const said = run.stderr.trim().split('\n');
      // One line per account that cannot be read, in its state's one sentence, each named once.
      expect(said, run.stderr).toEqual([
        `codex-lab: ${signInSentence}`,
        `codex-lab: ${researchFile} is not valid JSON. It was left untouched: fix or move it, then try again.`,
      ]);
      expect(count(run.stderr, signIn)).toBe(2);
      expect(run.stdout).toMatch(/^work\s+limited.*used up.*just now/m);
      // The unreadable file makes `usage` exit 1 with or without --refresh: the same here.
      expect(run.code).toBe(1);
      expect((await runCodexLab(['usage'], { home })).code).toBe(1);

      // Mended, the file is refreshed too; an account needing a sign-in fails neither. Asked at
      // once (before the router's file watcher has read the mended file), the table still shows
      // the state the refresh read, not the last the watcher saw.
      await writeFile(researchFile, JSON.stringify(issueAuthDotJson(fake, 'research@x.test')));
      const again = await runCodexLab(['usage', '--refresh'], { home, env: env() });
      expect(again.stderr.trim().split('\n'), again.stderr).toEqual([
        `codex-lab: ${signInSentence}`,
      ]);
      expect(again.stdout).toMatch(/^research\s+ready/m);
      expect(again.code).toBe(0);
    },
  );

  it('usage NAME --refresh on one account that cannot be read exits 1, its sentence once', async () => {
    for (const [name, sentence] of [
      [signIn, signInSentence],
      [
        'research',
        `${join(home, 'auth-profiles', 'research', 'auth.json')} is not valid JSON. It was left untouched: fix or move it, then try again.`,
      ],
    ] as const) {
      const run = await runCodexLab(['usage', name, '--refresh'], { home, env: env() });
      // Nothing was refreshed of the one account asked for: the command failed.
      expect(run.stderr.trim().split('\n'), run.stderr).toEqual([`codex-lab: ${sentence}`]);
      expect(run.code).toBe(1);
    }
  });

  it('usage --refresh over accounts none of which can be read exits 1: nothing was refreshed', async () => {
    // Every account needs a new sign-in (research's file mended first, so no file is at fault).
    await writeFile(
      join(home, 'auth-profiles', 'research', 'auth.json'),
      JSON.stringify(issueAuthDotJson(fake, 'research@x.test')),
    );
    for (const name of ['work', 'research']) {
      for (let time = 0; time < 6; time++) {
        scriptRefresh(fake, `${name}@x.test`, 'refresh_token_invalidated');
      }
      expireAccessTokens(fake, `${name}@x.test`);
    }
    const run = await runCodexLab(['usage', '--refresh'], { home, env: env() });
    expect(run.stderr).toContain(signInSentence);
    expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(3);
    expect(run.code).toBe(1);
    // (With any account read, the others' sign-ins fail nothing: the first case above.)
  });

  it('a refresh warning the command does not say as its failure still reaches stderr, once', async () => {
    // work's access token is valid for two more minutes (inside the early-refresh margin), and
    // the issuer fails the early refresh: the read goes on with the current token and succeeds,
    // so the warning is the only word of the failed refresh.
    setAccessTokenLifetime(fake, 120);
    await writeFile(
      join(home, 'auth-profiles', 'work', 'auth.json'),
      JSON.stringify(issueAuthDotJson(fake, 'work@x.test')),
    );
    scriptRefresh(fake, 'work@x.test', { status: 500, body: { error: 'server_error' } });
    const run = await runCodexLab(['usage', 'work', '--refresh'], { home, env: env() });
    expect(count(run.stderr, 'Early refresh failed; using the current token'), run.stderr).toBe(1);
    // The failure it recovered from is not said a second time beside it.
    expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
    expect(run.stdout).toMatch(/^work\s+limited.*just now/m);
    expect(run.code).toBe(0);
  });

  it('the control API answers 200 with the accounts refreshed and each one that cannot be read', async () => {
    const serve = await startServe(home, env());
    children.push(serve);
    const bearer = (await runCodexLab(['token'], { home })).stdout.trim();
    const answer = await fetch(`${serve.url}/lab/v1/refreshUsage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as {
      ok: true;
      value: {
        refreshed: string[];
        unread: Array<{ profile: string; ok: false; code: string; message: string }>;
      };
    };
    expect(body.ok).toBe(true);
    expect(body.value.refreshed).toEqual(['work']);
    expect(body.value.unread.map((entry) => [entry.profile, entry.code])).toEqual([
      [signIn, 'refresh_token_invalidated'],
      ['research', 'corrupt_file'],
    ]);
    const acme = body.value.unread[0]!;
    expect(acme).toMatchObject({
      ok: false,
      message: `${signIn} needs a new sign-in (its refresh token was revoked).`,
      fix: { action: 'sign_in', profiles: [signIn] },
    });

    // Nothing readable at all is still no failure of a refresh: the accounts say why.
    const only = await fetch(`${serve.url}/lab/v1/refreshUsage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ profile: signIn }),
    });
    expect(only.status).toBe(200);
    expect(((await only.json()) as typeof body).value).toMatchObject({
      refreshed: [],
      unread: [{ profile: signIn, code: 'refresh_token_invalidated' }],
    });
  });

  it('a read that fails for another reason is still a failure of the refresh, named once', async () => {
    await fake.close();
    const run = await runCodexLab(['usage', '--refresh'], { home, env: env() });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Could not refresh the quota\. .*work.*: Could not reach/);
    expect(count(run.stderr, 'Could not refresh the quota')).toBe(1);
    expect(run.stderr.match(/\bwork\b/g), run.stderr).toHaveLength(1);
    // The unreadable file, once: the refresh's failure is about the others.
    expect(count(run.stderr, 'auth.json is not valid JSON')).toBe(1);
    fake = await startFakeChatGpt();
  });
});
