/**
 * A profile's name is not its account: names move (rename) and are reused (remove, then a sign-in
 * of another account under the same name). What the router keeps per profile — sessions, the
 * request log and its journal, pins named by a running Codex, quota — must follow a rename and
 * must never be handed to another account. Real routers (LabService on loopback) against the fake
 * ChatGPT, restarted over the same home as `serve` is.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import type { LabService } from '../../core/service/lab-service.ts';
import { handleBackendRequest } from '../fakes/fake-backend.ts';
import { startFakeChatGpt, type FakeChatGpt, type FakeHandler } from '../fakes/fake-chatgpt.ts';
import { handleIssuerRequest } from '../fakes/fake-issuer.ts';
import { makeTempHome } from '../helpers/cli.ts';
import { createTestLabService, routedTurn, signInProfiles } from '../helpers/lab-service.ts';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

/** A started quota window `used` percent spent, resetting one window from now. */
function window(used: number, minutes: number) {
  const resetAt = Math.floor(Date.now() / 1000) + minutes * 60;
  return { usedPercent: used, windowMinutes: minutes, resetAt, unstarted: false };
}

/** A fake with `accounts` and a home with `profiles` signed in; routers are started by `start`. */
async function setUp(
  accounts: Array<{ email: string; primaryUsed?: number }>,
  profiles: ReadonlyArray<readonly [email: string, name: string]>,
  handlers: FakeHandler[] = [],
): Promise<{
  fake: FakeChatGpt;
  paths: LabPaths;
  home: string;
  start: () => Promise<{ service: LabService; url: string; token: string }>;
}> {
  const fake = await startFakeChatGpt({
    accounts: accounts.map(({ email, primaryUsed }) => ({
      email,
      usagePerTurn: 0,
      ...(primaryUsed === undefined
        ? {}
        : {
            primary: window(primaryUsed, 300),
            secondary: window(primaryUsed, 10080),
          }),
    })),
    handlers: [handleIssuerRequest, ...handlers, handleBackendRequest],
  });
  const home = await makeTempHome('codex-lab-identity-');
  const paths = labPaths(home);
  await signInProfiles(fake, paths, profiles);
  cleanup.push(async () => {
    await fake.close();
    await rm(home, { recursive: true, force: true });
  });
  return {
    fake,
    paths,
    home,
    start: async () => {
      const service = createTestLabService(fake, paths);
      const token = await service.routerToken();
      const { url } = await service.start({ port: 0 });
      let stopped = false;
      const stop = service.stop.bind(service);
      service.stop = async () => {
        if (stopped) return;
        stopped = true;
        await stop();
      };
      cleanup.push(() => service.stop());
      return { service, url, token };
    },
  };
}

describe('sessions of a removed profile after a restart', () => {
  it('are not brought back, and never go sticky to another account that takes the name', async () => {
    const lab = await setUp(
      [{ email: 'alice@example.com' }, { email: 'bob@example.com' }, { email: 'dave@example.com' }],
      [
        ['alice@example.com', 'alice'],
        ['bob@example.com', 'bob'],
      ],
    );
    const first = await lab.start();
    await first.service.setActive({ profile: 'alice' });
    expect(await routedTurn(first.url, first.token, 'sess-A')).toEqual({
      profile: 'alice',
      route: 'active',
    });
    await first.service.setActive({ profile: 'auto' });
    expect((await first.service.removeProfile({ profile: 'alice' })).ok).toBe(true);
    expect((await first.service.getState()).sessions).toEqual([]);
    await first.service.stop();

    // Restarted: the journal still holds alice's turn, but alice is gone.
    const second = await lab.start();
    expect((await second.service.getState()).sessions).toEqual([]);
    await second.service.stop();

    // Another account signs in under the old name while no router runs.
    await signInProfiles(lab.fake, lab.paths, [['dave@example.com', 'alice']]);
    const third = await lab.start();
    expect((await third.service.getState()).sessions).toEqual([]);
    const next = await routedTurn(third.url, third.token, 'sess-A');
    expect(next.route).not.toBe('sticky');
  });
});
