/**
 * Cloudflare's cookies through the router: Codex 0.171 keeps chatgpt.com's Cloudflare cookies
 * (`__cf_bm`, `_cfuvid`, …) and returns them on every later request, turns, handshakes and side
 * traffic alike; through the router it talks to 127.0.0.1 and keeps none, so the router keeps
 * them for it, one jar per account, and never another cookie (the fake also sets `oai-did`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../fakes/fake-chatgpt.ts';
import { issueAuthDotJson } from '../fakes/fake-issuer.ts';
import { startTestRouter, turnThroughRouter, type TestRouter } from '../helpers/lab-service.ts';

const session = '0199aabb-ccdd-7eef-8899-aabbccddee01';
let router: TestRouter | undefined;

afterEach(async () => {
  await router?.close();
  router = undefined;
});

async function start(env: Record<string, string> = {}): Promise<TestRouter> {
  router = await startTestRouter({
    homePrefix: 'codex-lab-cookies-',
    accounts: [{ email: 'alice@example.com' }, { email: 'bob@example.com' }],
    profiles: [
      ['alice@example.com', 'alice'],
      ['bob@example.com', 'bob'],
    ],
    env,
    prepareFake: (fake) => (fake.cloudflareCookies = true),
  });
  return router;
}

/** The Cloudflare cookies the last answer set, as a client returns them. */
const cookiesOf = (n: number) => `__cf_bm=bm-${n}; _cfuvid=uvid-${n}`;

/** The requests (and handshakes) the fake received with this account's id, in order. */
function ofAccount(requests: RecordedRequest[], account: string): RecordedRequest[] {
  return requests.filter((request) => request.headers['chatgpt-account-id'] === account);
}

describe('Cloudflare cookies through the router', () => {
  for (const transport of ['http', 'websocket'] as const) {
    it(`returns each account's own Cloudflare cookies on its next request (turns over ${transport})`, async () => {
      const current = await start(
        transport === 'http' ? { CODEX_LAB_UPSTREAM_WEBSOCKET: 'off' } : {},
      );
      const { fake } = current;
      const alice = fake.account('alice@example.com').accountId;
      const bob = fake.account('bob@example.com').accountId;
      const pinned = (profile: string) => ({
        'session-id': session,
        'x-codex-lab-profile': profile,
      });

      // Codex's model list first (routed over HTTP with the profile's token), then two turns.
      const models = await fetch(`${current.url}/backend-api/codex/models?client_version=0.171.0`, {
        headers: { authorization: `Bearer ${current.token}`, ...pinned('alice') },
      });
      expect(models.status).toBe(200);
      await models.text();
      await turnThroughRouter(current.url, current.token, session, pinned('alice'));
      await turnThroughRouter(current.url, current.token, session, pinned('alice'));
      // Codex's own login for alice (its side traffic passes through with it).
      const own = issueAuthDotJson(fake, 'alice@example.com') as {
        tokens: { access_token: string };
      };
      const beforeSide = fake.cloudflareCookieCount;
      const side = await fetch(`${current.url}/backend-api/wham/settings/user`, {
        headers: {
          authorization: `Bearer ${own.tokens.access_token}`,
          'chatgpt-account-id': alice,
        },
      });
      expect(side.status).toBe(200);
      // Codex never sees a cookie it could not keep for 127.0.0.1 anyway.
      expect(side.headers.get('set-cookie')).toBeNull();
      await side.text();
      await turnThroughRouter(current.url, current.token, '0199aabb-ccdd-7eef-8899-aabbccddee02', {
        'session-id': '0199aabb-ccdd-7eef-8899-aabbccddee02',
        'x-codex-lab-profile': 'bob',
      });

      const sent = ofAccount([...fake.requests, ...fake.upgrades], alice).sort(
        (left, right) => left.at - right.at,
      );
      // Every request of the account after its first carried what an answer to it before had set
      // (requests sent at once may each carry the one before the other's): the model list, the
      // router's workspace check, the turns (an HTTP request, or the handshake that opened the
      // session's socket), Codex's own side request.
      const carriesOwn = (requests: RecordedRequest[]) => {
        const set: string[] = [];
        for (const [index, request] of requests.entries()) {
          if (index === 0) expect(request.headers['cookie']).toBeUndefined();
          else expect(set, request.path).toContain(request.headers['cookie']);
          if (request.setCookies !== undefined) set.push(cookiesOf(request.setCookies));
        }
      };
      carriesOwn(sent);
      const turns = sent.filter(
        (request) =>
          request.path === '/backend-api/codex/responses' && request.transport === undefined,
      );
      expect(turns[0]!.headers['cookie']).toBeDefined();
      const passed = sent.find((request) => request.path === '/backend-api/wham/settings/user');
      expect(passed?.headers['cookie']).toBe(cookiesOf(beforeSide));
      // Never an OpenAI cookie, and never another account's.
      for (const request of [...fake.requests, ...fake.upgrades]) {
        expect(String(request.headers['cookie'] ?? '')).not.toContain('oai-did');
      }
      carriesOwn(
        ofAccount([...fake.requests, ...fake.upgrades], bob).sort(
          (left, right) => left.at - right.at,
        ),
      );

      // Codex Lab's own calls for an account carry its cookies too: a usage read of every profile.
      const refreshed = await fetch(`${current.url}/lab/v1/refreshUsage`, {
        method: 'POST',
        headers: { authorization: `Bearer ${current.token}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(refreshed.status, await refreshed.text()).toBe(200);
      const read = ofAccount(fake.requests, alice).filter(
        (request) => request.path === '/backend-api/wham/usage',
      );
      expect(read.at(-1)?.headers['cookie']).toMatch(/^__cf_bm=bm-\d+; _cfuvid=uvid-\d+$/);
    });
  }
});
