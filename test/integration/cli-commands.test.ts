/**
 * Audit of the command surface: `--help` for every command, `codex-lab codex` running Codex with
 * `-c` overrides and environment only (no file under CODEX_HOME touched, the router token neither
 * on the command line nor in Codex's environment: Codex runs the token command the overrides
 * name), and `codex-lab codex-config` printing the block for the configured port.
 */
import { chmod, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { loadOrCreateRouterToken } from '../../core/proxy/router-token.ts';
import { cliEntry, freePort, makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { makeAuth } from '../helpers/profile-auth.ts';
import { tempFolder } from '../helpers/temp-folder.ts';
import { overridesTable, type TomlTable } from '../helpers/codex-overrides.ts';
import { routerUnavailableToken } from '../../core/cli/commands/token.ts';

/** What the fake Codex recorded: its arguments and its whole environment. */
interface CodexRecord {
  argv: string[];
  env: Record<string, string>;
  profile: string | null;
  noProxy: string | null;
}

/**
 * Runs the token command the `-c` overrides name, as Codex does: without a shell and without the
 * CODEX_LAB_* variables (its HOME's default home is another one), and returns what it printed.
 */
function runTokenCommandOf(argv: string[], home: string): ReturnType<typeof spawnSync> {
  const table = overridesTable(argv.filter((_, index) => argv[index - 1] === '-c'));
  const provider = (table['model_providers'] as TomlTable)['codex-lab'] as TomlTable;
  const auth = provider['auth'] as { command: string; args: string[] };
  return spawnSync(auth.command, auth.args, {
    env: { PATH: process.env['PATH'], HOME: join(home, 'elsewhere') },
    encoding: 'utf8',
  });
}

const commands = [
  'login',
  'list',
  'rename',
  'remove',
  'use',
  'pin',
  'unpin',
  'usage',
  'log',
  'serve',
  'codex',
  'codex-config',
  'prime',
  'priming',
  'token',
];

let home: string;

beforeEach(async () => {
  home = await makeTempHome();
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('--help', () => {
  it('the top level lists every command', async () => {
    const run = await runCodexLab(['--help'], { home });
    expect(run.code).toBe(0);
    for (const command of commands)
      expect(run.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  });

  it('the top level names every environment variable of the interface contract', async () => {
    const run = await runCodexLab(['--help'], { home });
    for (const variable of [
      'CODEX_LAB_HOME',
      'CODEX_LAB_AUTH_ISSUER',
      'CODEX_LAB_CHATGPT_BASE_URL',
      'CODEX_LAB_CALLBACK_PORT',
      'CODEX_LAB_PORT',
      'CODEX_LAB_PROFILE',
      'CODEX_LAB_LOG_LEVEL',
    ])
      expect(run.stdout).toMatch(new RegExp(`^\\s+${variable}\\s`, 'm'));
  });

  it.each(commands)(
    '%s --help prints its usage and exits 0 without touching the home',
    async (command) => {
      const run = await runCodexLab([command, '--help'], { home });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`Usage: codex-lab ${command}`);
      expect(run.stdout).toMatch(/\n\n\S.*\n/); // a description line after the usage line
      expect(await readdir(home)).toEqual([]);
    },
  );

  it('the bare command prints the top-level help to stdout and exits 0, as --help and help do', async () => {
    const help = await runCodexLab(['--help'], { home });
    for (const args of [[], ['help']]) {
      const run = await runCodexLab(args, { home });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe(help.stdout);
    }
    expect(await readdir(home)).toEqual([]);
  });

  it('an unknown command is still a usage error, exit 2', async () => {
    const run = await runCodexLab(['bogus'], { home });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      "codex-lab: Unknown command 'bogus'; run codex-lab --help for usage.\n",
    );
  });

  it('help for an unknown command is the one line the command itself gets, exit 2', async () => {
    for (const name of ['bogus', 'lst']) {
      const direct = await runCodexLab([name], { home });
      const run = await runCodexLab(['help', name], { home });
      expect(run.code, name).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.split('\n')).toEqual([direct.stderr.trimEnd(), '']);
      expect(run.stderr).toBe(direct.stderr);
    }
    expect(await readdir(home)).toEqual([]);
  });

  it('help for a command prints its help to stdout and exits 0, as its --help does', async () => {
    for (const command of ['list', 'login']) {
      const own = await runCodexLab([command, '--help'], { home });
      const run = await runCodexLab(['help', command], { home });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe(own.stdout);
    }
  });

  it('an unknown option is a usage error with a non-zero exit', async () => {
    const run = await runCodexLab(['list', '--bogus'], { home });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toBe(
      "codex-lab: Unknown option '--bogus'; run codex-lab list --help for usage.\n",
    );
  });
});

describe('output into a pipe that closes early', () => {
  it('ends quietly, with the command’s own exit status, as `codex-lab list | head -1` does', async () => {
    const home = await makeTempHome();
    try {
      // The reader closes before the command writes (`| true`): its writes meet a closed pipe.
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const run = spawnSync(
          'bash',
          [
            '-c',
            `"${process.execPath}" "${cliEntry}" list | true; echo "status \${PIPESTATUS[0]}"`,
          ],
          { env: { ...process.env, CODEX_LAB_HOME: home }, encoding: 'utf8' },
        );
        expect(run.stderr).toBe('');
        expect(run.stdout).toBe('status 0\n');
      }
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('codex-lab codex', () => {
  // The launcher starts this home's router in the background when none runs: stopped after each.
  let port: number;
  beforeEach(async () => {
    port = await freePort();
  });
  afterEach(async () => {
    await runCodexLab(['stop'], { home });
  });

  async function fakeCodex(): Promise<{ bin: string; record: string; codexHome: string }> {
    const bin = join(home, 'fake-codex');
    const record = join(home, 'codex-record.json');
    const codexHome = join(home, 'codex-home');
    await mkdir(codexHome, { recursive: true });
    await writeFile(join(codexHome, 'config.toml'), 'model = "gpt-5.5"\n');
    await writeFile(
      bin,
      `#!${process.execPath}\n` +
        `require('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv.slice(2), env: process.env, profile: process.env.CODEX_LAB_PROFILE ?? null, noProxy: process.env.NO_PROXY ?? null }));\n` +
        `process.stdout.write('fake codex ran\\n');\nprocess.exit(7);\n`,
    );
    await chmod(bin, 0o755);
    return { bin, record, codexHome };
  }

  it('codex-config behind a proxy names the NO_PROXY Codex needs, on stderr, the block unchanged', async () => {
    // Whatever proxy this machine names is taken out first.
    const noProxy = Object.fromEntries(
      ['HTTPS_PROXY', 'HTTP_PROXY', 'ALL_PROXY', 'NO_PROXY'].flatMap((name) => [
        [name, undefined],
        [name.toLowerCase(), undefined],
      ]),
    ) as Record<string, undefined>;
    const plain = await runCodexLab(['codex-config'], {
      home,
      env: { ...noProxy, CODEX_LAB_PORT: '4567' },
    });
    const proxied = await runCodexLab(['codex-config'], {
      home,
      env: {
        ...noProxy,
        CODEX_LAB_PORT: '4567',
        HTTPS_PROXY: 'http://proxy.example:3128',
        NO_PROXY: 'corp.example',
      },
    });
    expect(proxied.code).toBe(0);
    expect(proxied.stdout).toBe(plain.stdout);
    expect(plain.stderr).toBe('');
    expect(proxied.stderr.trim()).toBe(
      'codex-lab: behind a proxy, start Codex with NO_PROXY=corp.example,127.0.0.1,localhost,::1 so it reaches the router on 127.0.0.1 (codex-lab codex does this itself).',
    );
  });

  it('behind a proxy, lets Codex reach the router on loopback directly (NO_PROXY)', async () => {
    await loadOrCreateRouterToken(labPaths(home));
    const { bin, record, codexHome } = await fakeCodex();
    const run = await runCodexLab(['codex', '--', 'exec', 'hi'], {
      home,
      env: {
        CODEX_LAB_CODEX_BIN: bin,
        CODEX_LAB_PORT: String(port),
        CODEX_HOME: codexHome,
        HTTPS_PROXY: 'http://proxy.example:3128',
        HTTP_PROXY: 'http://proxy.example:3128',
        NO_PROXY: 'corp.example',
        no_proxy: undefined,
      },
    });
    expect(run.code, run.stderr).toBe(7);
    const seen = JSON.parse(await readFile(record, 'utf8')) as { noProxy: string | null };
    expect(seen.noProxy).toBe('corp.example,127.0.0.1,localhost,::1');
  });

  it('passes --no-daemon and -c overrides before the user arguments, the pin through the environment, and no token to Codex but the command that prints it', async () => {
    const token = await loadOrCreateRouterToken(labPaths(home));
    await new ProfileStore({ paths: labPaths(home) }).saveSignIn({
      auth: makeAuth({ email: 'b@example.com', accountId: 'acct-b' }),
      requestedName: 'b',
    });
    const { bin, record, codexHome } = await fakeCodex();
    const before = await readFile(join(codexHome, 'config.toml'), 'utf8');
    const run = await runCodexLab(
      ['codex', '--profile', 'b', '--', 'exec', '--skip-git-repo-check', 'say hi'],
      {
        home,
        env: { CODEX_LAB_CODEX_BIN: bin, CODEX_LAB_PORT: String(port), CODEX_HOME: codexHome },
      },
    );
    expect(run.stdout).toContain('fake codex ran');
    expect(run.code).toBe(7); // Codex's own exit code
    const seen = JSON.parse(await readFile(record, 'utf8')) as CodexRecord;
    const userArgs = ['exec', '--skip-git-repo-check', 'say hi'];
    expect(seen.argv.slice(-userArgs.length)).toEqual(userArgs);
    // Codex in its own process, not its shared background server: the overrides and the run's
    // headers (read from this Codex's environment) need that.
    expect(seen.argv[0]).toBe('--no-daemon');
    const overrides = seen.argv.slice(1, -userArgs.length);
    expect(overrides.length).toBeGreaterThan(0);
    for (let index = 0; index < overrides.length; index += 2) {
      expect(overrides[index]).toBe('-c');
      expect(overrides[index + 1]).toMatch(/^[a-z_.-]+=/i);
    }
    expect(overrides.join(' ')).toContain(`http://127.0.0.1:${port}/backend-api/codex`);
    expect(overrides.join(' ')).toContain('env_http_headers');
    expect(seen.argv.join(' ')).not.toContain(token);
    // Every command the model runs inherits Codex's environment: no token there.
    expect(JSON.stringify(seen.env)).not.toContain(token);
    expect(seen.env['CODEX_LAB_ROUTER_TOKEN']).toBeUndefined();
    expect(seen.profile).toBe('b');
    // Codex asks the token command, which reaches this home's router on this port.
    const printed = runTokenCommandOf(seen.argv, home);
    expect(printed.stderr).toBe('');
    expect(String(printed.stdout).trim()).toBe(token);
    expect(run.stdout + run.stderr).not.toContain(token);
    // Codex's files are untouched and nothing was added to its home.
    expect(await readFile(join(codexHome, 'config.toml'), 'utf8')).toBe(before);
    expect(await readdir(codexHome)).toEqual(['config.toml']);
  });

  it('without --profile pins what the shell’s CODEX_LAB_PROFILE names, as plain codex does; a name that is no profile is said to come from it', async () => {
    await loadOrCreateRouterToken(labPaths(home));
    await new ProfileStore({ paths: labPaths(home) }).saveSignIn({
      auth: makeAuth({ email: 'b@example.com', accountId: 'acct-b' }),
      requestedName: 'b',
    });
    const { bin, record, codexHome } = await fakeCodex();
    const env = { CODEX_LAB_CODEX_BIN: bin, CODEX_LAB_PORT: String(port), CODEX_HOME: codexHome };
    const pinned = await runCodexLab(['codex', '--', 'exec', 'x'], {
      home,
      env: { ...env, CODEX_LAB_PROFILE: 'B' },
    });
    expect(pinned.code, pinned.stderr).toBe(7); // the fake Codex's own exit code
    expect((JSON.parse(await readFile(record, 'utf8')) as { profile: string | null }).profile).toBe(
      'b',
    );
    const stale = await runCodexLab(['codex', '--', 'exec', 'x'], {
      home,
      env: { ...env, CODEX_LAB_PROFILE: 'stale' },
    });
    expect(stale.code).toBe(1);
    expect(stale.stderr.trim()).toBe(
      'codex-lab: CODEX_LAB_PROFILE is set to "stale", but there is no such profile: unset it, set it to a profile from codex-lab list, or pass --profile.',
    );
    // --profile wins, and auto is no pin.
    await runCodexLab(['codex', '--profile', 'auto', '--', 'exec', 'x'], {
      home,
      env: { ...env, CODEX_LAB_PROFILE: 'stale' },
    });
    expect(
      (JSON.parse(await readFile(record, 'utf8')) as { profile: string | null }).profile,
    ).toBeNull();
  });

  it('refuses a bad profile name with one clear line', async () => {
    const { bin } = await fakeCodex();
    const bad = await runCodexLab(['codex', '--profile', '../x', '--', 'exec', 'x'], {
      home,
      env: { CODEX_LAB_CODEX_BIN: bin },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    // Read as every command reads a typed name: it is no profile, said as such.
    expect(bad.stderr).toMatch(/^codex-lab: There is no profile named "\.\.\/x"/);
  });

  it('with its port taken by another program, codex says the router’s own reason, and the token command gives Codex a placeholder', async () => {
    const { bin, record } = await fakeCodex();
    const stranger = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => stranger.listen(port, '127.0.0.1', resolve));
    try {
      const reason = `Port ${port} on 127.0.0.1 is already in use by another program, so the Codex Lab router cannot listen there: stop that program, or set CODEX_LAB_PORT to a free port (or pass --port).`;
      const log = join(home, 'state', 'router.log');
      const run = await runCodexLab(['codex', '--', 'exec', 'x'], {
        home,
        env: { CODEX_LAB_CODEX_BIN: bin, CODEX_LAB_PORT: String(port) },
      });
      expect(run.code).toBe(1);
      // The reason the router wrote to its log, not only where the log is.
      expect(run.stderr).toBe(
        `codex-lab: Could not start a Codex Lab router in the background (${log}): ${reason}\n`,
      );
      expect(existsSync(record)).toBe(false);
      // Codex keeps the token it had when its command fails, and would send it to the stranger:
      // it gets a placeholder instead, and the same sentence goes to stderr.
      const token = await runCodexLab(['token', '--ensure-router', '--port', String(port)], {
        home,
      });
      expect(token.code).toBe(0);
      expect(token.stdout).toBe(`${routerUnavailableToken}\n`);
      expect(token.stderr).toBe(run.stderr);
    } finally {
      await new Promise((resolve) => stranger.close(resolve));
    }
  });

  it('with CODEX_LAB_PORT and no router running, starts one on that port before Codex runs', async () => {
    // A fresh home: no router token yet, no router. Codex must not be pointed at a silent port.
    const { bin, record } = await fakeCodex();
    const run = await runCodexLab(['codex', '--', 'exec', 'x'], {
      home,
      env: { CODEX_LAB_CODEX_BIN: bin, CODEX_LAB_PORT: String(port) },
    });
    expect(run.code, run.stderr).toBe(7);
    expect(run.stderr).toContain(
      `started a Codex Lab router in the background on http://127.0.0.1:${port}`,
    );
    const seen = JSON.parse(await readFile(record, 'utf8')) as CodexRecord;
    expect(seen.argv.join(' ')).toContain(`http://127.0.0.1:${port}/backend-api/codex`);
    expect(String(runTokenCommandOf(seen.argv, home).stdout).trim()).toBe(
      (await runCodexLab(['token'], { home })).stdout.trim(),
    );
    const status = await runCodexLab(['status'], { home });
    expect(status.stdout).toContain(String(port));

    // The same home's router running, and the variable naming another port: one sentence.
    const other = await freePort();
    const mismatch = await runCodexLab(['codex', '--', 'exec', 'x'], {
      home,
      env: { CODEX_LAB_CODEX_BIN: bin, CODEX_LAB_PORT: String(other) },
    });
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toBe(
      `codex-lab: This home's router runs on port ${port}, but Codex is set to port ${other} (CODEX_LAB_PORT, or --port in the codex-config block): stop that router (codex-lab stop) and run this again, or use port ${port}.\n`,
    );
    // The block's token command says the same, and hands Codex a placeholder rather than a
    // token for a port where no router of this home listens.
    const token = await runCodexLab(['token', '--ensure-router', '--port', String(other)], {
      home,
    });
    expect(token.code).toBe(0);
    expect(token.stdout).toBe(`${routerUnavailableToken}\n`);
    expect(token.stderr).toBe(mismatch.stderr);
  });
});

describe('token --ensure-router, six at once with no router running', () => {
  it('starts one router, and only the command whose router it is says it started one', async () => {
    const home = await makeTempHome('codex-lab-ensure-race-');
    try {
      const port = await freePort();
      const runs = await Promise.all(
        Array.from({ length: 6 }, () =>
          runCodexLab(['token', '--ensure-router'], {
            home,
            env: { CODEX_LAB_PORT: String(port) },
          }),
        ),
      );
      for (const run of runs) expect(run.code, run.stderr).toBe(0);
      const token = (await runCodexLab(['token'], { home })).stdout.trim();
      expect(runs.map((run) => run.stdout.trim())).toEqual(runs.map(() => token));
      const said = runs.filter((run) => run.stderr.includes('started a Codex Lab router'));
      expect(said).toHaveLength(1);
      expect((await runCodexLab(['status'], { home })).code).toBe(0);
    } finally {
      await runCodexLab(['stop'], { home });
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('codex-lab codex-config', () => {
  it('names the config file Codex reads: $CODEX_HOME/config.toml as Codex resolves it, else ~/.codex/config.toml', async () => {
    const real = join(home, 'codex-home');
    await mkdir(real);
    // Codex canonicalizes CODEX_HOME (a relative one from its working folder, through links).
    await symlink(real, join(home, 'codex-link'));
    const set = await runCodexLab(['codex-config'], {
      home,
      cwd: home,
      env: { CODEX_HOME: 'codex-link' },
    });
    expect(set.code).toBe(0);
    expect(set.stdout).toContain(`# For ${join(realpathSync(real), 'config.toml')}.`);
    expect(set.stdout).not.toContain('~/.codex');
    const unset = await runCodexLab(['codex-config'], { home, env: { CODEX_HOME: undefined } });
    expect(unset.stdout).toContain('# For ~/.codex/config.toml.');
    const empty = await runCodexLab(['codex-config'], { home, env: { CODEX_HOME: '' } });
    expect(empty.stdout).toContain('# For ~/.codex/config.toml.');
  });

  it('prints a provider block for the configured port with command-backed auth and no token', async () => {
    const token = await loadOrCreateRouterToken(labPaths(home));
    // A `codex-lab` on PATH, as after the README's set-up.
    const bin = join(home, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'codex-lab'), '#!/bin/sh\n', { mode: 0o755 });
    const run = await runCodexLab(['codex-config'], {
      home,
      env: { CODEX_LAB_PORT: '4567', PATH: `${bin}${delimiter}${process.env['PATH']}` },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('model_provider = "codex-lab"');
    expect(run.stdout).toContain('[model_providers.codex-lab]');
    expect(run.stdout).toContain('base_url = "http://127.0.0.1:4567/backend-api/codex"');
    expect(run.stdout).toContain('chatgpt_base_url = "http://127.0.0.1:4567/backend-api/"');
    // A home other than the default, and a port other than 1456, travel as arguments: Codex runs
    // the command without the shell's CODEX_LAB_* variables.
    expect(run.stdout).toContain(
      `auth = { command = "codex-lab", args = ["token", "--ensure-router", "--home", ${JSON.stringify(home)}, "--port", "4567"], timeout_ms = 25000, refresh_interval_ms = 10000 }`,
    );
    // Nothing from an environment: Codex's shared background server would take it from whichever
    // shell started it, for every session of every shell.
    expect(run.stdout).not.toContain('env_http_headers');
    expect(run.stdout).not.toContain('CODEX_LAB_PROFILE');
    expect(run.stdout).toContain('supports_standalone_web_search = true');
    expect(run.stdout).not.toContain(token);
    // Top-level keys come before the first table, or TOML would put them inside it.
    const firstTable = run.stdout.indexOf('[model_providers');
    expect(run.stdout.indexOf('model_provider =')).toBeLessThan(firstTable);
    expect(run.stdout.indexOf('chatgpt_base_url =')).toBeLessThan(firstTable);
  });

  it('token --home refuses a folder that is not there (a typo in the config) and makes none; codex-config makes the home it names', async () => {
    const typo = join(home, 'no-such-home');
    const run = await runCodexLab(['token', '--home', typo], { home });
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      `codex-lab: --home ${typo} is not a Codex Lab home (no such folder); fix the path in your Codex config, or print the block again with codex-lab codex-config.`,
    );
    expect(existsSync(typo)).toBe(false);
    const fresh = join(home, 'fresh-home');
    const config = await runCodexLab(['codex-config'], { home: fresh });
    expect(config.code).toBe(0);
    expect(config.stdout).toContain(JSON.stringify(fresh));
    const token = await runCodexLab(['token', '--home', fresh], { home });
    expect(token.code).toBe(0);
    expect(token.stdout.trim()).toMatch(/^\S{20,}$/);
  });

  it('refuses a relative home, in CODEX_LAB_HOME or --home, and makes no folder for it', async () => {
    const cwd = tempFolder('codex-lab-cwd-');
    const fromEnvironment = await runCodexLab(['list'], { home: 'rel', cwd });
    expect(fromEnvironment.code).toBe(1);
    expect(fromEnvironment.stderr.trim()).toBe(
      'codex-lab: CODEX_LAB_HOME must be an absolute path or start with ~ (such as ~/.codex-lab), not "rel".',
    );
    const fromOption = await runCodexLab(['token', '--home', 'rel'], { home, cwd });
    expect(fromOption.code).toBe(2);
    expect(fromOption.stderr.trim()).toBe(
      'codex-lab: --home must be an absolute path or start with ~ (such as ~/.codex-lab), not "rel".',
    );
    expect(fromOption.stdout).toBe('');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('names codex-lab by absolute path when it is not on PATH, and that command prints the token', async () => {
    const token = await loadOrCreateRouterToken(labPaths(home));
    const path = (process.env['PATH'] ?? '')
      .split(delimiter)
      .filter((folder) => !existsSync(join(folder, 'codex-lab')))
      .join(delimiter);
    const port = await freePort();
    const run = await runCodexLab(['codex-config'], {
      home,
      env: { PATH: path, CODEX_LAB_PORT: String(port) },
    });
    expect(run.code).toBe(0);
    const auth =
      /^auth = \{ command = (".*"), args = (\[.*\]), timeout_ms = \d+, refresh_interval_ms = \d+ \}$/m.exec(
        run.stdout,
      );
    expect(auth).not.toBeNull();
    const command = JSON.parse(auth![1]!) as string;
    const args = JSON.parse(auth![2]!) as string[];
    expect(command).toBe(process.execPath);
    expect(args).toEqual([
      cliEntry,
      'token',
      '--ensure-router',
      '--home',
      home,
      '--port',
      String(port),
    ]);
    // Codex runs it without a shell and without the CODEX_LAB_* variables of the shell that ran
    // codex-config (its HOME's default home is another one). It still starts this home's router,
    // on the block's port, and prints this home's token; the test then stops that router.
    const codexEnv: NodeJS.ProcessEnv = { PATH: path, HOME: join(home, 'elsewhere') };
    const printed = spawnSync(command, args, { env: codexEnv, encoding: 'utf8' });
    expect(printed.stdout.trim()).toBe(token);
    expect(printed.stderr).toContain(
      `started a Codex Lab router in the background on http://127.0.0.1:${port}`,
    );
    expect((await runCodexLab(['stop'], { home })).code).toBe(0);
    await expect(stat(join(home, 'elsewhere', '.codex-lab'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
