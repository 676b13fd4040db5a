/**
 * The real Codex CLI through the router with the Responses-over-WebSocket upstream (on by default;
 * `CODEX_LAB_UPSTREAM_WEBSOCKET=off` is the HTTP path compared against): Codex → router stays
 * HTTP; after the first turn the fake receives `response.create` frames with
 * `previous_response_id` and only the new items, and Codex prints the same answers as over the
 * HTTP path. Every forced failure completes the turn with a full request and leaves Codex's
 * rollout identical to the HTTP path's.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../fakes/fake-chatgpt.ts';
import {
  responsesWebSocket,
  type WebSocketFrameFailure,
} from '../fakes/fake-responses-websocket.ts';
import { resolveCodexBins, startWorld, type E2eWorld, type RunResult } from './harness.ts';

const { codexes, skipReason } = resolveCodexBins();

const accounts = [{ email: 'a@example.com', reply: 'Hello from account A.', reasoning: true }];
const profiles = [{ name: 'a', email: 'a@example.com' }];

let world: E2eWorld | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Runs `exec` then two `exec resume --last` turns; returns each run's last stdout line. */
async function session(current: E2eWorld): Promise<string[]> {
  const runs: RunResult[] = [
    await current.codex(['exec', '--skip-git-repo-check', 'first turn']),
    await current.codex(['exec', '--skip-git-repo-check', 'resume', '--last', 'second turn']),
    await current.codex(['exec', '--skip-git-repo-check', 'resume', '--last', 'third turn']),
  ];
  return runs.map((run) => {
    expect(run.code, run.stderr).toBe(0);
    return run.stdout.trimEnd().split('\n').at(-1) ?? '';
  });
}

/** A forced failure on a turn's first attempt, set up on the fake just before Codex runs. */
type Forced =
  | { kind: 'frame'; failure: WebSocketFrameFailure }
  | { kind: 'connection_limit' }
  | { kind: 'handshake_refused' }
  | { kind: 'none' };

/** The session the failures run through: a clean turn before each, so each hits an incremental frame. */
const script: Array<{ prompt: string; forced: Forced }> = [
  { prompt: 'turn 1', forced: { kind: 'none' } },
  { prompt: 'turn 2', forced: { kind: 'frame', failure: 'previous_response_not_found' } },
  { prompt: 'turn 3', forced: { kind: 'none' } },
  { prompt: 'turn 4', forced: { kind: 'frame', failure: 'drop_before_first_event' } },
  { prompt: 'turn 5', forced: { kind: 'none' } },
  { prompt: 'turn 6', forced: { kind: 'frame', failure: { dropAfterEvents: 1 } } },
  { prompt: 'turn 7', forced: { kind: 'none' } },
  { prompt: 'turn 8', forced: { kind: 'frame', failure: 'drop_after_first_event' } },
  { prompt: 'turn 9', forced: { kind: 'none' } },
  { prompt: 'turn 10', forced: { kind: 'connection_limit' } },
  { prompt: 'turn 11', forced: { kind: 'handshake_refused' } },
  { prompt: 'turn 12', forced: { kind: 'none' } },
];

/** Codex's rollout of the session: every response item, as what identifies it (not ciphertext). */
async function rolloutItems(current: E2eWorld): Promise<string[]> {
  const folder = join(current.codexHome, 'sessions');
  const files = (await readdir(folder, { recursive: true })).filter((name) =>
    /rollout-.*\.jsonl$/.test(name),
  );
  expect(files).toHaveLength(1);
  const lines = (await readFile(join(folder, files[0]!), 'utf8')).split('\n').filter(Boolean);
  return lines.flatMap((line) => {
    const entry = JSON.parse(line) as { type: string; payload: Record<string, unknown> };
    if (entry.type !== 'response_item') return [];
    const item = entry.payload;
    // The instructions run to kilobytes: their start identifies them well enough.
    const text = JSON.stringify(item['content'] ?? null)
      .replaceAll(current.root, '<world>')
      .slice(0, 120);
    return [`${String(item['type'])}/${String(item['role'] ?? '')}/${text}`];
  });
}

/** What one turn's requests looked like at the fake: `ws` or `http`, `+` when incremental. */
function shape(request: RecordedRequest): string {
  const body = JSON.parse(request.body) as { previous_response_id?: string };
  const transport = request.transport === 'websocket' ? 'ws' : 'http';
  return body.previous_response_id === undefined ? transport : `${transport}+`;
}

