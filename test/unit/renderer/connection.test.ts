/**
 * The web dashboard while `codex-lab serve` goes away and comes back: the bridge's event stream
 * reports the outage (and a refused token once), and the store drops what the outage made stale
 * (an operation's "not answering" notice, a sign-in the restarted service no longer knows).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LabApi, LabState, LoginView } from '../../../core/service/contract.ts';
import { createWebBridge } from '../../../renderer/bridge/web-bridge.ts';
import { defaultLabStoreState } from '../../../renderer/stores/defaults.ts';
import { useLabStore } from '../../../renderer/stores/use-lab-store.ts';
import { olderRouterState, uiProfile, uiState } from '../../helpers/ui-lab-state.ts';

/** An SSE answer carrying `states`, then ending (as a stopped `serve` ends it). */
function eventStream(states: LabState[]): Response {
  const text = states.map((state) => `event: state\ndata: ${JSON.stringify(state)}\n\n`).join('');
  return new Response(text, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

describe('the web bridge’s event stream', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('says when serve stops answering, when it is back, and stops asking once the token is refused', async () => {
    const answers: Array<() => Response> = [
      () => eventStream([uiState([])]),
      () => {
        throw new TypeError('fetch failed');
      },
      () => eventStream([uiState([])]),
      () => new Response('', { status: 401 }),
    ];
    let calls = 0;
    const fetcher = (async () => answers[calls++]!()) as typeof fetch;
    const bridge = createWebBridge({ token: 't', origin: 'http://127.0.0.1:1', fetch: fetcher });
    const heard: string[] = [];
    const stop = bridge.subscribe(
      () => heard.push('state'),
      (message) => heard.push(`offline: ${message}`),
    );
    await vi.advanceTimersByTimeAsync(60_000);
    stop();
    const notAnswering = 'offline: Codex Lab is not answering. Is `codex-lab serve` still running?';
    expect(heard).toEqual([
      'state',
      notAnswering,
      notAnswering,
      'state',
      notAnswering,
      'offline: This dashboard link’s token is not accepted (it may have been replaced): get a new link with `codex-lab dashboard`.',
    ]);
    expect(calls).toBe(4);
  });

  it('notices a frozen serve: a stream gone quiet past a few heartbeats is an outage, pending calls end, and it reconnects by itself', async () => {
    // A frozen process (kill -STOP) keeps its sockets open but sends nothing: no error, no end.
    const silent = (signal: AbortSignal | null | undefined, first: string): Response => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(first));
          signal?.addEventListener('abort', () => controller.error(signal.reason));
        },
      });
      return new Response(body, { status: 200 });
    };
    const hang = (signal: AbortSignal | null | undefined) =>
      new Promise<Response>((_resolve, reject) =>
        signal?.addEventListener('abort', () => reject(signal.reason as Error)),
      );
    let frozen = true;
    let streams = 0;
    const fetcher = (async (url: string, init?: RequestInit) => {
      if (!String(url).endsWith('/events')) return hang(init?.signal);
      streams += 1;
      if (streams === 1) {
        return silent(init?.signal, `event: state\ndata: ${JSON.stringify(uiState([]))}\n\n`);
      }
      if (frozen) return hang(init?.signal);
      return eventStream([uiState([])]);
    }) as typeof fetch;
    const bridge = createWebBridge({ token: 't', origin: 'http://x', fetch: fetcher });
    const heard: string[] = [];
    const stop = bridge.subscribe(
      () => heard.push('state'),
      () => heard.push('offline'),
    );
    await vi.advanceTimersByTimeAsync(10);
    let refreshed: unknown = null;
    void bridge.refreshUsage({}).then((result) => (refreshed = result));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(heard).toEqual(['state', 'offline']);
    expect(refreshed).toMatchObject({ ok: false, code: 'router_unavailable' });
    frozen = false;
    await vi.advanceTimersByTimeAsync(60_000);
    stop();
    expect(heard.slice(0, 3)).toEqual(['state', 'offline', 'offline']);
    expect(heard).toContain('state');
    expect(heard.lastIndexOf('state')).toBeGreaterThan(1);
  });

  it('says a pasted token was refused in words about that token, not about a link', async () => {
    const refused = (async () => new Response('', { status: 401 })) as typeof fetch;
    const options = { token: 't', origin: 'http://x', fetch: refused };
    await expect(createWebBridge({ ...options, tokenSource: 'pasted' }).getState()).rejects.toThrow(
      'The token you pasted is not the router token of this Codex Lab. Paste the one `codex-lab token` prints.',
    );
    await expect(createWebBridge(options).getState()).rejects.toThrow(
      'This dashboard link’s token is not accepted (it may have been replaced): get a new link with `codex-lab dashboard`.',
    );
    // An operation refused for its token says the same, as the one failure shape.
    await expect(createWebBridge(options).setActive({ profile: 'work' })).resolves.toEqual({
      ok: false,
      code: 'unauthorized',
      message:
        'This dashboard link’s token is not accepted (it may have been replaced): get a new link with `codex-lab dashboard`.',
    });
  });

  it('fills in the fields an older router’s state lacks, from getState and the stream', async () => {
    const older = olderRouterState([uiProfile('work')]);
    const fetcher = (async (url: string) =>
      String(url).endsWith('/events')
        ? eventStream([older as LabState])
        : Response.json({ ok: true, value: older })) as typeof fetch;
    const bridge = createWebBridge({ token: 't', origin: 'http://x', fetch: fetcher });
    const states: LabState[] = [await bridge.getState()];
    const stop = bridge.subscribe((state) => states.push(state));
    await vi.advanceTimersByTimeAsync(10);
    stop();
    expect(states).toHaveLength(2);
    for (const state of states) {
      expect(state.problems).toEqual([]);
      expect(state.pool.unread).toEqual([]);
      expect(state.pool.next.sameRepo).toBeNull();
      expect(state.requests[0]?.pinned).toBeNull();
      expect(state.requests[0]?.why).toBeNull();
    }
  });

  it('reports a call to a stopped serve with the router’s own code', async () => {
    const fetcher = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    const bridge: LabApi = createWebBridge({ token: 't', origin: 'http://x', fetch: fetcher });
    expect(await bridge.setActive({ profile: 'auto' })).toEqual({
      ok: false,
      code: 'router_unavailable',
      message: 'Codex Lab is not answering. Is `codex-lab serve` still running?',
    });
  });
});

