/**
 * `RouterTokens` when its work overlaps: a file re-read for an unknown token (which anyone who can
 * reach the port can start) running while a rotation lands, two rotations at once, and a request
 * with the file's new token arriving while a re-read that read the file before it changed is still
 * in flight. None may bring back a token the user revoked, nor refuse the token the file holds.
 * File I/O is made slow on demand (a network home, a virus scanner) so the overlap is certain.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { labPaths, type LabPaths } from '../../../core/home/paths.ts';
import { systemClock } from '../../../core/ports.ts';
import {
  rereadIntervalMs,
  rotateRouterTokenFile,
  RouterTokens,
} from '../../../core/proxy/router-token.ts';
import { FakeClock } from '../router/fake-clock.ts';

const slow = vi.hoisted(() => ({
  chmodMs: 0,
  /** Holds the next token read at its last step (the file's text already read) until released. */
  hold: null as { reached: () => void; released: Promise<void> } | null,
}));
vi.mock('node:fs/promises', async (original) => {
  const real = await original<typeof import('node:fs/promises')>();
  return {
    ...real,
    chmod: async (...args: Parameters<typeof real.chmod>) => {
      const delay = slow.chmodMs;
      slow.chmodMs = 0;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      const hold = slow.hold;
      slow.hold = null;
      if (hold) {
        hold.reached();
        await hold.released;
      }
      return real.chmod(...args);
    },
  };
});

let folder: string;
let paths: LabPaths;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'codex-lab-token-races-'));
  paths = labPaths(folder);
});
afterEach(() => rm(folder, { recursive: true, force: true }));

/** Holds the next read of the token file after it has read the text; `release` lets it finish. */
function holdNextRead(): { reached: Promise<void>; release: () => void } {
  let reached!: () => void;
  let release!: () => void;
  const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  slow.hold = { reached, released };
  return { reached: reachedPromise, release };
}

const stored = async (): Promise<string> => (await readFile(paths.routerToken, 'utf8')).trim();

describe('router token work that overlaps', () => {
  it('a re-read in flight when a rotation with --revoke-old lands does not bring the old token back', async () => {
    const tokens = new RouterTokens({ paths, clock: systemClock });
    const old = await tokens.load();
    // The re-read's read of the old file finishes, its last step lags.
    slow.chmodMs = 300;
    const reread = tokens.acceptsStored(`clab_${'x'.repeat(43)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const rotation = await tokens.rotate({ revokeOld: true });
    expect(rotation.graceUntil).toBeNull();
    expect(await reread).toBe(false);
    expect(tokens.accepts(old)).toBe(false);
    expect(tokens.current()).toBe(await stored());
    expect(tokens.accepts(await stored())).toBe(true);
  });

  it('two rotations at once, one revoking: the revoked token stays refused and the last one written is current', async () => {
    const tokens = new RouterTokens({ paths, clock: systemClock });
    const first = await tokens.load();
    const [revoking, keeping] = await Promise.all([
      tokens.rotate({ revokeOld: true }),
      tokens.rotate({ revokeOld: false }),
    ]);
    expect(revoking.graceUntil).toBeNull();
    expect(keeping.graceUntil).not.toBeNull();
    expect(tokens.accepts(first)).toBe(false);
    expect(tokens.current()).toBe(await stored());
  });

  it('a request with the file’s new token is served even when it arrives during a re-read that read the file before it changed', async () => {
    const clock = new FakeClock();
    const tokens = new RouterTokens({ paths, clock });
    await tokens.load();
    // A stranger's token starts a re-read; it reads the file (still the old token) and lags.
    const held = holdNextRead();
    const stranger = tokens.acceptsStored(`clab_${'s'.repeat(43)}`);
    await held.reached;
    // The file is rotated behind the router's back while that read is in flight, and a client
    // that ran its token command presents the new token.
    const replaced = await rotateRouterTokenFile(paths);
    let answered: boolean | null = null;
    const served = tokens.acceptsStored(replaced).then((accepted) => (answered = accepted));
    held.release();
    expect(await stranger).toBe(false);
    // Still at most one read a second: the new token waits for the next read, not refused.
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBeNull();
    clock.advance(rereadIntervalMs);
    expect(await served).toBe(true);
    expect(tokens.current()).toBe(replaced);
  });

  it('that wait ends at once when the watcher adopts the file, and a closing router refuses it', async () => {
    const clock = new FakeClock();
    const tokens = new RouterTokens({ paths, clock });
    await tokens.load();
    let held = holdNextRead();
    let stranger = tokens.acceptsStored(`clab_${'s'.repeat(43)}`);
    await held.reached;
    const replaced = await rotateRouterTokenFile(paths);
    const served = tokens.acceptsStored(replaced);
    held.release();
    expect(await stranger).toBe(false);
    // The watcher sees the change: no need to wait out the second.
    expect(await tokens.adoptStored()).toBe(true);
    expect(await served).toBe(true);

    // A request that joined a read in flight when the router stops is refused, not served after.
    clock.advance(rereadIntervalMs);
    held = holdNextRead();
    stranger = tokens.acceptsStored(`clab_${'t'.repeat(43)}`);
    await held.reached;
    const later = await rotateRouterTokenFile(paths);
    const refused = tokens.acceptsStored(later);
    tokens.close();
    held.release();
    expect(await stranger).toBe(false);
    expect(await refused).toBe(false);
    expect(await tokens.acceptsStored(`clab_${'u'.repeat(43)}`)).toBe(false);
  });

  it('a request with the file’s token is served when the watcher meanwhile adopts an older one it read', async () => {
    const clock = new FakeClock();
    const tokens = new RouterTokens({ paths, clock });
    await tokens.load();
    expect(await tokens.acceptsStored(`clab_${'s'.repeat(43)}`)).toBe(false);
    // The file changes twice; the watcher reads it between the two and lags.
    const between = await rotateRouterTokenFile(paths);
    const held = holdNextRead();
    const watcher = tokens.adoptStored();
    await held.reached;
    const last = await rotateRouterTokenFile(paths);
    let answered: boolean | null = null;
    const served = tokens.acceptsStored(last).then((accepted) => (answered = accepted));
    held.release();
    expect(await watcher).toBe(true);
    expect(tokens.current()).toBe(between);
    // Woken by that adoption, the request still waits for a read of the file begun after it came.
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBeNull();
    clock.advance(rereadIntervalMs);
    expect(await served).toBe(true);
    expect(tokens.current()).toBe(last);
  });
});