describe.skipIf(skipReason !== undefined).each(codexes)(
  'the real Codex $version through the router, WebSocket upstream',
  ({ bin: codexBin }) => {
    it('sends incremental response.create frames after the first turn, with the HTTP path’s answers', async () => {
      // The router's defaults: the WebSocket upstream is on without any setting.
      world = await startWorld({ codexBin, accounts, profiles });
      const overSocket = await session(world);
      const side = responsesWebSocket(world.fake);
      const httpTurns = world.turns().filter((request) => request.transport === undefined);
      expect(httpTurns).toEqual([]);
      expect(side.turns.map((turn) => turn.error)).toEqual([null, null, null]);
      expect(side.turns[0]!.previousResponseId).toBeUndefined();
      for (const turn of side.turns.slice(1)) {
        expect(turn.previousResponseId).toMatch(/^resp_/);
        expect(turn.bytes).toBeLessThan(side.turns[0]!.bytes / 4);
      }
      await world.close();

      world = await startWorld({
        codexBin,
        accounts,
        profiles,
        env: { CODEX_LAB_UPSTREAM_WEBSOCKET: 'off' },
      });
      const overHttp = await session(world);
      expect(overSocket).toEqual(overHttp);
      expect(overHttp).toEqual(Array(3).fill('Hello from account A.'));
    });

    it('carries the session over TLS, as to chatgpt.com: the handshake and frames over WSS, the HTTP path over HTTPS', async () => {
      world = await startWorld({ codexBin, accounts, profiles, tls: true });
      expect(world.fake.backendUrl).toMatch(/^https:/);
      const overSocket = await session(world);
      const side = responsesWebSocket(world.fake);
      expect(world.turns().filter((request) => request.transport === undefined)).toEqual([]);
      expect(side.turns.map((turn) => turn.error)).toEqual([null, null, null]);
      expect(side.turns.slice(1).map((turn) => turn.previousResponseId)).toEqual([
        expect.stringMatching(/^resp_/),
        expect.stringMatching(/^resp_/),
      ]);
      await world.close();

      world = await startWorld({
        codexBin,
        accounts,
        profiles,
        tls: true,
        env: { CODEX_LAB_UPSTREAM_WEBSOCKET: 'off' },
      });
      const overHttps = await session(world);
      expect(world.turns().map((request) => request.transport)).toEqual([
        undefined,
        undefined,
        undefined,
      ]);
      expect(overSocket).toEqual(overHttps);
      expect(overHttps).toEqual(Array(3).fill('Hello from account A.'));
    });

    it('completes every forced failure with a full request, as the HTTP path answers, with nothing duplicated or missing in Codex’s rollout', async () => {
      const runScript = async (current: E2eWorld, forcing: boolean) => {
        const answers: string[] = [];
        const shapes: string[][] = [];
        // The number of input items of each turn's last request (the one that answered).
        const inputs: number[] = [];
        for (const [index, step] of script.entries()) {
          const side = responsesWebSocket(current.fake);
          if (forcing) {
            if (step.forced.kind === 'frame') side.frameFailures.push(step.forced.failure);
            if (step.forced.kind === 'connection_limit') side.connectionLimitSeconds = 0;
            if (step.forced.kind === 'handshake_refused') current.fake.webSocketUpgrades = 'refuse';
          }
          const before = current.turns().length;
          const args =
            index === 0
              ? ['exec', '--skip-git-repo-check', step.prompt]
              : ['exec', '--skip-git-repo-check', 'resume', '--last', step.prompt];
          const run = await current.codex(args);
          expect(run.code, run.stderr).toBe(0);
          answers.push(run.stdout.trimEnd().split('\n').at(-1) ?? '');
          const requests = current.turns().slice(before);
          shapes.push(requests.map(shape));
          inputs.push((JSON.parse(requests.at(-1)!.body) as { input: unknown[] }).input.length);
          side.connectionLimitSeconds = 3600;
        }
        return { answers, shapes, inputs, items: await rolloutItems(current) };
      };

      world = await startWorld({ codexBin, accounts, profiles });
      const forced = await runScript(world, true);
      const handshakes = world.fake.upgrades.length;
      await world.close();
      world = await startWorld({
        codexBin,
        accounts,
        profiles,
        env: { CODEX_LAB_UPSTREAM_WEBSOCKET: 'off' },
      });
      const overHttp = await runScript(world, false);

      expect(overHttp.shapes).toEqual(script.map(() => ['http']));
      expect(forced.answers).toEqual(overHttp.answers);
      expect(forced.answers).toEqual(Array(script.length).fill('Hello from account A.'));
      // Every turn was answered from the whole conversation, as over HTTP.
      expect(forced.inputs).toEqual(overHttp.inputs);
      // Codex's own record of the session: the same items in the same order, none twice.
      expect(forced.items).toEqual(overHttp.items);
      // Each failure ends in a full request: over HTTP before anything reached Codex, or (a drop
      // after output) the router's own resume, in full on a new socket.
      expect(forced.shapes).toEqual([
        ['ws'],
        ['ws+', 'http'],
        ['ws'],
        ['ws+', 'http'],
        ['ws'],
        ['ws+', 'http'],
        ['ws'],
        ['ws+', 'ws'],
        // The upstream's stored answer after a resume is not the one Codex holds: full again.
        ['ws'],
        ['ws+', 'http'],
        ['http'],
        ['http'],
      ]);
      // The refused handshake (turn 11) is remembered: turn 12 went to HTTP without trying again.
      expect(handshakes).toBe(6);
    });
  },
);
