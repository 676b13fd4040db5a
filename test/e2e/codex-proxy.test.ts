/**
 * The real Codex behind a proxy (`HTTPS_PROXY` / `HTTP_PROXY` set, `NO_PROXY` empty): Codex's HTTP
 * client would send its requests for the router on 127.0.0.1 to the proxy too, where they cannot
 * arrive. `codex-lab codex` adds loopback to the `NO_PROXY` of the Codex it starts, so the turn
 * reaches the router directly; the proxy sees nothing meant for it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeProxy, type FakeProxy } from '../fakes/fake-proxy.ts';
import { resolveCodexBins, startWorld, type E2eWorld } from './harness.ts';

const { codexes, skipReason } = resolveCodexBins();

let world: E2eWorld | undefined;
let proxy: FakeProxy | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
  await proxy?.close();
  proxy = undefined;
});

describe.skipIf(skipReason !== undefined).each(codexes)(
  'the real Codex $version behind a proxy',
  ({ bin: codexBin }) => {
    it('reaches the router on loopback directly through codex-lab codex', async () => {
      proxy = await startFakeProxy();
      world = await startWorld({
        codexBin,
        accounts: [{ email: 'a@example.com', reply: 'Hello from account A.' }],
        profiles: [{ name: 'a', email: 'a@example.com' }],
        env: { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, NO_PROXY: '', no_proxy: '' },
      });
      const run = await world.codex(['exec', '--skip-git-repo-check', 'hello']);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('Hello from account A.');
      // Nothing for the router went to the proxy (an http:// request through a proxy is sent to it
      // whole, which this one refuses). Codex's own outside traffic (github.com, say) goes there,
      // as it would without Codex Lab.
      expect(proxy.refused).toEqual([]);
      expect(
        proxy.tunnels.filter((target) => /^(127\.0\.0\.1|localhost|\[::1\]):/.test(target)),
      ).toEqual([]);
      expect(world.turns().length).toBeGreaterThan(0);
    });
  },
);
