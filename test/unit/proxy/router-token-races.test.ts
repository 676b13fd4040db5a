/**
 * `RouterTokens` when its work overlaps: a file re-read for an unknown token (which anyone who can
 * reach the port can start) running while a rotation lands, and two rotations at once. Neither
 * may bring back a token the user revoked. File I/O is made slow on demand (a network home, a
 * virus scanner) so the overlap is certain.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { labPaths, type LabPaths } from '../../../core/home/paths.ts';
import { RouterTokens } from '../../../core/proxy/router-token.ts';
import { systemClock } from '../../../core/ports.ts';

const slow = vi.hoisted(() => ({ chmodMs: 0 }));
vi.mock('node:fs/promises', async (original) => {
  const real = await original<typeof import('node:fs/promises')>();
  return {
    ...real,
    chmod: async (...args: Parameters<typeof real.chmod>) => {
      const delay = slow.chmodMs;
      slow.chmodMs = 0;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
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
});
