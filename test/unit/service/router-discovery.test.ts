/** Finding a home's router: what a client is told when the files around it do not read. */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { labPaths } from '../../../core/home/paths.ts';
import { discoverRouter } from '../../../core/service/router-discovery.ts';
import { writeRouterInfo } from '../../../core/service/router-info.ts';
import { makeTempHome } from '../../helpers/cli.ts';

const homes: string[] = [];
afterEach(async () => {
  for (const home of homes.splice(0)) await rm(home, { recursive: true, force: true });
});

describe('discoverRouter', () => {
  it('names a router token file that does not read, and leaves it as it was', async () => {
    const home = await makeTempHome('codex-lab-discovery-');
    homes.push(home);
    const paths = labPaths(home);
    await mkdir(dirname(paths.routerToken), { recursive: true, mode: 0o700 });
    await writeRouterInfo(paths, { port: 9, pid: process.pid });
    await writeFile(paths.routerToken, 'not a token\n', { mode: 0o600 });
    const found = await discoverRouter(paths);
    expect(found).toEqual({
      state: 'stale',
      reason:
        'state/router.json names a router on http://127.0.0.1:9, but state/router-token does not hold a router token (it was left untouched)',
    });
    expect(await readFile(paths.routerToken, 'utf8')).toBe('not a token\n');
    await rm(paths.routerToken);
    expect(await discoverRouter(paths)).toMatchObject({
      reason:
        'state/router.json names a router on http://127.0.0.1:9, but this home has no router token',
    });
  });
});
