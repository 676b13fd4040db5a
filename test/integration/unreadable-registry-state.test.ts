/**
 * The registry (auth-profiles.json) stops parsing while the router runs: the router keeps routing
 * with its last good copy, and every surface (the state behind the dashboard, `codex-lab status`)
 * shows those same profiles and says the file is unreadable and that this copy is in use, rather
 * than "no profiles"; `codex-lab list` shows the router's profiles and says it in the same sentence.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCodexLab } from '../helpers/cli.ts';
import { startTestRouter, turnThroughRouter, type TestRouter } from '../helpers/lab-service.ts';

let router: TestRouter;
beforeEach(async () => {
  router = await startTestRouter({
    homePrefix: 'codex-lab-unreadable-registry-',
    accounts: [{ email: 'ann@example.com' }, { email: 'ben@example.com' }],
    profiles: [
      ['ann@example.com', 'ann'],
      ['ben@example.com', 'ben'],
    ],
    hosted: true,
  });
});
afterEach(() => router.close());

describe('a registry that stops parsing while the router runs', () => {
  it('shows the profiles the router still routes with, and says it uses the last good copy', async () => {
    const pinned = { 'x-codex-lab-profile': 'ann' };
    expect((await turnThroughRouter(router.url, router.token, 's-first', pinned)).status).toBe(200);
    const broken = '{"version":1,"profiles":[{"name":';
    await writeFile(router.paths.registry, broken);
    // Routed with the copy read before (ann's token is still in the router's short cache).
    const served = await turnThroughRouter(router.url, router.token, 's-kept', pinned);
    expect(served.status).toBe(200);

    const state = await router.service.getState();
    expect(state.profiles.map((profile) => profile.name)).toEqual(['ann', 'ben']);
    expect(state.pool.next.detail).not.toMatch(/No profile is signed in/);
    const said = state.problems.map((problem) => problem.message).join('\n');
    expect(said).toContain(`${router.paths.registry} is not valid JSON`);
    expect(said).toMatch(/last good copy/);
    expect(state.problems.every((problem) => problem.code === 'corrupt_file')).toBe(true);

    const status = await runCodexLab(['status'], { home: router.home });
    expect(status.stdout).toContain('Profiles: 2 (ann, ben)');
    expect(status.stderr).toContain(`${router.paths.registry} is not valid JSON`);
    expect(status.stderr).toMatch(/last good copy it read \(ann, ben\)/);

    // `list` agrees: the router's live profiles, and the file named in the very sentence status
    // gives; it still exits 1, as for any file it cannot read.
    const list = await runCodexLab(['list'], { home: router.home });
    expect(list.stdout).toMatch(/\bann\b/);
    expect(list.stdout).toMatch(/\bben\b/);
    expect(list.stderr).toBe(status.stderr);
    expect(list.code).toBe(1);
    const json = await runCodexLab(['list', '--json'], { home: router.home });
    expect((JSON.parse(json.stdout) as Array<{ name: string }>).map((p) => p.name)).toEqual([
      'ann',
      'ben',
    ]);
    expect(json.stderr).toBe(status.stderr);
    expect(await readFile(router.paths.registry, 'utf8')).toBe(broken);
  });
});
