/**
 * The router's upstream WebSocket against native Codex's, both measured on the fake: native Codex
 * signed in with ChatGPT and talking to the fake directly (HTTPS and WSS with the test CA), and the
 * same Codex through the router. The router's handshake carries the headers native Codex's does,
 * its frames the same members and `client_metadata` keys, and in a tool loop (one process, the
 * case where native Codex saves the most) it uploads no more than native Codex does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../fakes/fake-chatgpt.ts';
import {
  resolveCodexBins,
  startNativeCodex,
  startWorld,
  toolLoopAccount,
  execRunningTools,
  type E2eWorld,
  type NativeCodexWorld,
} from './harness.ts';

const { codexes, skipReason } = resolveCodexBins();

const accounts = [toolLoopAccount('a@example.com', 'parity')];
const profiles = [{ name: 'a', email: 'a@example.com' }];

let native: NativeCodexWorld | undefined;
let world: E2eWorld | undefined;

afterEach(async () => {
  await native?.close();
  await world?.close();
  native = undefined;
  world = undefined;
});

/** A frame's parsed body. */
function frameOf(request: RecordedRequest): Record<string, unknown> {
  return JSON.parse(request.body) as Record<string, unknown>;
}

/** The turns that asked for output (native Codex's prewarm, `generate: false`, left out). */
function generating(turns: RecordedRequest[]): RecordedRequest[] {
  return turns.filter((turn) => frameOf(turn)['generate'] !== false);
}

/** The connection's own handshake headers, set by each client's WebSocket library. */
const connectionHeaders = new Set([
  'host',
  'connection',
  'upgrade',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
]);

/** Header names, without the ones each connection sets for itself. */
function namesOf(headers: Record<string, unknown>): string[] {
  return Object.keys(headers)
    .filter((name) => !connectionHeaders.has(name))
    .sort();
}

/** A frame's or body's `client_metadata` keys. */
function metadataKeys(request: RecordedRequest): string[] {
  return Object.keys((frameOf(request)['client_metadata'] ?? {}) as object).sort();
}

/** A frame's members, `previous_response_id` aside (native Codex names its prewarm's). */
function membersOf(request: RecordedRequest): string[] {
  return Object.keys(frameOf(request))
    .filter((name) => name !== 'previous_response_id')
    .sort();
}

const lastLine = (text: string): string => text.trimEnd().split('\n').at(-1) ?? '';

