/**
 * The real Codex CLI through the router with the Responses-over-WebSocket upstream on
 * (`CODEX_LAB_UPSTREAM_WEBSOCKET=on`): Codex → router stays HTTP; after the first turn the fake
 * receives `response.create` frames with `previous_response_id` and only the new items, and Codex
 * prints the same answers as over the HTTP path.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { enableResponsesWebSocket, responsesWebSocket } from '../fakes/fake-responses-websocket.ts';
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

describe.skipIf(skipReason !== undefined).each(codexes)(
  'the real Codex $version through the router, WebSocket upstream',
  ({ bin: codexBin }) => {
    it('sends incremental response.create frames after the first turn, with the HTTP path’s answers', async () => {
      world = await startWorld({
        codexBin,
        accounts,
        profiles,
        env: { CODEX_LAB_UPSTREAM_WEBSOCKET: 'on' },
        prepareFake: (fake) => void enableResponsesWebSocket(fake),
      });
      const overSocket = await session(world);
      const side = responsesWebSocket(world.fake);
      const httpTurns = world.turns().filter((request) => !request.upgrade);
      expect(httpTurns).toEqual([]);
      expect(side.turns.map((turn) => turn.error)).toEqual([null, null, null]);
      expect(side.turns[0]!.previousResponseId).toBeUndefined();
      for (const turn of side.turns.slice(1)) {
        expect(turn.previousResponseId).toMatch(/^resp_/);
        expect(turn.bytes).toBeLessThan(side.turns[0]!.bytes / 4);
      }
      await world.close();

      world = await startWorld({ codexBin, accounts, profiles });
      const overHttp = await session(world);
      expect(overSocket).toEqual(overHttp);
      expect(overHttp).toEqual(Array(3).fill('Hello from account A.'));
    });
  },
);
