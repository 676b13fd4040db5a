/**
 * The contract over the control API: what a client uses while a router runs for its home (the
 * CLI's state-changing commands, a desktop app attached to a running `serve`). Each operation is
 * `POST /lab/v1/<operation>`; `subscribe` follows `GET /lab/v1/events`. A router that stops
 * answering mid-operation is one `router_unavailable` result naming it — the router applies each
 * operation fully or not at all, so trying again is always safe. Its sentences name no command:
 * each surface adds its own way to check and retry.
 */
import { request as httpRequest, type ClientRequest } from 'node:http';
import type {
  ContractResult,
  HostInputs,
  Inputs,
  LabApi,
  LabState,
  LoginView,
  PinResult,
  PrimingOutcomeView,
  RequestView,
  ShutdownView,
  TokenRotationView,
  UsageRefreshView,
} from './contract.ts';
import { LabError } from '../errors.ts';
import { profileChangeWaitMs } from '../home/lock-waits.ts';
import { systemClock } from '../ports.ts';
import {
  decodeLabState,
  decodeOperationResult,
  decodeRequestView,
  watchStreamSilence,
  type SilenceTimers,
} from '../view-types.ts';
import { loopbackJson } from './loopback-http.ts';
import { trackRouterChange } from './router-changes.ts';

/**
 * How long a command waits for the router's answer to a rename, remove or sign-in: longer than
 * the router may wait for the locks the change takes (a refresh of that profile in flight, then
 * the registry), plus the issuer's revoke and the work itself. Waiting less, a command gave up
 * and said to try again while the router went on to apply the change.
 */
const profileChangeAnswerMs = profileChangeWaitMs + 20_000;

/**
 * What each operation is in the user's words, one row per operation and here only (the control
 * API's operation names, `renameProfile`, are shown nowhere): `during` for the sentence of a
 * router that stops answering during it ("while renaming work to research"); `change`, for an
 * operation that changes something (the router carries it out even unanswered), what that change
 * is called when a command stops waiting for it ("the rename").
 */
const operationWords: {
  [K in keyof Inputs | keyof HostInputs]: {
    during: (
      input: K extends keyof Inputs
        ? Inputs[K]
        : K extends keyof HostInputs
          ? HostInputs[K]
          : never,
    ) => string;
    change?: string;
  };
} = {
  setActive: {
    during: ({ profile }) => `while making ${profile} the active profile`,
    change: 'change of the active profile',
  },
  renameProfile: { during: ({ from, to }) => `while renaming ${from} to ${to}`, change: 'rename' },
  removeProfile: {
    during: ({ profile, revoke }) =>
      `while removing ${profile}${revoke === true ? ' and revoking its sign-in' : ''}`,
    change: 'removal',
  },
  startLogin: { during: () => 'while starting a sign-in' },
  completeLogin: { during: () => 'while finishing a sign-in', change: 'sign-in' },
  cancelLogin: { during: () => 'while cancelling a sign-in' },
  setPriming: {
    during: ({ profile, enabled }) =>
      `while turning priming ${enabled ? 'on' : 'off'} for ${profile}`,
    change: 'priming setting',
  },
  primeNow: { during: ({ profile }) => `while priming ${profile}`, change: 'priming' },
  pinSession: {
    during: ({ sessionId, profile }) =>
      profile === null
        ? `while unpinning session ${sessionId}`
        : `while pinning session ${sessionId} to ${profile}`,
    change: 'pin',
  },
  pinRepo: {
    during: ({ path, profile }) =>
      profile === null ? `while unpinning ${path}` : `while pinning ${path} to ${profile}`,
    change: 'pin',
  },
  refreshUsage: {
    during: ({ profile }) => `while reading the usage of ${profile ?? 'every profile'}`,
  },
  profileSignedIn: { during: ({ profile }) => `while taking the sign-in of ${profile}` },
  shutdown: { during: () => 'while stopping', change: 'stop' },
  rotateRouterToken: {
    during: () => 'while replacing the router token',
    change: 'router token rotation',
  },
};

/** `operation` with `input` in the user's words (`operationWords`). */
function describeOperation(operation: keyof typeof operationWords, input: unknown): string {
  return (operationWords[operation].during as (input: unknown) => string)(input);
}

/** The contract, reached over the control API of the router at `url`. */
export class RemoteLab implements LabApi {
  readonly url: string;
  #token: string;
  readonly #rediscover: (() => Promise<string | undefined>) | undefined;
  readonly #onDisconnect: (() => void) | undefined;
  readonly #timers: SilenceTimers;
  /** Calls waiting for an answer: a frozen router ends them at once (see `subscribe`). */
  readonly #pending = new Set<AbortController>();

