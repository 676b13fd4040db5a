/**
 * The contract over the control API: what a client uses while a router runs for its home (the
 * CLI's state-changing commands, a desktop app attached to a running `serve`). Each operation is
 * `POST /lab/v1/<operation>`; `subscribe` follows `GET /lab/v1/events`. A router that stops
 * answering mid-operation is one `router_unavailable` result naming it — the router applies each
 * operation fully or not at all, so running the command again is always safe.
 */
import { request as httpRequest, type ClientRequest } from 'node:http';
import type {
  ContractResult,
  HostInputs,
  Inputs,
  LabApi,
  LabState,
  LoginView,
  PrimingOutcomeView,
  ShutdownView,
} from './contract.ts';
import { LabError } from '../errors.ts';
import { decodeLabState } from '../view-types.ts';
import { loopbackJson } from './loopback-http.ts';

/** The contract, reached over the control API of the router at `url`. */
export class RemoteLab implements LabApi {
  readonly url: string;
  readonly #token: string;
  readonly #onDisconnect: (() => void) | undefined;

  constructor(options: { url: string; token: string; onDisconnect?: () => void }) {
    this.url = options.url;
    this.#token = options.token;
    this.#onDisconnect = options.onDisconnect;
  }

  /**
   * The router's state; a router that does not answer, or answers no state, is a
   * `router_unavailable` LabError (one sentence), never a bare network error.
   */
  async getState(): Promise<LabState> {
    const answer = await loopbackJson(`${this.url}/lab/v1/state`, { token: this.#token }).catch(
      (error: unknown) => {
        throw new LabError(
          'router_unavailable',
          `The router at ${this.url} does not answer (${(error as Error).message}); check it with codex-lab status.`,
          { cause: error },
        );
      },
    );
    // A cut-off or non-JSON body is no state either (it would fail to decode).
    if (answer.status !== 200 || typeof answer.json !== 'object' || answer.json === null) {
      throw new LabError(
        'router_unavailable',
        `The router at ${this.url} gave no state (HTTP ${answer.status}); check it with codex-lab status.`,
      );
    }
    return decodeLabState(answer.json);
  }

  /** Follows the router's event stream; `listener` gets every state it sends. */
  subscribe(listener: (state: LabState) => void): () => void {
    let request: ClientRequest | null = null;
    let closed = false;
    request = httpRequest(
      `${this.url}/lab/v1/events`,
      { headers: { authorization: `Bearer ${this.#token}`, accept: 'text/event-stream' } },
      (response) => {
        let buffer = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
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
        response.on('close', () => {
          if (!closed) this.#onDisconnect?.();
        });
      },
    );
    request.on('error', () => {
      if (!closed) this.#onDisconnect?.();
    });
    request.end();
    return () => {
      closed = true;
      request?.destroy();
    };
  }

  setActive(input: Inputs['setActive']): Promise<ContractResult<null>> {
    return this.#call('setActive', input);
  }
  renameProfile(input: Inputs['renameProfile']): Promise<ContractResult<null>> {
    return this.#call('renameProfile', input);
  }
  removeProfile(
    input: Inputs['removeProfile'],
  ): Promise<ContractResult<{ revoked: 'revoked' | 'skipped' | 'failed' } | null>> {
    return this.#call('removeProfile', input);
  }
  startLogin(input: Inputs['startLogin']): Promise<ContractResult<LoginView>> {
    return this.#call('startLogin', input);
  }
  completeLogin(input: Inputs['completeLogin']): Promise<ContractResult<null>> {
    return this.#call('completeLogin', input);
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
  pinSession(input: Inputs['pinSession']): Promise<ContractResult<null>> {
    return this.#call('pinSession', input);
  }
  pinRepo(input: Inputs['pinRepo']): Promise<ContractResult<null>> {
    return this.#call('pinRepo', input);
  }
  refreshUsage(input: Inputs['refreshUsage']): Promise<ContractResult<null>> {
    return this.#call('refreshUsage', input, 60_000);
  }
  profileSignedIn(input: HostInputs['profileSignedIn']): Promise<ContractResult<null>> {
    return this.#call('profileSignedIn', input, 60_000);
  }
  shutdown(input: HostInputs['shutdown'] = {}): Promise<ContractResult<ShutdownView>> {
    return this.#call('shutdown', input);
  }

  async #call<T>(
    operation: string,
    input: unknown,
    timeoutMs = 30_000,
  ): Promise<ContractResult<T>> {
    try {
      const answer = await loopbackJson(`${this.url}/lab/v1/${operation}`, {
        method: 'POST',
        token: this.#token,
        body: input,
        timeoutMs,
      });
      const result = answer.json as ContractResult<T> | undefined;
      if (result && typeof result === 'object' && 'ok' in result) return result;
      return {
        ok: false,
        code: 'router_unavailable',
        message: `The router at ${this.url} gave no answer to ${operation} (HTTP ${answer.status}).`,
      };
    } catch {
      return {
        ok: false,
        code: 'router_unavailable',
        message: `The router at ${this.url} stopped answering during ${operation}; it applies a change fully or not at all, so check with codex-lab list and run the command again.`,
      };
    }
  }
}
