// Child processes for benchmarks: `codex-lab serve` (the bundled CLI when built, else the
// TypeScript source) and the bare undici proxy, each on a free loopback port.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fakeTlsCaFile } from '../../test/fakes/fake-chatgpt.ts';
import { seedProfiles } from '../../test/helpers/seed-profiles.ts';

const repoRoot = resolve(import.meta.dirname, '..', '..');

/** Runs the CLI once with `args` and `env`; resolves with its output, rejects on a non-zero exit. */
export async function runCli(env, args) {
  const child = spawn(process.execPath, [join(repoRoot, 'bin/codex-lab.mjs'), ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise((done) => child.once('exit', done));
  if (code !== 0) throw new Error(`codex-lab ${args.join(' ')} exited with ${code}:\n${output}`);
  return output;
}

/**
 * Starts the router with `env` (Node flags such as `--cpu-prof` in `nodeArgs`), from this checkout
 * or the one at `root` (an earlier commit's worktree, to compare side by side). Resolves with its
 * URL and pid once it prints its address, and a `close` that stops it with SIGTERM.
 */
export function startRouter(env, nodeArgs = [], root = repoRoot) {
  return startListening([join(root, 'bin/codex-lab.mjs'), 'serve', '--port', '0'], env, nodeArgs);
}

/**
 * Starts the bare undici pass-through proxy (`bare-proxy.mjs`) in its own process; `env` adds to
 * its environment (`NODE_EXTRA_CA_CERTS` for an upstream over TLS).
 */
export function startBareProxy(upstreamOrigin, connections, env = {}) {
  return startListening(
    [join(import.meta.dirname, 'bare-proxy.mjs'), upstreamOrigin, String(connections)],
    { PATH: process.env.PATH, ...env },
  );
}

/** Runs a Node script that prints "listening on http://127.0.0.1:PORT"; resolves once it does. */
async function startListening(args, env, nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`${args[0]} did not start:\n${output}`)), 30_000);
    const onData = (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        done(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${args[0]} exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    pid: child.pid,
    async close() {
      child.kill('SIGTERM');
      await new Promise((done) => (child.exitCode !== null ? done() : child.once('exit', done)));
    },
  };
}

/**
 * A temporary root (`prefix` in the temp folder) holding a lab home with `profiles` seeded at
 * `fake` (`options.active` names the active profile), the environment a `codex-lab` child needs
 * there, and a reader for the router token.
 */
export async function seedBenchLab(fake, prefix, profiles, options = {}) {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const labHome = join(root, 'lab');
  await mkdir(labHome, { recursive: true });
  const seeded = await seedProfiles(fake, labHome, profiles, options);
  const env = {
    PATH: process.env.PATH,
    HOME: join(root, 'home'),
    CODEX_LAB_HOME: labHome,
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    CODEX_LAB_LOG_LEVEL: 'warn',
    // A fake serving TLS: the child trusts its test CA.
    ...(fake.backendUrl.startsWith('https:') ? { NODE_EXTRA_CA_CERTS: fakeTlsCaFile } : {}),
  };
  const routerToken = async () =>
    (await readFile(join(labHome, 'state', 'router-token'), 'utf8')).trim();
  return { root, labHome, seeded, env, routerToken };
}

/** A streamed Codex turn ("say hi") as JSON, with `extra` fields appended to the body. */
export function codexRequestBody(extra = {}) {
  return JSON.stringify({
    model: 'gpt-5.1-codex',
    stream: true,
    store: false,
    input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'say hi' }] }],
    tools: [],
    ...extra,
  });
}