describe('the store across an outage', () => {
  const login = (state: LoginView['state']): LoginView => ({
    id: 'login-1',
    state,
    method: 'browser',
    authorizeUrl: 'http://127.0.0.1:1/authorize',
    userCode: null,
    proposedName: 'work',
    profile: state === 'done' ? 'work' : null,
    email: state === 'done' ? 'work@example.com' : null,
    error: null,
  });
  const withLogins = (logins: LoginView[]): LabState => ({ ...uiState([]), logins });
  const signingIn = (started: LoginView) =>
    useLabStore.setState({
      ...defaultLabStoreState,
      signIn: {
        ...defaultLabStoreState.signIn,
        open: true,
        loginId: started.id,
        lastSeen: started,
      },
    });

  beforeEach(() => useLabStore.setState(defaultLabStoreState));

  it('keeps waiting on a state that predates the login, and gives it up once a state drops it', () => {
    signingIn(login('waiting'));
    const { receive } = useLabStore.getState();
    receive(withLogins([]));
    expect(useLabStore.getState().signIn.gone).toBe(false);
    receive(withLogins([login('waiting')]));
    expect(useLabStore.getState().signIn).toMatchObject({ seen: true, gone: false });
    receive(withLogins([]));
    expect(useLabStore.getState().signIn.gone).toBe(true);
  });

  it('gives up a login the service does not list after the page reconnects', () => {
    signingIn(login('waiting'));
    const { receive, setConnection } = useLabStore.getState();
    setConnection('offline', 'Codex Lab is not answering.');
    receive(withLogins([]));
    expect(useLabStore.getState().signIn.gone).toBe(true);
  });

  it('remembers a finished login after the service drops it from its list', () => {
    signingIn(login('waiting'));
    const { receive } = useLabStore.getState();
    receive(withLogins([login('done')]));
    receive(withLogins([]));
    expect(useLabStore.getState().signIn).toMatchObject({ gone: true });
    expect(useLabStore.getState().signIn.lastSeen?.state).toBe('done');
  });

  it('clears a "not answering" notice once the service is back, and keeps any other', () => {
    const { receive, setConnection, showNotice } = useLabStore.getState();
    showNotice({
      tone: 'error',
      text: 'Rename: Codex Lab is not answering.',
      code: 'router_unavailable',
    });
    receive(uiState([]));
    // Live all along: a state push does not clear it (the operation failed for its own reason).
    expect(useLabStore.getState().notice).not.toBeNull();
    setConnection('offline', 'Codex Lab is not answering.');
    receive(uiState([]));
    expect(useLabStore.getState().notice).toBeNull();
    expect(useLabStore.getState().connection).toBe('live');
    showNotice({ tone: 'error', text: 'Rename: not a valid name.', code: 'invalid_argument' });
    setConnection('offline', 'Codex Lab is not answering.');
    receive(uiState([]));
    expect(useLabStore.getState().notice?.code).toBe('invalid_argument');
  });
});

describe('an operation’s failure notice', () => {
  beforeEach(() => useLabStore.setState(defaultLabStoreState));

  it('goes once the same action works, and stays while another one does', async () => {
    // The operations below are stand-ins: the API is attached only because `run` asks for it.
    useLabStore.getState().attach({} as LabApi, 'web');
    const { run } = useLabStore.getState();
    await run('Rename', async () => ({
      ok: false,
      code: 'invalid_name',
      message: '"FRESH" is not a valid profile name.',
    }));
    expect(useLabStore.getState().notice?.text).toBe(
      'Rename: "FRESH" is not a valid profile name.',
    );
    await run('Make active', async () => ({ ok: true, value: null }));
    expect(useLabStore.getState().notice).not.toBeNull();
    await run('Rename', async () => ({ ok: true, value: null }));
    expect(useLabStore.getState().notice).toBeNull();
  });
});
