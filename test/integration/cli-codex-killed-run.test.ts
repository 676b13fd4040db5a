/**
 * `codex-lab codex` killing a Codex that ignores SIGTERM while one of its turns is in flight
 * through the router: the command exits 143, and the router closes the run's books — the turn is
 * recorded under the run's id as ended by the client's going, and nothing stays counted in flight.
 */
import { spawn } from 'node:child_process';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import type { LabService } from '../../core/service/lab-service.ts';
import { startRouterHost, type HostedRouter } from '../../core/service/router-host.ts';
import { handleBackendRequest } from '../fakes/fake-backend.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { handleIssuerRequest } from '../fakes/fake-issuer.ts';
import { cliEntry, makeTempHome, repoRoot } from '../helpers/cli.ts';
import { gatedTurns, type Gate } from '../helpers/gated-turns.ts';
import { createTestLabService, signInProfiles } from '../helpers/lab-service.ts';

let fake: FakeChatGpt;
let gate: Gate;
let home: string;
let service: LabService;
let hosted: HostedRouter;
let url: string;
let codexBin: string;

beforeAll(async () => {
  const gated = gatedTurns();
  gate = gated.gate;
  fake = await startFakeChatGpt({
    accounts: [{ email: 'ann@example.com' }],
    handlers: [handleIssuerRequest, gated.handler, handleBackendRequest],
  });
  home = await makeTempHome('codex-lab-killed-run-');
  const paths = labPaths(home);
  await signInProfiles(fake, paths, [['ann@example.com', 'ann']]);
  service = createTestLabService(fake, paths, { env: { CODEX_LAB_UPSTREAM_WEBSOCKET: 'off' } });
  // Registered as the home's router, so `codex-lab codex` finds it.
  hosted = await startRouterHost(service, { paths, port: 0, kind: 'serve' });
  url = hosted.url;
  // A Codex that ignores SIGTERM and SIGINT, and starts one turn through the provider the
  // overrides name (its bearer from the token command, its run header from its environment).
  codexBin = join(home, 'fake-codex.mjs');
  await writeFile(
    codexBin,
    `#!${process.execPath}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => {});
const args = process.argv.slice(2);
const overrides = args.filter((_, index) => args[index - 1] === '-c');
const value = (suffix) => overrides.find((entry) => entry.includes(suffix + '='))?.split(suffix + '=')[1];
const baseUrl = JSON.parse(value('.base_url'));
const auth = /command = (".*?"), args = (\\[.*\\])/.exec(value('.auth'));
const { execFileSync } = await import('node:child_process');
const token = execFileSync(JSON.parse(auth[1]), JSON.parse(auth[2]), { encoding: 'utf8' }).trim();
const headers = { authorization: 'Bearer ' + token, 'content-type': 'application/json', 'session-id': 'held' };
for (const [, header, variable] of (value('.env_http_headers') ?? '').matchAll(/"([^"]+)" ?= ?"([^"]+)"/g)) {
  if (process.env[variable]) headers[header] = process.env[variable];
}
const body = { model: 'gpt-5.5', instructions: '', input: [], stream: true, store: false };
const response = await fetch(baseUrl + '/responses', { method: 'POST', headers, body: JSON.stringify(body) });
await response.text();
setTimeout(() => {}, 60000);
`,
  );
  await chmod(codexBin, 0o755);
});

afterAll(async () => {
  gate.open();
  await hosted?.stop();
  await fake?.close();
  await rm(home, { recursive: true, force: true });
});

describe('a Codex killed with a turn in flight', () => {
  it('exits 143, and the router records the turn as the client’s going and holds nothing in flight', async () => {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (!key.startsWith('CODEX_LAB_')) env[key] = value;
    }
    const child = spawn(process.execPath, [cliEntry, 'codex', '--', 'exec', 'hi'], {
      cwd: repoRoot,
      env: {
        ...env,
        CODEX_LAB_HOME: home,
        CODEX_LAB_PORT: new URL(url).port,
        CODEX_LAB_CODEX_BIN: codexBin,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await gate.started;
      expect(service.inFlight()).toBe(1);
      child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 300));
      child.kill('SIGTERM');
      expect(await exited, output).toBe(143);
      expect(output).toContain(
        'codex-lab: Codex was still running at a second SIGTERM, so it was killed.',
      );
      await vi.waitFor(
        async () => {
          const requests = await service.getRequests({});
          expect(requests).toEqual([
            expect.objectContaining({
              sessionId: 'held',
              runId: expect.any(String),
              ending: 'client_gone',
            }),
          ]);
          expect(service.inFlight()).toBe(0);
        },
        { timeout: 5000 },
      );
    } finally {
      child.kill('SIGKILL');
    }
  });
});
