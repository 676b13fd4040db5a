import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLabError } from '../../../core/errors.ts';
import { labPaths, type LabPaths } from '../../../core/home/paths.ts';
import {
  loadOrCreateRouterToken,
  rotateRouterTokenFile,
  RouterTokens,
  rereadIntervalMs,
  routerTokenGraceMs,
} from '../../../core/proxy/router-token.ts';
import { FakeClock } from '../router/fake-clock.ts';

let folder: string;
let paths: LabPaths;
let clock: FakeClock;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'codex-lab-token-rotation-'));
  paths = labPaths(folder);
  clock = new FakeClock();
});
afterEach(() => rm(folder, { recursive: true, force: true }));

/** The token the file holds now. */
async function stored(): Promise<string> {
  return (await readFile(paths.routerToken, 'utf8')).trim();
}

describe('router token rotation', () => {
  it('grace is long enough for Codex to run its token command again (every 5 minutes)', () => {
    expect(routerTokenGraceMs).toBeGreaterThan(300_000);
  });

  it('adopts the new token at once and accepts the old one until the grace period ends', async () => {
    const tokens = new RouterTokens({ paths, clock });
    const old = await tokens.load();
    expect(tokens.accepts(old)).toBe(true);

    const rotated = await tokens.rotate({ revokeOld: false });
    expect(rotated.graceUntil).toBe(clock.now() + routerTokenGraceMs);
    const fresh = await stored();
    expect(fresh).not.toBe(old);
    expect(tokens.current()).toBe(fresh);
    expect((await stat(paths.routerToken)).mode & 0o777).toBe(0o600);

    expect(tokens.accepts(fresh)).toBe(true);
    expect(tokens.accepts(old)).toBe(true);
    clock.advance(routerTokenGraceMs - 1);
    expect(tokens.accepts(old)).toBe(true);
    clock.advance(1);
    expect(tokens.accepts(old)).toBe(false);
    expect(tokens.accepts(fresh)).toBe(true);
    expect(tokens.accepts(undefined)).toBe(false);
    expect(tokens.accepts('clab_not-a-token-at-all-not-a-token-at-all-xx')).toBe(false);
  });

  it('refuses the old token at once when asked to revoke it', async () => {
    const tokens = new RouterTokens({ paths, clock });
    const old = await tokens.load();
    const rotated = await tokens.rotate({ revokeOld: true });
    expect(rotated.graceUntil).toBeNull();
    expect(tokens.accepts(old)).toBe(false);
    expect(tokens.accepts(await stored())).toBe(true);
  });

  it('a second rotation ends the first one’s grace: only the latest old token is kept', async () => {
    const tokens = new RouterTokens({ paths, clock });
    const first = await tokens.load();
    await tokens.rotate({ revokeOld: false });
    const second = tokens.current();
    await tokens.rotate({ revokeOld: false });
    expect(tokens.accepts(first)).toBe(false);
    expect(tokens.accepts(second)).toBe(true);
    expect(tokens.accepts(tokens.current())).toBe(true);
  });

  it('a corrupt token file is reported by name and left untouched', async () => {
    await mkdir(join(folder, 'state'), { recursive: true });
    await writeFile(paths.routerToken, 'not a token\n', { mode: 0o600 });
    const tokens = new RouterTokens({ paths, clock });
    const refused = await tokens.rotate({ revokeOld: false }).catch((error: unknown) => error);
    expect(isLabError(refused) && refused.code).toBe('corrupt_file');
    expect((refused as Error).message).toContain(paths.routerToken);
    expect(await readFile(paths.routerToken, 'utf8')).toBe('not a token\n');

    const direct = await rotateRouterTokenFile(paths).catch((error: unknown) => error);
    expect(isLabError(direct) && direct.code).toBe('corrupt_file');
    expect(await readFile(paths.routerToken, 'utf8')).toBe('not a token\n');
  });

  it('rotating the file with no router running replaces the token, 0600', async () => {
    const old = await loadOrCreateRouterToken(paths);
    const fresh = await rotateRouterTokenFile(paths);
    expect(fresh).not.toBe(old);
    expect(await stored()).toBe(fresh);
    expect((await stat(paths.routerToken)).mode & 0o777).toBe(0o600);
  });
  it('adopts a token file changed under it, reading the file at most once a second for tokens it does not hold', async () => {
    const tokens = new RouterTokens({ paths, clock });
    const old = await tokens.load();
    // Not a router token's shape (an OpenAI bearer a pass-through request carries): no read.
    expect(await tokens.acceptsStored('eyJhbGciOi.not-ours')).toBe(false);
    // A wrong router token: the file is read, it still holds the token in use.
    const stranger = `clab_${'s'.repeat(43)}`;
    expect(await tokens.acceptsStored(stranger)).toBe(false);
    // The file changes under the router within the same second: the request waits for the next
    // read rather than being refused (or passed upstream), and the file is not read before it.
    const replaced = await rotateRouterTokenFile(paths);
    expect(tokens.accepts(replaced)).toBe(false);
    let answered: boolean | null = null;
    const waiting = tokens.acceptsStored(replaced).then((accepted) => (answered = accepted));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBeNull();
    clock.advance(rereadIntervalMs);
    expect(await waiting).toBe(true);
    expect(tokens.current()).toBe(replaced);
    // The token held until then keeps a rotation's grace, then is refused.
    expect(tokens.accepts(old)).toBe(true);
    clock.advance(routerTokenGraceMs);
    expect(tokens.accepts(old)).toBe(false);
    expect(await tokens.acceptsStored(stranger)).toBe(false);
  });

  it('keeps the token it holds when the file turns unreadable', async () => {
    const tokens = new RouterTokens({ paths, clock });
    const held = await tokens.load();
    await writeFile(paths.routerToken, 'not a token\n');
    expect(await tokens.acceptsStored(`clab_${'z'.repeat(43)}`)).toBe(false);
    expect(tokens.accepts(held)).toBe(true);
    expect(await readFile(paths.routerToken, 'utf8')).toBe('not a token\n');
  });
  it('a request waiting for the next read ends as soon as the file is adopted, not on the timer', async () => {
    const changes: Array<number | null> = [];
    const tokens = new RouterTokens({ paths, clock, onChange: (until) => changes.push(until) });
    await tokens.load();
    expect(await tokens.acceptsStored(`clab_${'s'.repeat(43)}`)).toBe(false);
    const replaced = await rotateRouterTokenFile(paths);
    const waiting = tokens.acceptsStored(replaced);
    // The watcher sees the file change and adopts it: the waiting request is served at once.
    expect(await tokens.adoptStored()).toBe(true);
    expect(await waiting).toBe(true);
    expect(changes).toEqual([clock.now() + routerTokenGraceMs]);
    await tokens.rotate({ revokeOld: true });
    expect(changes).toEqual([clock.now() + routerTokenGraceMs, null]);
  });

  it('a closing router refuses the requests waiting for the next read at once', async () => {
    const tokens = new RouterTokens({ paths, clock });
    await tokens.load();
    expect(await tokens.acceptsStored(`clab_${'s'.repeat(43)}`)).toBe(false);
    const replaced = await rotateRouterTokenFile(paths);
    const waiting = tokens.acceptsStored(replaced);
    tokens.close();
    expect(await waiting).toBe(false);
  });
});