  constructor(options: {
    url: string;
    token: string;
    /**
     * This router's token as the home holds it now, once the router at `url` proved it holds it
     * too (undefined when it does not): asked after a 401, so a token rotated since
     * (`codex-lab token --rotate`) is picked up and the call tried again with it.
     */
    rediscover?: () => Promise<string | undefined>;
    /** The event stream ended, or fell silent: the router stopped or froze. */
    onDisconnect?: () => void;
    /** The timers the stream's silence is measured on (tests pass a fake clock). */
    clock?: SilenceTimers;
  }) {
    this.url = options.url;
    this.#token = options.token;
    this.#rediscover = options.rediscover;
    this.#onDisconnect = options.onDisconnect;
    this.#timers = options.clock ?? systemClock;
  }

  /**
   * The router token as of now (asked again of the home when this client can, so a link made
   * from it carries a token rotated since), for the desktop app's dashboard link.
   */
  async currentToken(): Promise<string> {
    await this.#adoptRotatedToken();
    return this.#token;
  }

  /** Takes the home's token when it changed and the router proved it holds it; true if so. */
  async #adoptRotatedToken(): Promise<boolean> {
    const found = await this.#rediscover?.().catch(() => undefined);
    if (found === undefined || found === this.#token) return false;
    this.#token = found;
    return true;
  }

