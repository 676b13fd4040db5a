/**
 * The registry `auth-profiles.json` lost (deleted, a dangling link, or an entry dropped by hand)
 * while the profile folders still hold live sign-ins, through the real `codex-lab` command: the
 * profiles are not hidden, and signing in as another account under such a profile's name never
 * replaces the tokens saved there.
 */
import { lstat, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { noProfilesSentence } from '../../core/format.ts';
import {
  createSystemKeyring,
  keyringAccountFor,
  probeKeyring,
} from '../../core/profiles/keyring.ts';
import type { FakeChatGpt } from '../fakes/fake-chatgpt.ts';
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
import { runCodexLab, saidToUser, type CliRun } from '../helpers/cli.ts';

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

/** Runs `codex-lab login --no-browser ARGS` and follows the printed URL like a browser. */
async function login(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const running = spawnCli(['login', '--no-browser', ...args], loginEnv(home, fake));
  processes.push(running);
  const url = await running.waitForLine(authorizeLine).catch(() => undefined);
  if (url !== undefined) await visit(url);
  const code = await running.exited;
  outputs.push(running.stdout(), running.stderr());
  return { code, stdout: running.stdout(), stderr: running.stderr() };
}

async function cli(args: string[]): Promise<CliRun> {
  const run = await runCodexLab(args, { home: home.home, env: loginEnv(home, fake) });
  outputs.push(run.stdout, run.stderr);
  return run;
}

/** Signs alice in as "alice" and bob as "work", and returns alice's auth.json text. */
async function twoProfiles(): Promise<string> {
  for (const [email, name] of [
    ['alice@example.com', 'alice'],
    ['bob@example.com', 'work'],
  ] as const) {
    setNextLogin(fake, email);
    const run = await login([name]);
    expect(run.code, run.stderr).toBe(0);
  }
  return readFile(home.paths.profileAuth('alice'), 'utf8');
}

/** Drops `name`'s entry from the registry, as a hand edit would; its folder stays. */
async function dropFromRegistry(name: string): Promise<void> {
  const registry = JSON.parse(await readFile(home.paths.registry, 'utf8')) as {
    profiles: Array<{ name: string }>;
  };
  registry.profiles = registry.profiles.filter((profile) => profile.name !== name);
  await writeFile(home.paths.registry, JSON.stringify(registry), { mode: 0o600 });
}

const carolUnderAlice =
  'codex-lab: The profile "alice" is alice@example.com, but this sign-in is carol@example.com: to sign in to "alice" again, sign in as alice@example.com; to add carol@example.com, give it another name.';

async function journalRecords(): Promise<string[]> {
  return (await readdir(home.paths.journalDir).catch(() => [] as string[])).filter((file) =>
    file.endsWith('.json'),
  );
}

describe('a sign-in never replaces another account’s tokens in a profile folder', () => {
  it.each([
    [
      'the registry deleted',
      () => rm(home.paths.registry),
      // The store rebuilds it as the sign-in starts, and says so.
      () => [
        `codex-lab: ${home.paths.registry} was missing: rebuilt it from the profile folders (alice, work); the active profile, pins, labels and priming settings it held are gone.`,
      ],
    ],
    ['alice’s registry entry dropped by hand', () => dropFromRegistry('alice'), () => []],
  ])(
    'with %s, signing in as carol under "alice" is refused and alice keeps her tokens',
    async (_case, lose, saidFirst) => {
      const aliceAuth = await twoProfiles();
      const quotaBefore = await readFile(home.paths.quota, 'utf8').catch(() => null);
      await lose();

      setNextLogin(fake, 'carol@example.com');
      const refused = await login(['alice']);
      // "alice" is another account's name (`name_taken`): the user's input, exit 2.
      expect(refused.code).toBe(2);
      expect(refused.stdout).not.toContain('saved as profile');
      expect(saidToUser(refused.stderr)).toEqual([...saidFirst(), carolUnderAlice]);
      expect(await readFile(home.paths.profileAuth('alice'), 'utf8')).toBe(aliceAuth);
      expect(await readFile(home.paths.quota, 'utf8').catch(() => null)).toBe(quotaBefore);
      expect(await journalRecords()).toEqual([]);

      // alice signing in again renews her own profile, as with the registry in place.
      setNextLogin(fake, 'alice@example.com');
      const again = await login(['alice']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/^Signed in as alice@example\.com .* profile "alice"\.$/m);
      expect(await readFile(home.paths.profileAuth('alice'), 'utf8')).not.toBe(aliceAuth);
      expect(leakedSecrets(issuedSecrets(fake), outputs)).toEqual([]);
    },
  );
});

const keychain = await probeKeyring();
if (!keychain.available) {
  console.warn(`[keyring] skipping the lost-registry keychain test: ${keychain.reason}`);
}

describe.skipIf(!keychain.available)('a lost registry and a keychain profile', () => {
  it('reports the keychain sign-in it could not list, and signing in again lists it in the keychain', async () => {
    await twoProfiles();
    setNextLogin(fake, 'carol@example.com');
    const saved = await login(['vault', '--keyring']);
    expect(saved.code, saved.stderr).toBe(0);
    const keyring = createSystemKeyring();
    const key = keyringAccountFor(home.paths.profileDir('vault'));
    try {
      await rm(home.paths.registry);
      const listed = await cli(['list']);
      expect(listed.code).toBe(1);
      expect(listed.stderr).toContain(
        'was missing: rebuilt it from the profile folders (alice, work)',
      );
      expect(listed.stderr).toContain(
        `codex-lab: ${home.paths.profileDir('vault')} has no auth file, but the OS keychain keeps the sign-in of carol@example.com for it, which auth-profiles.json does not list: to list it again, run \`codex-lab login vault\` and sign in as carol@example.com.`,
      );
      // As the sentence says; the profile stays in the keychain, so no entry is left behind.
      setNextLogin(fake, 'carol@example.com');
      const again = await login(['vault']);
      expect(again.code, again.stderr).toBe(0);
      const after = await cli(['list', '--json']);
      expect(after.code, after.stderr).toBe(0);
      const views = JSON.parse(after.stdout) as Array<{ name: string; store: string }>;
      expect(views.find((view) => view.name === 'vault')?.store).toBe('keyring');
      await expect(lstat(home.paths.profileAuth('vault'))).rejects.toThrow();
      expect(leakedSecrets(issuedSecrets(fake), outputs)).toEqual([]);
    } finally {
      await keyring.delete(key);
    }
  });
});

describe('a lost registry hides no signed-in profile', () => {
  it('rebuilds a deleted registry from the profile folders; signing in as carol under "alice" is refused', async () => {
    const aliceAuth = await twoProfiles();
    const quotaBefore = await readFile(home.paths.quota, 'utf8').catch(() => null);
    await rm(home.paths.registry);

    const listed = await cli(['list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const views = JSON.parse(listed.stdout) as Array<{ name: string; email: string | null }>;
    expect(views.map((view) => [view.name, view.email])).toEqual([
      ['alice', 'alice@example.com'],
      ['work', 'bob@example.com'],
    ]);
    // Said, not done silently: what the registry alone held is gone.
    expect(listed.stderr).toContain(
      `${home.paths.registry} was missing: rebuilt it from the profile folders (alice, work); the active profile, pins, labels and priming settings it held are gone`,
    );

    setNextLogin(fake, 'carol@example.com');
    const refused = await login(['alice']);
    expect(refused.code).toBe(2);
    expect(refused.stdout).not.toContain('saved as profile');
    expect(saidToUser(refused.stderr)).toEqual([carolUnderAlice]);
    expect(await readFile(home.paths.profileAuth('alice'), 'utf8')).toBe(aliceAuth);
    expect(await readFile(home.paths.quota, 'utf8').catch(() => null)).toBe(quotaBefore);
    expect(await journalRecords()).toEqual([]);

    // alice signing in again renews her own profile, as with the registry in place.
    setNextLogin(fake, 'alice@example.com');
    const again = await login(['alice']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^Signed in as alice@example\.com .* profile "alice"\.$/m);
    expect(leakedSecrets(issuedSecrets(fake), outputs)).toEqual([]);
  });

  it('reports a registry that is a dangling link by name, writes nothing, and refuses the sign-in', async () => {
    const aliceAuth = await twoProfiles();
    await rm(home.paths.registry);
    const target = join(home.home, 'moved-away.json');
    await symlink(target, home.paths.registry);

    const listed = await cli(['list']);
    expect(listed.code).toBe(1);
    expect(listed.stdout).not.toContain(noProfilesSentence);
    expect(listed.stderr).toContain(`codex-lab: ${home.paths.registry} is a link to`);

    setNextLogin(fake, 'carol@example.com');
    const refused = await login(['alice']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`codex-lab: ${home.paths.registry} is a link to`);
    expect(await readFile(home.paths.profileAuth('alice'), 'utf8')).toBe(aliceAuth);
    expect((await lstat(home.paths.registry)).isSymbolicLink()).toBe(true);
    await expect(lstat(target)).rejects.toThrow();
    expect(await journalRecords()).toEqual([]);
  });

  it('names a profile folder the registry does not list, and refuses to sign carol in over it', async () => {
    const aliceAuth = await twoProfiles();
    await dropFromRegistry('alice');

    const listed = await cli(['list']);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain(
      `codex-lab: ${home.paths.profileDir('alice')} holds the sign-in of alice@example.com, but auth-profiles.json does not list it: to list it again, run \`codex-lab login alice\` and sign in as alice@example.com.`,
    );

    setNextLogin(fake, 'carol@example.com');
    const refused = await login(['alice']);
    expect(refused.code).toBe(2);
    expect(saidToUser(refused.stderr)).toEqual([carolUnderAlice]);
    expect(await readFile(home.paths.profileAuth('alice'), 'utf8')).toBe(aliceAuth);

    // As the sentence says: alice signing in lists her profile again.
    setNextLogin(fake, 'alice@example.com');
    const again = await login(['alice']);
    expect(again.code, again.stderr).toBe(0);
    const after = await cli(['list', '--json']);
    expect(after.code, after.stderr).toBe(0);
    expect((JSON.parse(after.stdout) as Array<{ name: string }>).map((view) => view.name)).toEqual([
      'work',
      'alice',
    ]);
    expect(leakedSecrets(issuedSecrets(fake), outputs)).toEqual([]);
  });
});
