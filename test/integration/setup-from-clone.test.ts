/**
 * A newcomer's first minutes, as the README writes them: clone the repository into a temporary
 * folder, run the README's set-up command on a PATH whose Node is the machine's own (older than
 * 22.12 on these machines), then use `codex-lab` from PATH while the router it started runs, and
 * run the README's test command. npm's global folder is a temporary prefix, so the machine is not
 * changed; npm works from its warm cache (`prefer-offline`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noProfilesSentence } from '../../core/format.ts';
import { repoRoot } from '../helpers/cli.ts';

/** The commands in the README's "Set up" block, comments removed. */
function readmeSetUpCommands(): string[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Set up'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '');
}

const commands = readmeSetUpCommands();
const folder = mkdtempSync(join(tmpdir(), 'codex-lab-clone-'));
const clone = join(folder, 'codex-lab');
const prefix = join(folder, 'npm-global');
const home = join(folder, 'home');
// The machine's PATH without any Node a test runner put first: the set-up must cope on its own.
const machinePath = (process.env['PATH'] ?? '')
  .split(delimiter)
  .filter((entry) => !entry.includes('codex-lab-ci') && !entry.includes('node_modules'))
  .join(delimiter);
const env: NodeJS.ProcessEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) =>
        !key.startsWith('CODEX_LAB_') && !key.startsWith('npm_') && !key.startsWith('VITEST'),
    ),
  ),
  PATH: `${join(prefix, 'bin')}${delimiter}${machinePath}`,
  npm_config_prefix: prefix,
  npm_config_prefer_offline: 'true',
  npm_config_update_notifier: 'false',
  CODEX_LAB_HOME: home,
  CODEX_LAB_PORT: '0',
  CODEX_LAB_LOG_LEVEL: 'warn',
};
// Vitest's NODE_ENV=test would make the set-up's build a development one.
delete env['NODE_ENV'];
delete env['DISPLAY'];
delete env['WAYLAND_DISPLAY'];

let setUp: ChildProcess | undefined;
let setUpOutput = '';
let setUpExit: Promise<number | null>;

function run(command: string, args: string[], cwd = clone) {
  return spawnSync(command, args, {
    cwd,
    env,
    encoding: 'utf8',
    timeout: 600_000,
  });
}

describe('from a fresh clone with the README', () => {
  beforeAll(async () => {
    expect(commands).toHaveLength(2);
    const cloned = spawnSync('git', ['clone', '--quiet', repoRoot, clone], { encoding: 'utf8' });
    expect(cloned.stderr).toBe('');
    setUp = spawn('bash', ['-c', commands[0]!], { cwd: clone, env });
    setUp.stdout?.on('data', (chunk: Buffer) => (setUpOutput += chunk.toString()));
    setUp.stderr?.on('data', (chunk: Buffer) => (setUpOutput += chunk.toString()));
    setUpExit = new Promise((resolve) => setUp!.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (/listening on http:\/\/127\.0\.0\.1:\d+/.test(setUpOutput)) resolve();
      };
      setUp!.stdout?.on('data', check);
      void setUpExit.then((code) =>
        reject(new Error(`set-up exited with ${code} before the router listened:\n${setUpOutput}`)),
      );
    });
  }, 900_000);

  afterAll(async () => {
    if (setUp && setUp.exitCode === null) {
      setUp.kill('SIGKILL');
      await setUpExit;
    }
    rmSync(folder, { recursive: true, force: true });
  });

  it('puts codex-lab on PATH: --version and list work from there', () => {
    const which = run('sh', ['-c', 'command -v codex-lab']);
    expect(which.stdout.trim()).toBe(join(prefix, 'bin', 'codex-lab'));
    const version = run('codex-lab', ['--version'], folder);
    const packageVersion = (
      JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }
    ).version;
    expect(version.stderr).toBe('');
    expect(version.stdout.trim()).toBe(`codex-lab ${packageVersion}`);
    const list = run('codex-lab', ['list'], folder);
    expect(list.status).toBe(0);
    expect(list.stdout).toContain(noProfilesSentence);
  });

  it('prints a config.toml block whose token command Codex can start', () => {
    // CODEX_LAB_PORT=0 (any free port) is for serve; Codex needs the port serve recorded.
    const { CODEX_LAB_PORT: _port, ...withoutPort } = env;
    const block = spawnSync('codex-lab', ['codex-config'], {
      cwd: folder,
      env: withoutPort,
      encoding: 'utf8',
    });
    expect(block.status).toBe(0);
    expect(block.stdout).toContain('auth = { command = "codex-lab", args = ["token"');
    expect(block.stdout).toMatch(/base_url = "http:\/\/127\.0\.0\.1:\d+\/backend-api\/codex"/);
  });

  it('started the headless router with its dashboard, which stops cleanly on SIGTERM', async () => {
    await expect
      .poll(() => setUpOutput, { timeout: 20_000 })
      .toMatch(/Dashboard: http:\/\/127\.0\.0\.1:\d+\/ui\/#token=/);
    setUp!.kill('SIGTERM');
    expect(await setUpExit).toBe(0);
    expect(setUpOutput).toContain('Codex Lab router stopped.');
  });

  it(".ci/run ends with the README's test command, which runs the tests and prints the total", () => {
    const ci = readFileSync(join(clone, '.ci', 'run'), 'utf8')
      .trimEnd()
      .split('\n');
    expect(ci.at(-1)).toBe(commands[1]);
    // The README's test command, narrowed to one small file so this test stays quick.
    const tests = run('bash', ['-c', `${commands[1]} -- test/unit/log.test.ts`]);
    const lines = tests.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^[1-9]\d* passed, 0 failed, 0 skipped$/);
    expect(tests.status).toBe(0);
  });
});