describe.skipIf(skipReason !== undefined).each(codexes)(
  'the real Codex $version, natively and through the router',
  ({ bin: codexBin }) => {
    it('reaches the upstream as native Codex does: handshake, frames, HTTP headers, and no more bytes in a tool loop', async () => {
      // Native Codex over its WebSocket, then over HTTP.
      native = await startNativeCodex({ codexBin, accounts, email: 'a@example.com' });
      const nativeRun = await native.codex([...execRunningTools, 'run the marker command']);
      expect(nativeRun.code, nativeRun.stderr).toBe(0);
      const nativeHandshake = native.fake.upgrades[0]!.headers;
      const nativeTls = { ...native.fake.tlsHandshakes };
      const nativeFrames = generating(native.turns());
      await native.close();
      native = await startNativeCodex({
        codexBin,
        accounts,
        email: 'a@example.com',
        webSocket: false,
      });
      const nativeHttpRun = await native.codex([...execRunningTools, 'run the marker command']);
      expect(nativeHttpRun.code, nativeHttpRun.stderr).toBe(0);
      const nativeHttp = native.turns();

      // The same Codex through the router, over its WebSocket upstream, then over HTTP.
      world = await startWorld({ codexBin, accounts, profiles, tls: true });
      const routedRun = await world.codex([...execRunningTools, 'run the marker command']);
      expect(routedRun.code, routedRun.stderr).toBe(0);
      const routedHandshake = world.fake.upgrades[0]!.headers;
      const routedTls = { ...world.fake.tlsHandshakes };
      const routedFrames = world.turns();
      await world.close();
      world = await startWorld({
        codexBin,
        accounts,
        profiles,
        tls: true,
        env: { CODEX_LAB_UPSTREAM_WEBSOCKET: 'off' },
      });
      const routedHttpRun = await world.codex([...execRunningTools, 'run the marker command']);
      expect(routedHttpRun.code, routedHttpRun.stderr).toBe(0);
      const routedHttp = world.turns();

      // One answer, whatever the path.
      const answer = lastLine(nativeRun.stdout);
      expect(answer).toBe('Done. (the tool said so)');
      for (const run of [nativeHttpRun, routedRun, routedHttpRun]) {
        expect(lastLine(run.stdout)).toBe(answer);
      }
      // Two turns each (the command, then its output), every one a WebSocket frame on the socket
      // paths and an HTTP request on the others.
      for (const turns of [nativeFrames, routedFrames]) {
        expect(turns.map((turn) => turn.transport)).toEqual(['websocket', 'websocket']);
      }
      for (const turns of [nativeHttp, routedHttp]) {
        expect(turns.map((turn) => turn.transport)).toEqual([undefined, undefined]);
      }

      // TLS to the upstream costs no more than native Codex's: the same run, through the
      // router's keep-alive pool and its socket, makes no more full handshakes than Codex's own
      // clients make natively (measured: 0.169 and 0.171 made 12 and resumed none; through the
      // router, 2).
      expect(nativeTls.full).toBeGreaterThan(0);
      expect(routedTls.full).toBeLessThanOrEqual(nativeTls.full);
      // The handshake carries the headers native Codex's carries, by name (the values are each
      // session's), and the HTTP requests carry native Codex's too.
      expect(namesOf(routedHandshake)).toEqual(namesOf(nativeHandshake));
      for (const [routed, own] of [[routedHttp[0]!, nativeHttp[0]!]] as const) {
        expect(namesOf(routed.headers)).toEqual(namesOf(own.headers));
        expect(routed.headers['x-codex-routing-hint']).toBe(own.headers['x-codex-routing-hint']);
      }
      // Each frame has native Codex's members, and the metadata native Codex adds to a frame
      // over what its HTTP body carries is added to what Codex's body carried through the router.
      for (const index of [0, 1]) {
        expect(membersOf(routedFrames[index]!)).toEqual(membersOf(nativeFrames[index]!));
        const addedNatively = metadataKeys(nativeFrames[index]!).filter(
          (key) => !metadataKeys(nativeHttp[index]!).includes(key),
        );
        expect(addedNatively.length).toBeGreaterThan(0);
        expect(metadataKeys(routedFrames[index]!)).toEqual(
          [...new Set([...metadataKeys(routedHttp[index]!), ...addedNatively])].sort(),
        );
      }
      // The follow-up (the tool's output) costs what native Codex's does: incremental, within
      // 1.2x (Codex's first bodies differ by sign-in, its tools among them, so only the
      // follow-ups compare byte for byte).
      expect(frameOf(routedFrames[1]!)['previous_response_id']).toMatch(/^resp_/);
      expect(routedFrames[1]!.bytes).toBeLessThanOrEqual(nativeFrames[1]!.bytes * 1.2);
    }, 240_000);

    it('sends a residency workspace’s override where native Codex sends it, over either transport', async () => {
      const resident = [
        { email: 'a@example.com', reply: 'Hi.', workspace: { routingOverride: 'us' as const } },
      ];
      native = await startNativeCodex({ codexBin, accounts: resident, email: 'a@example.com' });
      const nativeRun = await native.codex(['exec', '--skip-git-repo-check', 'hello']);
      expect(nativeRun.code, nativeRun.stderr).toBe(0);
      world = await startWorld({ codexBin, accounts: resident, profiles });
      const routedRun = await world.codex(['exec', '--skip-git-repo-check', 'hello']);
      expect(routedRun.code, routedRun.stderr).toBe(0);
      const nativeHandshake = native.fake.upgrades[0]!.headers;
      const routedHandshake = world.fake.upgrades[0]!.headers;
      expect(nativeHandshake['x-openai-account-routing-override']).toBe('us');
      expect(routedHandshake['x-openai-account-routing-override']).toBe('us');
      expect(namesOf(routedHandshake)).toEqual(namesOf(nativeHandshake));
      // Over HTTP too, natively and through the router.
      await native.close();
      native = await startNativeCodex({
        codexBin,
        accounts: resident,
        email: 'a@example.com',
        webSocket: false,
      });
      expect((await native.codex(['exec', '--skip-git-repo-check', 'hello'])).code).toBe(0);
      await world.close();
      world = await startWorld({
        codexBin,
        accounts: resident,
        profiles,
        env: { CODEX_LAB_UPSTREAM_WEBSOCKET: 'off' },
      });
      expect((await world.codex(['exec', '--skip-git-repo-check', 'hello'])).code).toBe(0);
      for (const turns of [native.turns(), world.turns()]) {
        expect(turns.length).toBeGreaterThan(0);
        for (const request of turns) {
          expect(request.transport).toBeUndefined();
          expect(request.headers['x-openai-account-routing-override']).toBe('us');
        }
      }
    }, 120_000);
  },
);
