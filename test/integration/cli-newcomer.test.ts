/**
 * The command line as a newcomer meets it: `--version`, `pins`, `list` marking pinned profiles,
 * the checks `codex --profile`, `login` and `remove --revoke` make before they act, and the same
 * words everywhere (no raw `auth_error`, never "log out").
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { loadOrCreateRouterToken } from '../../core/proxy/router-token.ts';
import { freePort, makeTempHome, repoRoot, runCodexLab, type CliRun } from '../helpers/cli.ts';
import { makeAuth } from '../helpers/profile-auth.ts';

let home: string;
let paths: LabPaths;
let store: ProfileStore;

beforeEach(async () => {
  home = await makeTempHome();
  paths = labPaths(home);
  store = new ProfileStore({ paths });
  for (const name of ['work', 'home', 'old']) {
    await store.saveSignIn({
      auth: makeAuth({ email: `${name}@example.com`, accountId: `acct-${name}` }),
      requestedName: name,
    });
  }
  // `home` is limited for two hours, `old` needs a new sign-in.
  const now = Date.now();
  await mkdir(paths.stateDir, { recursive: true });
  await writeFile(
    paths.health,
    JSON.stringify({
      version: 1,
      profiles: {
        home: {
          status: 'limited',
          unavailableUntil: now + 2 * 3600_000,
          code: 'usage_limit_reached',
          message: null,
          updatedAt: now,
        },
        old: {
          status: 'auth_error',
          unavailableUntil: null,
          code: 'refresh_token_reused',
          message:
            'old needs a new sign-in (its refresh token was already used): run codex-lab login old.',
          updatedAt: now,
        },
      },
    }),
  );
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

/** Human output of every run, to search for words a person should never see. */
function humanText(runs: CliRun[]): string {
  return runs.map((run) => `${run.stdout}\n${run.stderr}`).join('\n');
}

/** A stand-in for Codex that says it ran and exits 0. */
async function fakeCodex(): Promise<string> {
  const bin = join(home, 'fake-codex');
  await writeFile(bin, `#!${process.execPath}\nprocess.stdout.write('fake codex ran\\n');\n`);
  await chmod(bin, 0o755);
  return bin;
}

describe('--version', () => {
  it('prints the package version', async () => {
    const version = (
      JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string }
    ).version;
    for (const flag of ['--version', '-V']) {
      const run = await runCodexLab([flag], { home });
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(`codex-lab ${version}\n`);
    }
  });
});

