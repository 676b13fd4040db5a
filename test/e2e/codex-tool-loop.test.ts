/**
 * A tool loop inside one Codex process, through the router with the Responses-over-WebSocket
 * upstream: the fake model calls `exec_command`, the real Codex runs it and sends its output, and the
 * router carries that follow-up as an incremental `response.create` (only the call's output, with
 * `previous_response_id`) — the case where native Codex saves the most, since every tool result
 * would otherwise re-send the whole context. Codex's answer matches the HTTP path's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { enableResponsesWebSocket, responsesWebSocket } from '../fakes/fake-responses-websocket.ts';
import {
  execRunningTools,
  resolveCodexBins,
  startWorld,
  toolLoopAccount,
  type E2eWorld,
} from './harness.ts';

const { codexes, skipReason } = resolveCodexBins();

const accounts = [toolLoopAccount('a@example.com', 'tool-loop')];
const profiles = [{ name: 'a', email: 'a@example.com' }];

let world: E2eWorld | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe.skipIf(skipReason !== undefined).each(codexes)(
  'the real Codex $version in a tool loop, WebSocket upstream',
  ({ bin: codexBin }) => {
    it('sends the tool output as an incremental frame and answers as over HTTP', async () => {
      world = await startWorld({
        codexBin,
        accounts,
        profiles,
        env: { CODEX_LAB_UPSTREAM_WEBSOCKET: 'on' },
        prepareFake: (fake) => void enableResponsesWebSocket(fake),
      });
      const overSocket = await world.codex([...execRunningTools, 'run the marker command']);
      expect(overSocket.code, overSocket.stderr).toBe(0);
      const side = responsesWebSocket(world.fake);
      expect(world.turns().filter((request) => request.transport === undefined)).toEqual([]);
      expect(side.turns.map((turn) => turn.error)).toEqual([null, null]);
      expect(side.turns[0]!.previousResponseId).toBeUndefined();
      expect(side.turns[1]!.previousResponseId).toMatch(/^resp_/);
      // The follow-up carries the tool's output, not the whole context again.
      expect(side.turns[1]!.bytes).toBeLessThan(side.turns[0]!.bytes / 4);
      await world.close();

      world = await startWorld({
        codexBin,
        accounts,
        profiles,
        env: { CODEX_LAB_UPSTREAM_WEBSOCKET: 'off' },
      });
      const overHttp = await world.codex([...execRunningTools, 'run the marker command']);
      expect(overHttp.code, overHttp.stderr).toBe(0);
      expect(world.turns()).toHaveLength(2);
      const lastLine = (text: string): string => text.trimEnd().split('\n').at(-1) ?? '';
      expect(lastLine(overSocket.stdout)).toBe(lastLine(overHttp.stdout));
      expect(lastLine(overHttp.stdout)).toBe('Done. (the tool said so)');
    }, 120_000);
  },
);
