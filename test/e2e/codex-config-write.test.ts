/**
 * The real Codex with a config.toml that ends in a `[projects."…"]` trust table, as Codex leaves
 * it. Appending the printed block (`codex-lab codex-config >> config.toml`) puts its top-level keys
 * inside that table: Codex runs with `provider: openai`, straight past Codex Lab, with only an
 * "is ignored" warning (the trap this documents). `codex-lab codex-config --write` puts them above
 * the table, and plain `codex exec` then goes through the router to the router's account (in a
 * fresh file, and in one the old advice had already broken).
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { seedProfiles, type SeededProfile } from '../helpers/seed-profiles.ts';
import {
  bearerOf,
  cliEntry,
  quietCodexConfig,
  resolveCodexBins,
  type RunResult,
} from './harness.ts';

const { codexes, skipReason } = resolveCodexBins();
if (skipReason) console.warn(`[e2e] skipping the codex-config --write suite: ${skipReason}`);

interface World {
  fake: FakeChatGpt;
  root: string;
  codexHome: string;
  workdir: string;
  env: NodeJS.ProcessEnv;
  alpha: SeededProfile;
}

const worlds: World[] = [];

/** A port that was free a moment ago (the block names its port up front). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function world(): Promise<World> {
  const fake = await startFakeChatGpt({ accounts: [{ email: 'alpha@example.com' }] });
  const root = await mkdtemp(join(tmpdir(), 'codex-lab-config-write-'));
  const labHome = join(root, 'lab');
  const codexHome = join(root, 'codex-home');
  const workdir = join(root, 'work');
  const shims = join(root, 'bin');
  for (const folder of [labHome, codexHome, workdir, shims, join(root, 'home')]) {
    await mkdir(folder, { recursive: true });
  }
  const [alpha] = await seedProfiles(fake, labHome, [
    { name: 'alpha', email: 'alpha@example.com' },
  ]);
  // `codex-lab` on PATH, as after the README's set-up: the block's token command runs it.
  await writeFile(
    join(shims, 'codex-lab'),
    `#!/bin/sh\nexec "${process.execPath}" "${cliEntry}" "$@"\n`,
  );
  await chmod(join(shims, 'codex-lab'), 0o755);
  const env: NodeJS.ProcessEnv = {
    PATH: `${shims}:${process.env['PATH'] ?? ''}`,
    HOME: join(root, 'home'),
    CODEX_HOME: codexHome,
    CODEX_LAB_HOME: labHome,
    CODEX_LAB_PORT: String(await freePort()),
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  };
  // What Codex leaves after a few sessions: settings, then the trust tables it appends.
  await writeFile(
    join(codexHome, 'config.toml'),
    `${quietCodexConfig}\n[projects.${JSON.stringify(workdir)}]\ntrust_level = "trusted"\n`,
  );
  const created = { fake, root, codexHome, workdir, env, alpha: alpha! };
  worlds.push(created);
  return created;
}

/**
 * Runs a command; `until` ends it early (SIGKILL) once its stderr matches, for a Codex that would
 * otherwise keep reconnecting to an upstream it cannot reach.
 */
function run(command: string, args: string[], current: World, until?: RegExp): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: current.env,
      cwd: current.workdir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (until?.test(stderr)) child.kill('SIGKILL');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function codexLab(current: World, args: string[]): Promise<RunResult> {
  return run(process.execPath, [cliEntry, ...args], current);
}

afterEach(async () => {
  for (const current of worlds.splice(0)) {
    await codexLab(current, ['stop']).catch(() => undefined);
    await current.fake.close();
    await rm(current.root, { recursive: true, force: true });
  }
});

describe.skipIf(codexes.length === 0).each(codexes)(
  'codex-config and a config.toml ending in a trust table, Codex $version',
  ({ bin }) => {
    it('--write, then plain codex exec goes through the router to its account', async () => {
      const current = await world();
      const written = await codexLab(current, ['codex-config', '--write']);
      expect(written.code, written.stderr).toBe(0);
      const config = await readFile(join(current.codexHome, 'config.toml'), 'utf8');
      expect(config.indexOf('model_provider = "codex-lab"')).toBeLessThan(
        config.indexOf('[projects.'),
      );

      const result = await run(bin, ['exec', '--skip-git-repo-check', 'say hi'], current);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/^provider: codex-lab$/m);
      expect(result.stderr).not.toMatch(/is ignored/);
      const turns = current.fake.requests.filter((r) => r.path === '/backend-api/codex/responses');
      expect(turns.length).toBeGreaterThan(0);
      // The router sent them, with the router's profile's token.
      for (const turn of turns) expect(bearerOf(turn)).toBe(current.alpha.accessToken);
    });

    it('a file without a last line break stays without one: Codex reads it, --remove gives back its bytes', async () => {
      const current = await world();
      const path = join(current.codexHome, 'config.toml');
      const original = `${(await readFile(path, 'utf8')).trimEnd()}\n[features]\nweb_search_request = false`;
      await writeFile(path, original);
      const written = await codexLab(current, ['codex-config', '--write']);
      expect(written.code, written.stderr).toBe(0);
      expect((await readFile(path, 'utf8')).endsWith('\n')).toBe(false);

      const result = await run(bin, ['exec', '--skip-git-repo-check', 'say hi'], current);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/^provider: codex-lab$/m);

      const removed = await codexLab(current, ['codex-config', '--remove']);
      expect(removed.code, removed.stderr).toBe(0);
      expect(await readFile(path, 'utf8')).toBe(original);
    });

    it('appending the printed block instead (the old advice) leaves Codex on openai, past the router', async () => {
      const current = await world();
      const printed = await codexLab(current, ['codex-config']);
      expect(printed.code, printed.stderr).toBe(0);
      const path = join(current.codexHome, 'config.toml');
      await writeFile(path, `${await readFile(path, 'utf8')}\n${printed.stdout}`);

      // Codex cannot reach OpenAI here: stop it once it has shown where it went.
      const result = await run(
        bin,
        ['exec', '--skip-git-repo-check', 'say hi'],
        current,
        /Reconnecting|stream disconnected|error sending request/,
      );
      expect(result.stderr).toMatch(/^provider: openai$/m);
      expect(result.stderr).toMatch(/`projects\.[^`]*\.model_provider` is ignored/);
      expect(current.fake.requests.filter((r) => r.path.startsWith('/backend-api/codex'))).toEqual(
        [],
      );
      // Codex never ran the block's token command, so no router was started for it.
      expect((await codexLab(current, ['status'])).code).toBe(1);

      // --write mends that file: the keys go above the tables; the strays are named, not edited.
      const mended = await codexLab(current, ['codex-config', '--write']);
      expect(mended.code, mended.stderr).toBe(0);
      expect(mended.stderr).toContain(`inside [projects.${JSON.stringify(current.workdir)}]`);
      const after = await run(bin, ['exec', '--skip-git-repo-check', 'say hi'], current);
      expect(after.code, after.stderr).toBe(0);
      expect(after.stderr).toMatch(/^provider: codex-lab$/m);
      const turns = current.fake.requests.filter((r) => r.path === '/backend-api/codex/responses');
      expect(turns.map(bearerOf)).toContain(current.alpha.accessToken);
    });
  },
);