describe('codex-lab pins', () => {
  it('says how to pin when there is nothing, then lists repo and session pins, as a table and JSON', async () => {
    const empty = await runCodexLab(['pins'], { home });
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain('No pins yet');
    expect(empty.stdout).toContain('codex-lab pin NAME --repo PATH');
    expect(JSON.parse((await runCodexLab(['pins', '--json'], { home })).stdout)).toEqual([]);

    const repo = join(home, 'repo');
    await mkdir(join(repo, '.git'), { recursive: true });
    expect((await runCodexLab(['pin', 'work', '--repo', repo], { home })).code).toBe(0);
    const pinned = await runCodexLab(
      ['pin', 'home', '--session', '0199aabb-0000-7000-8000-000000000010', '--allow-fallback'],
      {
        home,
      },
    );
    expect(pinned.code).toBe(0);

    const table = await runCodexLab(['pins'], { home });
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^KIND\s+PINNED\s+PROFILE\s+WHEN EXHAUSTED$/);
    expect(lines[1]).toMatch(new RegExp(`^repo\\s+${repo}\\s+work\\s+strict$`));
    expect(lines[2]).toMatch(
      /^session\s+0199aabb-0000-7000-8000-000000000010\s+home\s+falls over when exhausted$/,
    );

    const json = JSON.parse((await runCodexLab(['pins', '--json'], { home })).stdout) as unknown[];
    expect(json).toEqual([
      {
        kind: 'repo',
        key: repo,
        profile: 'work',
        allowFallback: false,
        createdAt: expect.any(String),
      },
      {
        kind: 'session',
        key: '0199aabb-0000-7000-8000-000000000010',
        profile: 'home',
        allowFallback: true,
        createdAt: expect.any(String),
      },
    ]);
  });

  it('warns of a repository pin saved inside a repository, which routes nothing', async () => {
    const folderOfRepositories = join(home, 'clients');
    const repo = join(home, 'checkout');
    const subfolder = join(repo, 'src');
    await mkdir(folderOfRepositories);
    await mkdir(join(repo, '.git'), { recursive: true });
    await mkdir(subfolder);
    // Saved as an earlier version saved them, before a pin had to name a repository's folder.
    await store.setPin('repo', folderOfRepositories, 'work', false);
    await store.setPin('repo', subfolder, 'work', false);
    await store.setPin('repo', repo, 'home', false);
    const run = await runCodexLab(['pins'], { home });
    expect(run.code).toBe(0);
    // Only the subfolder's: a folder in no repository covers the repositories in it.
    expect(run.stderr.split('\n').filter(Boolean)).toEqual([
      `codex-lab: The repository pin ${subfolder} never applies: ${subfolder} is inside the git repository ${repo}, and Codex names only the repository; pin ${repo} instead, and remove this one with codex-lab unpin --repo ${subfolder}.`,
    ]);
    // Still listed: nothing is dropped behind the user's back.
    expect(run.stdout).toContain(folderOfRepositories);
    expect(run.stdout).toContain(subfolder);
  });

  it('list marks pinned profiles', async () => {
    await runCodexLab(['pin', 'work', '--session', '0199aabb-0000-7000-8000-000000000011'], {
      home,
    });
    await runCodexLab(['pin', 'work', '--session', '0199aabb-0000-7000-8000-000000000012'], {
      home,
    });
    const list = await runCodexLab(['list'], { home });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(
      /^\s+PROFILE\s+PLAN\s+STATUS\s+5-HOUR LEFT\s+WEEKLY LEFT\s+PRIMING\s+PINS$/m,
    );
    expect(list.stdout).toMatch(/work\s.*pinned \(2\)$/m);
    expect(list.stdout).toMatch(/home\s.*\s-$/m);
  });

  it('a repository folder that is not there is one sentence and nothing is saved; unpinning one is allowed', async () => {
    const before = await readFile(paths.registry, 'utf8');
    const missing = join(home, 'no-such-repo');
    const run = await runCodexLab(['pin', 'work', '--repo', missing], { home });
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      `codex-lab: ${missing} is not a folder on this machine: give the path of a repository folder (Codex runs in it or in a folder inside it).`,
    );
    expect(await readFile(paths.registry, 'utf8')).toBe(before);
    expect((await runCodexLab(['unpin', '--repo', missing], { home })).code).toBe(0);
  });

  it('a malformed repository path is one sentence, and nothing is saved', async () => {
    const before = await readFile(paths.registry, 'utf8');
    const run = await runCodexLab(['pin', 'work', '--repo', 'repo\u0001name'], { home });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^codex-lab: "repo\\u0001name" is not a repository path/);
    expect(await readFile(paths.registry, 'utf8')).toBe(before);
  });
});

