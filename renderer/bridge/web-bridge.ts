/**
 * `LabApi` over the control API, for the web dashboard served by `codex-lab serve` at `/ui/`.
 * The router token arrives in the URL fragment (`#token=…`, never sent to a server or put in a
 * query string), is kept for the browser tab (lab-api.ts), and the fragment is wiped from the
 * address bar at once.
 * Live updates come from `GET /lab/v1/events` (SSE) read with fetch, because EventSource cannot
 * send an Authorization header.
 */
import type {
  ContractResult,
  controlApiPrefix,
  LabApi,
  LabState,
  LoginView,
  OperationName,
} from '../../core/service/contract.ts';
import {
  decodeLabState,
  decodeOperationResult,
  watchStreamSilence,
} from '../../core/view-types.ts';

/**
 * The control API prefix, typed as the contract's literal so a change there fails to compile
 * here; imported as a type only, because a value import would pull zod into the page bundle.
 */
const apiPrefix: typeof controlApiPrefix = '/lab/v1';

/** Reads `token` from a fragment like `#token=abc`; null when absent. */
export function readTokenFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const token = params.get('token');
  return token && token.length > 0 ? token : null;
}

/** Splits an SSE text buffer into complete events; returns them and the unfinished rest. */
export function parseSseChunk(buffer: string): {
  events: { event: string; data: string }[];
  rest: string;
} {
  const events: { event: string; data: string }[] = [];
  const normalized = buffer.replace(/\r\n/g, '\n');
  const blocks = normalized.split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') });
  }
  return { events, rest };
}

/** Options for the web bridge (tests pass their own origin and fetch). */
export interface WebBridgeOptions {
  token: string | null;
  /** Where the token came from: the dashboard link (the default), or pasted by the user. */
  tokenSource?: 'link' | 'pasted';
  origin: string;
  fetch?: typeof fetch;
  /** Opens the sign-in page; the dashboard uses a popup or a new tab. */
  openSignIn?: (url: string, popup: boolean) => void;
}

/**
 * The longest any call may wait, even while the stream looks healthy: longer than the slowest
 * operation (priming a profile), so only a router that never answers reaches it.
 */
const callLimitMs = 150_000;

/** What the page says when `serve` does not answer (a call, or the event stream). */
const notAnswering = 'Codex Lab is not answering. Is `codex-lab serve` still running?';
/**
 * What the page says when `serve` refuses the token, by where the token came from. A link's token
 * may have been good once: `codex-lab token --rotate` replaces it.
 */
const badTokenFrom = {
  link: 'This dashboard link’s token is not accepted (it may have been replaced): get a new link with `codex-lab dashboard`.',
  pasted:
    'The token you pasted is not the router token of this Codex Lab. Paste the one `codex-lab token` prints.',
} as const;

/**
 * True when `message` is the page's sentence for a refused token: the page then stops asking,
 * so it must not say that it reconnects by itself.
 */
export function isTokenRefusal(message: string | null): boolean {
  return message !== null && Object.values(badTokenFrom).includes(message as never);
}

/** The contract's code for a router that does not answer, as the CLI's client reports it. */
function unreachable(message: string): ContractResult<never> {
  return { ok: false, code: 'router_unavailable', message };
}

/**
 * Unwraps `{ ok, value }` when the server wraps the state, else takes the body as the state; an
 * older router's state gets the fields it lacks (`decodeLabState`).
 */
function asState(body: unknown): LabState {
  if (body && typeof body === 'object' && 'ok' in body && 'value' in body) {
    return decodeLabState((body as { value: unknown }).value);
  }
  return decodeLabState(body);
}