  /**
   * The router's state; a router that does not answer, or answers no state, is a
   * `router_unavailable` LabError (one sentence), never a bare network error. `timeoutMs` is how
   * long the router may stay silent (the loopback client's 10 s when omitted).
   */
  async getState(options: { timeoutMs?: number } = {}): Promise<LabState> {
    return decodeLabState(await this.#read('state', 'state', options.timeoutMs));
  }

  /**
   * The router's per-request log, filtered (by run: what `codex-lab codex` says after Codex
   * exits), newest last; failing as `getState` does.
   */
  async getRequests(
    filter: { sessionId?: string; profile?: string; runId?: string },
    options: { timeoutMs?: number } = {},
  ): Promise<RequestView[]> {
    const query = new URLSearchParams();
    if (filter.sessionId !== undefined) query.set('session', filter.sessionId);
    if (filter.profile !== undefined) query.set('profile', filter.profile);
    if (filter.runId !== undefined) query.set('run', filter.runId);
    const route = query.size === 0 ? 'requests' : `requests?${query}`;
    const answer = await this.#read(route, 'request log', options.timeoutMs);
    if (!Array.isArray(answer)) {
      throw new LabError('router_unavailable', `The router at ${this.url} gave no request log.`);
    }
    return answer.map(decodeRequestView);
  }

  /**
   * One view of the control API (`GET /lab/v1/<route>`), asked again once with a rotated token
   * after a 401; a router that does not answer, or answers no JSON object, is a
   * `router_unavailable` LabError naming `what` it did not give.
   */
  async #read(route: string, what: string, timeoutMs: number | undefined): Promise<object> {
    const ask = () =>
      loopbackJson(`${this.url}/lab/v1/${route}`, { token: this.#token, timeoutMs });
    const first = ask();
    // A 401: the token was rotated; asked once more with the new one.
    const answer = await first
      .then(async (reply) =>
        reply.status === 401 && (await this.#adoptRotatedToken()) ? ask() : reply,
      )
      .catch((error: unknown) => {
        throw new LabError(
          'router_unavailable',
          `The router at ${this.url} does not answer (${(error as Error).message}).`,
          { cause: error },
        );
      });
    // A cut-off or non-JSON body is no answer either (it would fail to decode).
    if (answer.status !== 200 || typeof answer.json !== 'object' || answer.json === null) {
      throw new LabError(
        'router_unavailable',
        `The router at ${this.url} gave no ${what} (HTTP ${answer.status}).`,
      );
    }
    return answer.json;
  }

  /**
   * Follows the router's event stream; `listener` gets every state it sends. When the stream
   * ends, or falls silent by the shared rule (`watchStreamSilence`: a frozen router keeps its
   * socket open and sends nothing, not even its heartbeat), `onOffline` gets one sentence, every
   * call still waiting on that router ends as `router_unavailable`, and `onDisconnect` runs —
   * once per subscription.
   */
  subscribe(
    listener: (state: LabState) => void,
    onOffline?: (message: string) => void,
  ): () => void {
    let closed = false;
    let lost = false;
    const lose = (frozen: boolean) => {
      if (closed || lost) return;
      lost = true;
      silence.stop();
      if (frozen) {
        request.destroy();
        for (const waiting of this.#pending) waiting.abort();
      }
      onOffline?.(this.#notAnswering());
      this.#onDisconnect?.();
    };
    const silence = watchStreamSilence(() => lose(true), this.#timers);
    const request: ClientRequest = httpRequest(
      `${this.url}/lab/v1/events`,
      { headers: { authorization: `Bearer ${this.#token}`, accept: 'text/event-stream' } },
      (response) => {
        let buffer = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          // Anything, a heartbeat included, shows the router is alive.
          silence.heard();
          buffer += chunk;
          let end = buffer.indexOf('\n\n');
          while (end !== -1) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block
              .split('\n')
              .filter((line) => line.startsWith('data: '))
              .map((line) => line.slice('data: '.length))
              .join('\n');
            if (/^event: state$/m.test(block) && data !== '') {
              try {
                listener(decodeLabState(JSON.parse(data)));
              } catch {
                // A malformed event is skipped; the next one carries the whole state again.
              }
            }
            end = buffer.indexOf('\n\n');
          }
        });
        response.on('close', () => lose(false));
      },
    );
    request.on('error', () => lose(false));
    request.end();
    return () => {
      closed = true;
      silence.stop();
      request.destroy();
    };
  }

  /** What a surface is told when this router does not answer (each adds its own way out). */
  #notAnswering(): string {
    return `The Codex Lab router at ${this.url} is not answering.`;
  }

  setActive(input: Inputs['setActive']): Promise<ContractResult<null>> {
    return this.#call('setActive', input);
  }
  renameProfile(input: Inputs['renameProfile']): Promise<ContractResult<null>> {
    return this.#call('renameProfile', input, profileChangeAnswerMs);
  }
  removeProfile(
    input: Inputs['removeProfile'],
  ): Promise<ContractResult<{ revoked: 'revoked' | 'skipped' | 'failed' } | null>> {
    return this.#call('removeProfile', input, profileChangeAnswerMs);
  }
  startLogin(input: Inputs['startLogin']): Promise<ContractResult<LoginView>> {
    return this.#call('startLogin', input);
  }
  completeLogin(input: Inputs['completeLogin']): Promise<ContractResult<null>> {
    return this.#call('completeLogin', input, profileChangeAnswerMs);
  }
  cancelLogin(input: Inputs['cancelLogin']): Promise<ContractResult<null>> {
    return this.#call('cancelLogin', input);
  }
  setPriming(input: Inputs['setPriming']): Promise<ContractResult<null>> {
    return this.#call('setPriming', input);
  }
  primeNow(input: Inputs['primeNow']): Promise<ContractResult<PrimingOutcomeView>> {
    return this.#call('primeNow', input, 120_000);
  }
  pinSession(input: Inputs['pinSession']): Promise<ContractResult<PinResult>> {
    return this.#call('pinSession', input);
  }
  pinRepo(input: Inputs['pinRepo']): Promise<ContractResult<PinResult>> {
    return this.#call('pinRepo', input);
  }
  refreshUsage(input: Inputs['refreshUsage']): Promise<ContractResult<UsageRefreshView>> {
    return this.#call('refreshUsage', input, 60_000);
  }
  profileSignedIn(input: HostInputs['profileSignedIn']): Promise<ContractResult<null>> {
    return this.#call('profileSignedIn', input, 60_000);
  }
  shutdown(input: HostInputs['shutdown'] = {}): Promise<ContractResult<ShutdownView>> {
    return this.#call('shutdown', input);
  }
  rotateRouterToken(
    input: HostInputs['rotateRouterToken'],
  ): Promise<ContractResult<TokenRotationView>> {
    return this.#call('rotateRouterToken', input);
  }

  #call<T>(
    operation: keyof typeof operationWords,
    input: unknown,
    timeoutMs = 30_000,
  ): Promise<ContractResult<T>> {
    const call = this.#ask<T>(operation, input, timeoutMs);
    const what = operationWords[operation].change;
    return what === undefined ? call : trackRouterChange({ operation, url: this.url, what }, call);
  }

  async #ask<T>(
    operation: keyof typeof operationWords,
    input: unknown,
    timeoutMs: number,
  ): Promise<ContractResult<T>> {
    const waiting = new AbortController();
    this.#pending.add(waiting);
    try {
      const ask = () =>
        loopbackJson(`${this.url}/lab/v1/${operation}`, {
          method: 'POST',
          token: this.#token,
          body: input,
          timeoutMs,
          signal: waiting.signal,
        });
      let answer = await ask();
      // A 401 is refused before the operation runs, so asking again with a rotated token is safe.
      if (answer.status === 401 && (await this.#adoptRotatedToken())) answer = await ask();
      const result = answer.json as ContractResult<T> | undefined;
      // An older router's answer takes today's shape here, the one place this client reads it.
      if (result && typeof result === 'object' && 'ok' in result) {
        return decodeOperationResult(operation, result);
      }
      return {
        ok: false,
        code: 'router_unavailable',
        message: `The router at ${this.url} gave no answer ${describeOperation(operation, input)} (HTTP ${answer.status}).`,
      };
    } catch {
      // Said without a command: the command line adds how to check and retry, the desktop app
      // its own way (each surface its fix). Only a change is said to be all or nothing: a read
      // (the usage) changes nothing to be unsure of.
      const allOrNothing =
        operationWords[operation].change === undefined
          ? ''
          : '; it applies a change fully or not at all';
      return {
        ok: false,
        code: 'router_unavailable',
        message: `The router at ${this.url} stopped answering ${describeOperation(operation, input)}${allOrNothing}.`,
      };
    } finally {
      this.#pending.delete(waiting);
    }
  }
}
