/**
 * One account whose turns keep being cut mid-stream (the answer starts, then the connection
 * drops) while the others are healthy but idle. The router cannot retry a stream that already
 * reached Codex; Codex retries the turn itself (its stream retries: five, 200 ms doubling), and
 * the session's affinity sends every retry to the same account. The cuts must count against the
 * account, so a retry within Codex's budget is served by another one (the engine's rules, a
 * shared outage and a client that walks away included: test/unit/proxy/lab-engine-stream-cut.test.ts).
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome } from '../helpers/cli.ts';
import {
  codexTurnBody,
  createTestLabService,
  postToRouter,
  signInProfiles,
} from '../helpers/lab-service.ts';
import { offsetClock } from '../helpers/offset-clock.ts';
import { labPaths } from '../../core/home/paths.ts';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

/** Codex 0.171's pauses before its stream retries (`stream_max_retries` = 5, 200 ms doubling). */
const codexStreamRetryPausesMs = [200, 400, 800, 1_600, 3_200];

async function startPool(upstreamWebSocket: 'on' | 'off') {
  const fake = await startFakeChatGpt({
    accounts: [{ email: 'ann@example.com' }, { email: 'ben@example.com' }],
  });
  const home = await makeTempHome('codex-lab-one-cutting-');
  const paths = labPaths(home);
  await signInProfiles(fake, paths, [
    ['ann@example.com', 'ann'],
    ['ben@example.com', 'ben'],
  ]);
  const time = offsetClock();
  const service = createTestLabService(fake, paths, {
    clock: time.clock,
    env: { CODEX_LAB_UPSTREAM_WEBSOCKET: upstreamWebSocket },
  });
  const token = await service.routerToken();
  const { url } = await service.start({ port: 0 });
  cleanup.push(async () => {
    await service.stop();
    await fake.close();
    await rm(home, { recursive: true, force: true });
  });
  /** One turn, read as Codex reads it: `profile:ok` when it completed, `profile:cut` when not. */
  const turn = async (session: string): Promise<string> => {
    const answer = await postToRouter(
      url,
      token,
      '/backend-api/codex/responses',
      codexTurnBody({ session }),
    );
    const profile = answer.headers.get('x-codex-lab-profile') ?? '-';
    const text = await answer.text().catch(() => '');
    return `${profile}:${answer.status === 200 && text.includes('response.completed') ? 'ok' : 'cut'}`;
  };
  return { fake, time, turn };
}

describe.each(['off', 'on'] as const)('one account cutting its streams (WebSocket %s)', (ws) => {
  it('serves a retry from another account within Codex’s stream retries, and sends new sessions there', async () => {
    const { fake, time, turn } = await startPool(ws);
    expect(await turn('s1')).toBe('ann:ok');
    fake.account('ann@example.com').stickyFailure = { kind: 'reset_mid_stream' };

    const attempts = [await turn('s1')];
    for (const pause of codexStreamRetryPausesMs) {
      if (attempts.at(-1)!.endsWith(':ok')) break;
      time.advance(pause);
      attempts.push(await turn('s1'));
    }
    expect(attempts[0]).toBe('ann:cut');
    expect(attempts.at(-1)).toBe('ben:ok');
    // A new session does not start on the account that keeps cutting.
    expect(await turn('s2')).toBe('ben:ok');
  });
});