describe('codex --profile checks before Codex starts', () => {
  // The launcher starts this home's router in the background when none runs: stopped after each.
  let port: number;
  beforeEach(async () => {
    port = await freePort();
  });
  afterEach(async () => {
    await runCodexLab(['stop'], { home });
  });

  it('refuses a profile that does not exist, in one sentence, without starting Codex', async () => {
    await loadOrCreateRouterToken(paths);
    const bin = await fakeCodex();
    const run = await runCodexLab(['codex', '--profile', 'ghost', '--', 'exec', 'x'], {
      home,
      env: { CODEX_LAB_CODEX_BIN: bin, CODEX_LAB_PORT: String(port) },
    });
    // Codex Lab's own refusal, before Codex runs: its input rule (exit 2), not Codex's code.
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'codex-lab: There is no profile named "ghost"; run `codex-lab list` to see them.\n',
    );
  });

  it('refuses a CODEX_HOME that is missing or not a folder, as Codex would, before any router starts', async () => {
    await loadOrCreateRouterToken(paths);
    const bin = await fakeCodex();
    const missing = join(home, 'no-such-codex-home');
    const file = join(home, 'codex-home-file');
    await writeFile(file, '');
    for (const [codexHome, why] of [
      [missing, 'which does not exist'],
      [file, 'which is not a folder'],
    ] as const) {
      const run = await runCodexLab(['codex', '--', 'exec', 'x'], {
        home,
        env: { CODEX_LAB_CODEX_BIN: bin, CODEX_LAB_PORT: String(port), CODEX_HOME: codexHome },
      });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(
        `codex-lab: CODEX_HOME points to ${codexHome}, ${why}: create that folder, or point CODEX_HOME at Codex's folder.\n`,
      );
      // No router was started for a Codex bound to fail.
      expect(existsSync(join(paths.stateDir, 'router.json'))).toBe(false);
    }
    expect(existsSync(missing)).toBe(false);
  });

  it('refuses a config.toml Codex would refuse, naming its line, before any router starts', async () => {
    await loadOrCreateRouterToken(paths);
    const bin = await fakeCodex();
    const codexHome = join(home, 'codex-home-bad-toml');
    await mkdir(codexHome, { recursive: true });
    const config = join(codexHome, 'config.toml');
    // What Codex 0.171 refuses as "config.toml:5:7: extra `=`, expected nothing", and exits 1.
    const text = 'model = "gpt-5"\n\n[projects."/tmp"]\ntrust_level = "trusted"\nfoo = = 1\n';
    await writeFile(config, text);
    const run = await runCodexLab(['codex', '--', 'exec', 'x'], {
      home,
      env: { CODEX_LAB_CODEX_BIN: bin, CODEX_LAB_PORT: String(port), CODEX_HOME: codexHome },
    });
    // A file that does not read is no input typed on this command line: exit 1, as
    // `codex-config --write` says of the same file.
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `codex-lab: ${config} is not valid TOML (line 5, column 7): invalid value, so Codex would refuse it and nothing was started: fix that line, then run codex-lab codex again.\n`,
    );
    expect(existsSync(join(paths.stateDir, 'router.json'))).toBe(false);
    expect(await readFile(config, 'utf8')).toBe(text);
  });

  it('warns about a limited or signed-out profile, naming when and what to do, then runs Codex', async () => {
    await loadOrCreateRouterToken(paths);
    const bin = await fakeCodex();
    const env = { CODEX_LAB_CODEX_BIN: bin, CODEX_LAB_PORT: String(port) };
    const limited = await runCodexLab(['codex', '--profile', 'home', '--', 'exec', 'x'], {
      home,
      env,
    });
    expect(limited.code).toBe(0);
    expect(limited.stdout).toContain('fake codex ran');
    expect(limited.stderr).toMatch(
      /^codex-lab: home is limited, back in (1h 5\dm|2h), at \d\d:\d\d: .*; run without --profile to let the router choose/,
    );
    // Pinned by the shell, not a flag: the way out is the variable, not a --profile to drop.
    const fromShell = await runCodexLab(['codex', '--', 'exec', 'x'], {
      home,
      env: { ...env, CODEX_LAB_PROFILE: 'home' },
    });
    expect(fromShell.stdout).toContain('fake codex ran');
    expect(fromShell.stderr).toMatch(
      /^codex-lab: home is limited, back in (1h 5\dm|2h), at \d\d:\d\d: .*; unset CODEX_LAB_PROFILE to let the router choose/,
    );
    expect(fromShell.stderr).not.toContain('--profile');
    const signedOut = await runCodexLab(['codex', '--profile', 'old', '--', 'exec', 'x'], {
      home,
      env,
    });
    expect(signedOut.stdout).toContain('fake codex ran');
    expect(signedOut.stderr).toContain('old needs sign-in (run codex-lab login old)');
    const fine = await runCodexLab(['codex', '--profile', 'work', '--', 'exec', 'x'], {
      home,
      env,
    });
    expect(fine.stderr).toBe('');
  });
});

describe('a typed profile name is read one way by every command', () => {
  let port: number;
  beforeEach(async () => {
    port = await freePort();
  });
  afterEach(async () => {
    await runCodexLab(['stop'], { home });
  });

  /** A Codex stand-in that prints the pin the launcher gave it. */
  async function pinPrintingCodex(): Promise<string> {
    const bin = join(home, 'fake-codex-pin');
    await writeFile(
      bin,
      `#!${process.execPath}\nprocess.stdout.write('pin=' + (process.env.CODEX_LAB_PROFILE ?? '-') + '\\n');\n`,
    );
    await chmod(bin, 0o755);
    return bin;
  }

  it('codex --profile takes upper case as the profile, and auto as no pin', async () => {
    await loadOrCreateRouterToken(paths);
    const env = { CODEX_LAB_CODEX_BIN: await pinPrintingCodex(), CODEX_LAB_PORT: String(port) };
    const upper = await runCodexLab(['codex', '--profile', 'WORK', '--', 'exec', 'x'], {
      home,
      env,
    });
    expect(upper.code, upper.stderr).toBe(0);
    expect(upper.stdout).toBe('pin=work\n');
    const limited = await runCodexLab(['codex', '--profile', 'Home', '--', 'exec', 'x'], {
      home,
      env,
    });
    expect(limited.stdout).toBe('pin=home\n');
    expect(limited.stderr).toMatch(/^codex-lab: home is limited, back in /);
    const auto = await runCodexLab(['codex', '--profile', 'auto', '--', 'exec', 'x'], {
      home,
      env: { ...env, CODEX_LAB_PROFILE: 'work' },
    });
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stdout).toBe('pin=-\n');
    expect(auto.stderr).toBe('');
  });

  it('messages name the profile as it is, however it was typed', async () => {
    const on = await runCodexLab(['priming', 'on', 'WORK'], { home });
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toMatch(/^Priming is on for work:/);
    const off = await runCodexLab(['priming', 'off', 'WORK'], { home });
    expect(off.stdout).toBe('Priming is off for work.\n');
    const rename = await runCodexLab(['rename', 'WORK', 'job'], { home });
    expect(rename.code, rename.stderr).toBe(0);
    expect(rename.stdout).toBe('Renamed work to job.\n');
  });
});

