// Child processes for benchmarks: `codex-lab serve` (the bundled CLI when built, else the
// TypeScript source) and the bare undici proxy, each on a free loopback port.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

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
 * Starts the router with `env` (Node flags such as `--cpu-prof` in `nodeArgs`). Resolves with its
 * URL and pid once it prints its address, and a `close` that stops it with SIGTERM.
 */
export function startRouter(env, nodeArgs = []) {
  return startListening(
    [join(repoRoot, 'bin/codex-lab.mjs'), 'serve', '--port', '0'],
    env,
    nodeArgs,
  );
}

/** Starts the bare undici pass-through proxy (`bare-proxy.mjs`) in its own process. */
export function startBareProxy(upstreamOrigin, connections) {
  return startListening(
    [join(import.meta.dirname, 'bare-proxy.mjs'), upstreamOrigin, String(connections)],
    { PATH: process.env.PATH },
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
