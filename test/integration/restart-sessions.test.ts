/**
 * A router restart with sessions in flight, as two `codex-lab serve` processes in turn on one
 * home: each session keeps its account (the request journal says where it was), and the reasoning
 * it replays reaches that account byte-exact; moved on later, the account it leaves for gets none
 * of the earlier account's ciphertext, with no refused attempt first.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkEncryptedContent } from '../fakes/ciphertext.ts';
import type { FakeChatGpt, RecordedRequest } from '../fakes/fake-chatgpt.ts';
import { runCodexLab } from '../helpers/cli.ts';
import {
  type ServeChild,
  type TwoProfileWorld,
  startServe,
  startTwoProfileWorld,
} from './cli-serve-helper.ts';

let world: TwoProfileWorld;
let fake: FakeChatGpt;
let home: string;
let children: ServeChild[];

beforeEach(async () => {
  world = await startTwoProfileWorld('codex-lab-restart-');
  ({ fake, home, children } = world);
});

afterEach(() => world.close());

async function serve(): Promise<ServeChild> {
  const child = await startServe(home, {
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    // Whole bodies over HTTP, so the test reads the ciphertext each attempt carried.
    CODEX_LAB_UPSTREAM_WEBSOCKET: 'off',
  });
  children.push(child);
  return child;
}

async function stop(child: ServeChild): Promise<void> {
  child.child.kill('SIGTERM');
  expect(await child.exited).toEqual({ code: 0, signal: null });
}

/** A Codex-like conversation: each turn re-sends the whole history, reasoning included. */
function conversation(session: string, bearer: string) {
  const history: unknown[] = [];
  return async (router: ServeChild, text: string): Promise<string | null> => {
    history.push({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
    const response = await fetch(`${router.url}/backend-api/codex/responses`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${bearer}`,
        'content-type': 'application/json',
        'session-id': session,
      },
      body: JSON.stringify({
        model: 'gpt-6.2-sol',
        stream: true,
        store: false,
        include: ['reasoning.encrypted_content'],
        reasoning: { effort: 'medium', context: 'all_turns' },
        input: history,
      }),
    });
    const sse = await response.text();
    expect(response.status, sse).toBe(200);
    for (const line of sse.split('\n')) {
      if (!line.startsWith('data: ')) continue;
      const event = JSON.parse(line.slice(6)) as { type: string; item?: unknown };
      if (event.type === 'response.output_item.done') history.push(event.item);
    }
    return response.headers.get('x-codex-lab-profile');
  };
}

function turnsSeen(): RecordedRequest[] {
  return fake.requests.filter((request) => request.path === '/backend-api/codex/responses');
}

function blobsOf(request: RecordedRequest): string[] {
  const body = JSON.parse(request.body) as { input: Array<{ encrypted_content?: string }> };
  return body.input.flatMap((item) =>
    typeof item.encrypted_content === 'string' ? [item.encrypted_content] : [],
  );
}

describe('a router restart', () => {
  it('keeps a session on its account, and strips that account’s reasoning up front when it later moves', async () => {
    const bearer = (await runCodexLab(['token'], { home })).stdout.trim();
    expect((await runCodexLab(['use', 'alpha'], { home })).code).toBe(0);
    const first = await serve();
    const turn = conversation('kept-session', bearer);
    expect(await turn(first, 'one')).toBe('alpha');
    expect(await turn(first, 'two')).toBe('alpha');
    // New sessions go to beta from now on: only the session's own memory keeps it on alpha.
    expect((await runCodexLab(['use', 'beta'], { home })).code).toBe(0);
    await stop(first);

    const second = await serve();
    const before = turnsSeen().length;
    expect(await turn(second, 'three, after the restart')).toBe('alpha');
    const resumed = turnsSeen().slice(before);
    expect(resumed.length).toBe(1);
    const alpha = fake.account('alpha@example.com');
    expect(blobsOf(resumed[0]!).length).toBe(2);
    for (const blob of blobsOf(resumed[0]!)) {
      expect(checkEncryptedContent(fake, alpha, blob)).toBe('ok');
    }
    // A new session does go to the active profile: the restart alone would have moved it.
    expect(await conversation('new-session', bearer)(second, 'hi')).toBe('beta');

    // alpha runs out: beta takes the session without alpha's reasoning, and refuses nothing.
    alpha.stickyFailure = { kind: 'usage_limit', resetsInSeconds: 3600 };
    const moving = turnsSeen().length;
    expect(await turn(second, 'four')).toBe('beta');
    const attempts = turnsSeen().slice(moving);
    // alpha's 429, then beta's one attempt (no 400 for foreign ciphertext and a retry).
    expect(attempts.length).toBe(2);
    expect(blobsOf(attempts[1]!)).toEqual([]);
    expect(second.output()).not.toMatch(/retrying once without it/);

    const sessions = (await (
      await fetch(`${second.url}/lab/v1/sessions`, {
        headers: { authorization: `Bearer ${bearer}` },
      })
    ).json()) as Array<{ id: string; profile: string; requests: number }>;
    expect(sessions.find((session) => session.id === 'kept-session')).toMatchObject({
      profile: 'beta',
      requests: 4,
    });
  });
});
