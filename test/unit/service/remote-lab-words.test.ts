/**
 * A router that stops answering in the middle of an operation is named in the user's words (what
 * they asked: "while renaming work to research"), never by the control API's operation name
 * (`renameProfile`), which no surface shows anywhere else.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteLab } from '../../../core/service/remote-lab.ts';

let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A router whose every answer is cut off (it died mid-operation), or is not a result. */
async function brokenRouter(kind: 'cut' | 'garbage'): Promise<RemoteLab> {
  server = createServer((request, response) => {
    request.resume();
    if (kind === 'cut') request.socket.destroy();
    else response.writeHead(502).end('bad gateway');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return new RemoteLab({ url: `http://127.0.0.1:${address.port}`, token: 'router-token' });
}

describe('the sentence of a router that stopped answering', () => {
  it.each([
    ['renameProfile', { from: 'work', to: 'research' }, 'while renaming work to research'],
    ['removeProfile', { profile: 'work' }, 'while removing work'],
    ['setActive', { profile: 'work' }, 'while making work the active profile'],
    ['pinRepo', { path: '/src/app', profile: 'work' }, 'while pinning /src/app to work'],
    ['pinRepo', { path: '/src/app', profile: null }, 'while unpinning /src/app'],
  ] as const)('%s says %j as %j', async (operation, input, words) => {
    const lab = await brokenRouter('cut');
    const result = await (lab[operation] as (input: unknown) => Promise<{ ok: boolean }>)(input);
    expect(result).toEqual({
      ok: false,
      code: 'router_unavailable',
      message: `The router at ${lab.url} stopped answering ${words}; it applies a change fully or not at all.`,
    });
  });

  it.each([
    ['refreshUsage', { profile: null }, 'while reading the usage of every profile'],
    ['refreshUsage', { profile: 'work' }, 'while reading the usage of work'],
  ] as const)(
    '%s, which changes nothing, says %j without calling it a change',
    async (operation, input, words) => {
      const lab = await brokenRouter('cut');
      const result = await (lab[operation] as (input: unknown) => Promise<{ ok: boolean }>)(input);
      expect(result).toEqual({
        ok: false,
        code: 'router_unavailable',
        message: `The router at ${lab.url} stopped answering ${words}.`,
      });
    },
  );

  it('names the operation in the user words when the answer is no result', async () => {
    const lab = await brokenRouter('garbage');
    const result = await lab.renameProfile({ from: 'work', to: 'research' });
    expect(result).toEqual({
      ok: false,
      code: 'router_unavailable',
      message: `The router at ${lab.url} gave no answer while renaming work to research (HTTP 502).`,
    });
  });
});
