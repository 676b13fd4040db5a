/**
 * Issue 8, done when: with no router running for the home, `codex-lab codex -- exec …` starts one
 * in the background (said once), the real Codex completes against the fake upstream, and the
 * router keeps running afterwards until `codex-lab stop`; the real Codex using the block that
 * `codex-config` prints starts one too (its token command is `codex-lab token --ensure-router`).
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { cliEntry, quietCodexConfig, resolveCodexBins, type RunResult } from './harness.ts';

// The newest Codex CI installs is enough here: this is about starting the router, not the wire.
const { codexes, skipReason } = resolveCodexBins();
const codexBin = codexes.at(-1)?.bin;
if (skipReason) console.warn(`[e2e] skipping the router-on-demand suite: ${skipReason}`);

interface World {
  fake: FakeChatGpt;
  root: string;
  labHome: string;
  codexHome: string;
  workdir: string;
  env: NodeJS.ProcessEnv;
}

const worlds: World[] = [];

async function world(): Promise<World> {
  const fake = await startFakeChatGpt({ accounts: [{ email: 'alpha@example.com' }] });
  const root = await mkdtemp(join(tmpdir(), 'codex-lab-on-demand-'));
  const labHome = join(root, 'lab');
  const codexHome = join(root, 'codex-home');
  const workdir = join(root, 'work');
  for (const folder of [labHome, codexHome, workdir, join(root, 'home')]) {
    await mkdir(folder, { recursive: true });
  }
  await seedProfiles(fake, labHome, [{ name: 'alpha', email: 'alpha@example.com' }]);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: join(root, 'home'),
    CODEX_HOME: codexHome,
    CODEX_LAB_HOME: labHome,
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    CODEX_LAB_CODEX_BIN: codexBin!,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  };
  const created = { fake, root, labHome, codexHome, workdir, env };
  worlds.push(created);
  return created;
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function codexLab(current: World, args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, [cliEntry, ...args], { ...current.env, ...env }, current.workdir);
}

/** A port that was free a moment ago (for a config block that must name its port up front). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

afterEach(async () => {
  for (const current of worlds.splice(0)) {
    await codexLab(current, ['stop']).catch(() => undefined);
    await current.fake.close();
    await rm(current.root, { recursive: true, force: true });
  }
});

describe.skipIf(!codexBin)('a router started on demand', () => {
  it('codex-lab codex starts one in the background, Codex completes, status and stop see it', async () => {
    const current = await world();
    await writeFile(join(current.codexHome, 'config.toml'), quietCodexConfig);
    expect((await codexLab(current, ['status'])).code).toBe(1);

    const result = await codexLab(
      current,
      ['codex', '--', 'exec', '--skip-git-repo-check', 'say hi'],
      { CODEX_LAB_PORT: '0' },
    );
    expect(result.code, result.stderr).toBe(0);
    const started = result.stderr.match(/started a Codex Lab router in the background/g) ?? [];
    expect(started).toHaveLength(1);
    expect(current.fake.requests.some((r) => r.path === '/backend-api/codex/responses')).toBe(true);

    // The router keeps running after Codex exits.
    const status = await codexLab(current, ['status', '--json']);
    expect(status.code).toBe(0);
    const shown = JSON.parse(status.stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({ running: true, host: 'serve', profiles: ['alpha'] });
    expect(typeof shown['pid']).toBe('number');
    expect(() => process.kill(shown['pid'] as number, 0)).not.toThrow();

    const stopped = await codexLab(current, ['stop']);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toMatch(/^Stopped the Codex Lab router on http:\/\/127\.0\.0\.1:\d+/);
    expect(() => process.kill(shown['pid'] as number, 0)).toThrow();
    expect((await codexLab(current, ['status'])).code).toBe(1);
  });

  it('the real Codex with the codex-config block starts the router through its token command', async () => {
    const current = await world();
    const port = await freePort();
    const shims = join(current.root, 'bin');
    await mkdir(shims, { recursive: true });
    await writeFile(
      join(shims, 'codex-lab'),
      `#!/bin/sh\nexec "${process.execPath}" "${cliEntry}" "$@"\n`,
    );
    await chmod(join(shims, 'codex-lab'), 0o755);
    const env = { PATH: `${shims}:${process.env['PATH'] ?? ''}`, CODEX_LAB_PORT: String(port) };
    const block = await codexLab(current, ['codex-config'], env);
    // This home and port are not the defaults: they travel in the command's arguments.
    expect(block.stdout).toContain(
      `args = ["token", "--ensure-router", "--home", ${JSON.stringify(current.labHome)}, "--port", "${port}"]`,
    );
    await writeFile(
      join(current.codexHome, 'config.toml'),
      `check_for_update_on_startup = false\n${block.stdout}\n${quietCodexConfig.replace('check_for_update_on_startup = false', '')}`,
    );
    // Plain `token` prints the token and starts nothing.
    expect((await codexLab(current, ['token'], env)).code).toBe(0);
    expect((await codexLab(current, ['status'], env)).code).toBe(1);

    const result = await run(
      codexBin!,
      ['exec', '--strict-config', '--skip-git-repo-check', 'say hi'],
      { ...current.env, ...env },
      current.workdir,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(current.fake.requests.some((r) => r.path === '/backend-api/codex/responses')).toBe(true);
    const status = await codexLab(current, ['status', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, port });
  });
});
