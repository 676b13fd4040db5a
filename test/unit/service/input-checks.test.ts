/**
 * Values every surface shows or keeps are refused at the door: a session id with a control
 * character (it would break the pins table and the log line it is printed on), and a registry in
 * which two profiles share a name (each name is a folder; a rename would move one and orphan the
 * other).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labPaths } from '../../../core/home/paths.ts';
import { registrySchema } from '../../../core/profiles/schema.ts';
import { ProfileStore } from '../../../core/profiles/store.ts';
import { makeAuth } from '../../helpers/profile-auth.ts';

describe('input checks', () => {
  it('refuses a session id that is not a UUID in the store every surface pins through, and keeps one in lower case', async () => {
    const home = await mkdtemp(join(tmpdir(), 'codex-lab-session-id-'));
    try {
      const store = new ProfileStore({ paths: labPaths(home) });
      await store.saveSignIn({
        auth: makeAuth({ email: 'work@example.com', accountId: 'acct-work' }),
        requestedName: 'work',
      });
      const refusal = (id: string) =>
        store.setPin('session', id, 'work').then(
          () => null,
          (error: unknown) => error,
        );
      expect(await refusal('a\nb')).toMatchObject({
        code: 'invalid_argument',
        message:
          '"a\\nb" is not a Codex session id: give the session\'s UUID as Codex shows it (like 0199aabb-ccdd-7eef-8899-aabbccddeeff).',
      });
      for (const id of [
        'x'.repeat(201),
        'thread-1',
        '019a0c5e-72ea-73c1-b961-fbcd4ef1912',
        '019a0c5e72ea73c1b961fbcd4ef19122',
      ]) {
        expect(await refusal(id)).toMatchObject({ code: 'invalid_argument' });
      }
      expect(await refusal('019A0C5E-72EA-73C1-B961-FBCD4EF19122')).toBeNull();
      expect(Object.keys((await store.readRegistry()).pins.sessions)).toEqual([
        '019a0c5e-72ea-73c1-b961-fbcd4ef19122',
      ]);
      // Unpinning a bad id that got in before this check still works; one no pin has is refused.
      expect(
        await store.setPin('session', 'a\nb', null).then(
          () => null,
          (error: unknown) => error,
        ),
      ).toMatchObject({ code: 'invalid_argument' });
      await store.updateRegistry(async (registry) => {
        registry.pins.sessions['a\nb'] = {
          profile: 'work',
          allowFallback: false,
          createdAt: new Date().toISOString(),
        };
      });
      await store.setPin('session', 'a\nb', null);
      expect(Object.keys((await store.readRegistry()).pins.sessions)).toEqual([
        '019a0c5e-72ea-73c1-b961-fbcd4ef19122',
      ]);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('reads a registry whose profile names repeat as damaged', () => {
    const entry = (name: string) => ({
      name,
      label: null,
      email: `${name}@example.com`,
      plan: 'plus',
      accountId: `acct-${name}`,
      createdAt: '2026-11-30T00:00:00.000Z',
      lastUsedAt: null,
      store: 'file',
      priming: { enabled: false, windows: ['weekly'], at: null, model: null },
    });
    const parse = (names: string[]) =>
      registrySchema.safeParse({ version: 1, active: 'auto', profiles: names.map(entry) });
    expect(parse(['alpha', 'beta']).success).toBe(true);
    const repeated = parse(['alpha', 'beta', 'alpha']);
    expect(repeated.success).toBe(false);
    expect(repeated.error?.issues[0]?.message).toBe('two profiles have the same name');
  });
});
