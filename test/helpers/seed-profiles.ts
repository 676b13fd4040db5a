/**
 * Seeds profiles without the browser flow: writes `auth-profiles.json` and
 * `auth-profiles/<name>/auth.json` in Codex's own schema, with a token family minted by the fake
 * issuer, so the fake backend accepts the access tokens and the issuer rotates the refresh tokens.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { authDotJsonFor, issueTokens } from '../fakes/fake-issuer.ts';

/** One profile to seed: its name and the fake account it signs in as. */
export interface SeedProfile {
  name: string;
  email: string;
}

/** The tokens written for one seeded profile (tests plant them and search outputs for them). */
export interface SeededProfile {
  name: string;
  email: string;
  accountId: string;
  accessToken: string;
  refreshToken: string;
  idToken: string;
}

/**
 * Writes the registry and one auth.json per profile under `home` (a CODEX_LAB_HOME), in the
 * user's order. Files are 0600 in 0700 folders, like the real store.
 */
export async function seedProfiles(
  fake: FakeChatGpt,
  home: string,
  profiles: SeedProfile[],
  options: { active?: string } = {},
): Promise<SeededProfile[]> {
  const createdAt = new Date(fake.nowSeconds() * 1000).toISOString();
  await mkdir(join(home, 'auth-profiles'), { recursive: true, mode: 0o700 });
  const seeded: SeededProfile[] = [];
  for (const profile of profiles) {
    const tokens = issueTokens(fake, profile.email);
    const folder = join(home, 'auth-profiles', profile.name);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const auth = authDotJsonFor(fake, tokens);
    await writeFile(join(folder, 'auth.json'), `${JSON.stringify(auth, null, 2)}\n`, {
      mode: 0o600,
    });
    seeded.push({ name: profile.name, email: profile.email, ...tokens });
  }
  const registry = {
    version: 1,
    active: options.active ?? 'auto',
    profiles: profiles.map((profile) => {
      const account = fake.account(profile.email);
      return {
        name: profile.name,
        label: null,
        email: account.email,
        plan: account.plan,
        accountId: account.accountId,
        userId: account.userId,
        createdAt,
        lastUsedAt: null,
        store: 'file',
        priming: { enabled: false, windows: ['weekly'], at: null, model: null },
      };
    }),
    pins: { sessions: {}, repos: {} },
  };
  await writeFile(join(home, 'auth-profiles.json'), `${JSON.stringify(registry, null, 2)}\n`, {
    mode: 0o600,
  });
  return seeded;
}
