/**
 * A shared upstream outage (issue 9, item 6): six Codex-like clients keep sending turns while the
 * upstream is down for 2 s — connections reset, every account answering 503, or every account's
 * streams cut after their first events (over HTTP and WebSocket) — and then back.
 * Failures that hit every profile alike are the network's: no circuit may stay open, no turn may
 * be refused once the upstream is back, and every session stays on its (warm) account.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { handleBackendRequest } from '../fakes/fake-backend.ts';
import { startFakeChatGpt, type FakeChatGpt, type FakeHandler } from '../fakes/fake-chatgpt.ts';
import { handleIssuerRequest } from '../fakes/fake-issuer.ts';
import { makeTempHome } from '../helpers/cli.ts';
import {
  codexTurnBody,
  createTestLabService,
  postToRouter,
  signInProfiles,
} from '../helpers/lab-service.ts';
import { labPaths } from '../../core/home/paths.ts';
import type { LabService } from '../../core/service/lab-service.ts';
import { rm } from 'node:fs/promises';

type Outage = 'reset' | 'status-503' | 'cut' | null;

/** Makes the backend unreachable (sockets reset) or failing (503) while `outage()` says so. */
function outageHandler(outage: () => Outage): FakeHandler {
  return (_fake, request, response) => {
    const mode = outage();
    // Cut streams are the fake's own (`reset_mid_stream`), set on every account below.
    if (mode === null || mode === 'cut' || !(request.url ?? '').startsWith('/backend-api/'))
      return false;
    if (mode === 'reset') {
      request.socket.destroy();
      return true;
    }
    response.writeHead(503, { 'content-type': 'text/html' });
    response.end('<html>upstream connect error</html>');
    return true;
  };
}

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

async function startRouter(outage: () => Outage): Promise<{
  fake: FakeChatGpt;
  service: LabService;
  url: string;
  token: string;
}> {
  const fake = await startFakeChatGpt({
    // No quota is spent by these turns: only the outage may move or refuse anything.
    accounts: [
      { email: 'ann@example.com', usagePerTurn: 0 },
      { email: 'ben@example.com', usagePerTurn: 0 },
    ],
    handlers: [handleIssuerRequest, outageHandler(outage), handleBackendRequest],
  });
  const home = await makeTempHome('codex-lab-outage-');
  const paths = labPaths(home);
  await signInProfiles(fake, paths, [
    ['ann@example.com', 'ann'],
    ['ben@example.com', 'ben'],
  ]);
  const service = createTestLabService(fake, paths);
  const token = await service.routerToken();
  const { url } = await service.start({ port: 0 });
  cleanup.push(async () => {
    await service.stop();
    await fake.close();
    await rm(home, { recursive: true, force: true });
  });
  return { fake, service, url, token };
}

describe.each(['reset', 'status-503', 'cut'] as const)('a 2 s upstream outage (%s)', (mode) => {
  it('refuses no turn once the upstream is back, and moves no session', async () => {
    let outage: Outage = null;
    const { fake, url, token } = await startRouter(() => outage);
    const cutting = (on: boolean): void => {
      if (mode !== 'cut') return;
      for (const email of ['ann@example.com', 'ben@example.com']) {
        fake.account(email).stickyFailure = on ? { kind: 'reset_mid_stream' } : null;
      }
    };
    const sessions = ['s1', 's2', 's3', 's4', 's5', 's6'];
    const home = new Map<string, string>();
    const results: Array<{
      session: string;
      startedAt: number;
      status: number;
      profile: string | null;
    }> = [];
    const turn = async (session: string) => {
      const startedAt = Date.now();
      try {
        const answer = await postToRouter(
          url,
          token,
          '/backend-api/codex/responses',
          codexTurnBody({ session }),
        );
        const text = await answer.text();
        const complete = answer.status !== 200 || text.includes('response.completed');
        results.push({
          session,
          startedAt,
          status: complete ? answer.status : -1,
          profile: answer.headers.get('x-codex-lab-profile'),
        });
      } catch {
        results.push({ session, startedAt, status: -2, profile: null });
      }
    };
    // Warm-up: every session gets its account.
    for (const session of sessions) await turn(session);
    for (const result of results) home.set(result.session, result.profile!);

    let backAt = Number.POSITIVE_INFINITY;
    const stopAt = Date.now() + 4_000;
    setTimeout(() => {
      outage = mode;
      cutting(true);
    }, 500);
    setTimeout(() => {
      outage = null;
      cutting(false);
      backAt = Date.now();
    }, 2_500);
    await Promise.all(
      sessions.map(async (session) => {
        while (Date.now() < stopAt) {
          await turn(session);
          // Codex retries on its own; a short pause between turns keeps the test's pace.
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      }),
    );
    // Turns that started once the upstream was back (a moment's grace for in-flight resets).
    const after = results.filter((result) => result.startedAt > backAt + 50);
    expect(after.length).toBeGreaterThan(30);
    const refused = after.filter((result) => result.status !== 200);
    const moved = after.filter((result) => result.profile !== home.get(result.session));
    console.log(
      `outage (${mode}): ${results.length} turns, ${after.length} after recovery, ${refused.length} refused, ${moved.length} moved`,
    );
    expect(refused).toEqual([]);
    expect(moved).toEqual([]);
  });
});