/** Builds the bridge. */
export function createWebBridge(options: WebBridgeOptions): LabApi {
  const fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
  // A user who pasted a token is told about that token, not about a link they did not use.
  const badToken = badTokenFrom[options.tokenSource ?? 'link'];
  const base = `${options.origin}${apiPrefix}`;
  const headers = (): Record<string, string> =>
    options.token ? { authorization: `Bearer ${options.token}` } : {};

  async function getState(): Promise<LabState> {
    const response = await fetcher(`${base}/state`, { headers: headers(), cache: 'no-store' });
    if (response.status === 401) throw new Error(badToken);
    if (!response.ok) throw new Error(`The Codex Lab service answered ${response.status}.`);
    return asState(await response.json());
  }

  // Calls waiting for an answer: when the event stream finds the router frozen they end at once
  // with "not answering" instead of spinning until the router wakes (which may be never).
  const pending = new Set<AbortController>();
  const abandonPending = () => {
    for (const waiting of pending) waiting.abort();
  };

  async function call<T>(operation: OperationName, input: unknown): Promise<ContractResult<T>> {
    const waiting = new AbortController();
    pending.add(waiting);
    const limit = setTimeout(() => waiting.abort(), callLimitMs);
    let response: Response;
    try {
      response = await fetcher(`${base}/${operation}`, {
        method: 'POST',
        headers: { ...headers(), 'content-type': 'application/json' },
        body: JSON.stringify(input ?? {}),
        signal: waiting.signal,
      });
      // The page says what to do about its token, as `getState` does, not the router's CLI hint.
      if (response.status === 401) return { ok: false, code: 'unauthorized', message: badToken };
      try {
        const body = (await response.json()) as ContractResult<T>;
        // An older router's answer takes today's shape (`decodeOperationResult`).
        if (body && typeof body === 'object' && 'ok' in body) {
          return decodeOperationResult(operation, body);
        }
      } catch {
        if (waiting.signal.aborted) return unreachable(notAnswering);
        // fall through: not JSON
      }
      return unreachable(`The Codex Lab service answered ${response.status}.`);
    } catch {
      return unreachable(notAnswering);
    } finally {
      clearTimeout(limit);
      pending.delete(waiting);
    }
  }

  function subscribe(
    listener: (state: LabState) => void,
    onOffline?: (message: string) => void,
  ): () => void {
    const controller = new AbortController();
    let delay = 500;
    const run = async (): Promise<void> => {
      while (!controller.signal.aborted) {
        // Why the stream is not (or no longer) open, said before the next try.
        let lost = notAnswering;
        // One attempt: aborted when the page stops listening, or when the stream falls silent
        // (the shared rule, `watchStreamSilence`) — a frozen router neither answers nor hangs up.
        const attempt = new AbortController();
        const stopAttempt = () => attempt.abort();
        controller.signal.addEventListener('abort', stopAttempt);
        let frozen = false;
        const silence = watchStreamSilence(() => {
          frozen = true;
          attempt.abort();
        });
        try {
          const response = await fetcher(`${base}/events`, {
            headers: { ...headers(), accept: 'text/event-stream' },
            signal: attempt.signal,
            cache: 'no-store',
          });
          if (response.status === 401) lost = badToken;
          if (!response.ok || !response.body) throw new Error(String(response.status));
          delay = 500;
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            silence.heard();
            buffer += value;
            const parsed = parseSseChunk(buffer);
            buffer = parsed.rest;
            for (const event of parsed.events) {
              if (event.event === 'state') listener(asState(JSON.parse(event.data)));
            }
          }
        } catch {
          // (A stream that ended without an error, `serve` stopping cleanly, is an outage too.)
        } finally {
          silence.stop();
          controller.signal.removeEventListener('abort', stopAttempt);
        }
        if (controller.signal.aborted) return;
        if (frozen) abandonPending();
        // The page keeps its last state on screen; it must not look live while it is not.
        onOffline?.(lost);
        // A refused token stays refused (serve keeps its token across restarts): asking again
        // every few seconds would only fill the console with 401s.
        if (lost === badToken) return;
        // Reconnect with a capped backoff; a restarted `serve` is picked up without a reload.
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    };
    void run();
    return () => controller.abort();
  }

  return {
    getState,
    subscribe,
    setActive: (input) => call('setActive', input),
    renameProfile: (input) => call('renameProfile', input),
    removeProfile: (input) => call('removeProfile', input),
    async startLogin(input) {
      const result = await call<LoginView>('startLogin', input);
      if (result.ok) options.openSignIn?.(result.value.authorizeUrl, input.popup ?? false);
      return result;
    },
    cancelLogin: (input) => call('cancelLogin', input),
    completeLogin: (input) => call('completeLogin', input),
    setPriming: (input) => call('setPriming', input),
    primeNow: (input) => call('primeNow', input),
    pinSession: (input) => call('pinSession', input),
    pinRepo: (input) => call('pinRepo', input),
    refreshUsage: (input) => call('refreshUsage', input),
  };
}
