/**
 * Issue 11's byte budget over a 20-turn Codex-like session: what the upstream receives through the
 * router with the Responses-over-WebSocket upstream is at most 1.2x what native Codex over
 * WebSocket sends incrementally for the same session, and at most 0.4x what the plain HTTP path
 * (no zstd, no WebSocket: the router before) uploads. Bytes, not time: deterministic.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { enableResponsesWebSocket } from '../fakes/fake-responses-websocket.ts';
import {
  playCodexLikeSession,
  routerTurnSender,
  type SessionTurnBytes,
} from '../helpers/codex-like-session.ts';
import { startTestRouter, type TestRouter } from '../helpers/lab-service.ts';

const routers: TestRouter[] = [];

afterEach(async () => {
  await Promise.all(routers.splice(0).map((router) => router.close()));
});

/** Plays a 20-turn session through a router started with `env`; returns each turn's bytes. */
async function playThrough(env: Record<string, string>): Promise<SessionTurnBytes[]> {
  const router = await startTestRouter({
    homePrefix: 'codex-lab-upload-bytes-',
    accounts: [{ email: 'upload@example.com', reply: 'I changed the handler; the tests pass.' }],
    profiles: [['upload@example.com', 'upload']],
    env,
    prepareFake: (fake) => void enableResponsesWebSocket(fake),
  });
  routers.push(router);
  const id = 'upload-bytes-session';
  const turns: SessionTurnBytes[] = [];
  for await (const turn of playCodexLikeSession({
    id,
    turns: 20,
    send: routerTurnSender({ url: router.url, token: router.token, id, fake: router.fake }),
  })) {
    turns.push(turn);
  }
  return turns;
}

const total = (turns: SessionTurnBytes[], field: keyof SessionTurnBytes): number =>
  turns.reduce((sum, turn) => sum + turn[field], 0);

describe('upload bytes over a 20-turn session', () => {
  it('stays within 1.2x native WebSocket and 0.4x the plain HTTP path', async () => {
    const overSocket = await playThrough({ CODEX_LAB_UPSTREAM_WEBSOCKET: 'on' });
    const overPlainHttp = await playThrough({
      CODEX_LAB_UPSTREAM_WEBSOCKET: 'off',
      CODEX_LAB_UPSTREAM_ZSTD: 'off',
    });
    // Both sessions wrote the same requests, so they share one native figure.
    expect(total(overSocket, 'plain')).toBe(total(overPlainHttp, 'plain'));
    const native = total(overSocket, 'native');
    // The plain HTTP path uploads every body whole: the measure is real, not a formula.
    expect(total(overPlainHttp, 'received')).toBe(total(overPlainHttp, 'plain'));
    expect(total(overSocket, 'received')).toBeLessThanOrEqual(1.2 * native);
    expect(total(overSocket, 'received')).toBeLessThanOrEqual(
      0.4 * total(overPlainHttp, 'received'),
    );
    // Every turn after the first went as an incremental frame, not a full request.
    expect(overSocket.slice(1).every((turn) => turn.received < overSocket[0]!.received / 4)).toBe(
      true,
    );
  }, 60_000);
});