describe('use and pin warn as codex --profile does', () => {
  it('use and pin on a limited or signed-out profile act, and warn on stderr', async () => {
    const use = await runCodexLab(['use', 'home'], { home });
    expect(use.code, use.stderr).toBe(0);
    expect(use.stdout).toBe('New unpinned sessions now use home.\n');
    expect(use.stderr).toMatch(
      /^codex-lab: home is limited, back in (1h 5\dm|2h), at \d\d:\d\d: until then new sessions go to another profile/,
    );
    const pin = await runCodexLab(
      ['pin', 'OLD', '--session', '0199aabb-0000-7000-8000-000000000013'],
      { home },
    );
    expect(pin.code, pin.stderr).toBe(0);
    expect(pin.stdout).toBe('Pinned session 0199aabb-0000-7000-8000-000000000013 to old.\n');
    expect(pin.stderr).toBe(
      'codex-lab: old needs sign-in (run codex-lab login old): until then sessions pinned to it get sign-in errors.\n',
    );
    const fine = await runCodexLab(['use', 'work'], { home });
    expect(fine.stderr).toBe('');
    const unpinned = await runCodexLab(
      ['pin', 'auto', '--session', '0199aabb-0000-7000-8000-000000000013'],
      { home },
    );
    expect(unpinned.code, unpinned.stderr).toBe(0);
    expect(unpinned.stdout).toBe(
      'Session 0199aabb-0000-7000-8000-000000000013 is not pinned: the router chooses (auto).\n',
    );
    expect((await store.readRegistry()).pins.sessions).toEqual({});
  });
});

describe('remove says what else it changed', () => {
  it('names the pins it dropped and that new sessions are routed automatically again', async () => {
    await store.setActive('work');
    await store.setPin('session', '0199aabb-0000-7000-8000-000000000013', 'work');
    await store.setPin('repo', '/tmp/some-repo', 'work');
    const run = await runCodexLab(['remove', 'work'], { home });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(
      [
        'Removed work.',
        'Dropped its 2 pins (session 0199aabb-0000-7000-8000-000000000013, repo /tmp/some-repo): they are routed automatically again.',
        'work was the active profile: new unpinned sessions are routed automatically again (auto).',
        '',
      ].join('\n'),
    );
    const quiet = await runCodexLab(['remove', 'home'], { home });
    expect(quiet.stdout).toBe('Removed home.\n');
  });
});

describe('login checks before it prints the sign-in URL', () => {
  const env = {
    CODEX_LAB_CALLBACK_PORT: '0',
    // Nothing listens on port 9: only the authorize URL is built from it before the callback.
    CODEX_LAB_AUTH_ISSUER: 'http://127.0.0.1:9',
  };

  it('names a corrupt registry and prints no URL', async () => {
    await writeFile(paths.registry, '{"version":1,');
    const run = await runCodexLab(['login', 'new', '--no-browser', '--timeout', '1'], {
      home,
      env,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`${paths.registry} is not valid JSON`);
  });

  it('says the keychain is not available for --keyring, and prints no URL', async () => {
    const run = await runCodexLab(['login', '--keyring', '--no-browser', '--timeout', '1'], {
      home,
      env: { ...env, DBUS_SESSION_BUS_ADDRESS: undefined },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^codex-lab: The OS keychain is not available \(.*\), so --keyring/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('says whose profile an existing name is before the sign-in starts', async () => {
    const run = await runCodexLab(['login', 'work', '--no-browser', '--timeout', '1'], {
      home,
      env,
    });
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(
      "work is work@example.com's profile: sign in as work@example.com to renew it (another account would not be saved under this name).",
    );
    expect(run.stdout).toContain('/oauth/authorize?');
  });

  it('refuses a malformed name before the sign-in starts', async () => {
    const run = await runCodexLab(['login', 'Bad Name!', '--no-browser'], { home, env });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('one voice', () => {
  afterEach(async () => {
    await runCodexLab(['stop'], { home });
  });

  it('no human output says auth_error or "log out"', async () => {
    const port = await freePort();
    await loadOrCreateRouterToken(paths);
    const bin = await fakeCodex();
    const runs = [
      await runCodexLab(['list'], { home }),
      await runCodexLab(['usage'], { home }),
      await runCodexLab(['usage', 'old'], { home }),
      await runCodexLab(['pins'], { home }),
      await runCodexLab(['codex', '--profile', 'old', '--', 'exec', 'x'], {
        home,
        env: { CODEX_LAB_CODEX_BIN: bin, CODEX_LAB_PORT: String(port) },
      }),
    ];
    const text = humanText(runs);
    expect(text).toContain('needs sign-in');
    expect(text).not.toContain('auth_error');
    expect(text).not.toMatch(/log ?out/i);
  });
});
