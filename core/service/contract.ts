/**
 * The one typed contract every surface uses: the Electron renderer over IPC (window.codexLab),
 * the web dashboard over the control API (`/lab/v1/`), and the CLI.
 *
 * Views hold no secrets: no access, refresh or id token, and no router token, ever.
 * Times are ISO strings. Inputs are zod schemas so every transport checks their shape the same way.
 * This file imports only zod and the view types (`core/view-types.ts`), so the renderer may import it.
 */
import { z } from 'zod';
import type {
  ContractResult,
  LoginView,
  PinResult,
  PrimingOutcomeView,
  LabState,
  UsageRefreshView,
} from '../view-types.ts';

export type * from '../view-types.ts';

/**
 * A profile name, a session id, a path: the contract checks only that it is text. What a value
 * may hold (a name's characters and length, a session id's, a folder) is the operations layer's
 * rule, written once in the core, so every surface — the CLI on the files, IPC, the control API —
 * refuses it with the same code and sentence. The control API's body limit bounds the size.
 */
const text = z.string();

/** Inputs of every operation, shape-checked identically by IPC handlers and the control API. */
export const inputSchemas = {
  setActive: z.object({ profile: text }),
  renameProfile: z.object({ from: text, to: text }),
  removeProfile: z.object({
    profile: text,
    revoke: z.boolean().default(false),
    /** With `revoke`: remove even when the issuer did not confirm the revoke. */
    force: z.boolean().default(false),
  }),
  startLogin: z.object({
    name: text.nullable().default(null),
    popup: z.boolean().default(false),
    /** `device`: a code entered on the issuer's page, for a browser on another machine. */
    method: z.enum(['browser', 'device']).default('browser'),
    /**
     * Add account: `name` is for a new profile, so one a profile has is refused (`name_taken`)
     * before the sign-in starts; false (Sign in again, `codex-lab login NAME`) renews it.
     */
    newProfile: z.boolean().default(false),
  }),
  completeLogin: z.object({
    id: text,
    /** The address the browser showed after approving (`…/auth/callback?code=…&state=…`). */
    callbackUrl: text,
  }),
  cancelLogin: z.object({ id: text }),
  setPriming: z.object({ profile: text, enabled: z.boolean() }),
  primeNow: z.object({ profile: text, dryRun: z.boolean().default(false) }),
  pinSession: z.object({
    sessionId: text,
    profile: text.nullable(),
    allowFallback: z.boolean().default(false),
  }),
  pinRepo: z.object({
    path: text,
    profile: text.nullable(),
    allowFallback: z.boolean().default(false),
  }),
  refreshUsage: z.object({ profile: text.nullable().default(null) }),
} as const;

/** The input type of each operation. */
export type Inputs = { [K in keyof typeof inputSchemas]: z.input<(typeof inputSchemas)[K]> };

/**
 * Operations the control API offers to local clients (the CLI, a desktop app attached to a
 * running `serve`) but the renderer never needs: a sign-in the client saved itself, a clean
 * shutdown of the router (`codex-lab stop`), and a new router token (`codex-lab token --rotate`).
 */
export const hostInputSchemas = {
  profileSignedIn: z.object({ profile: text }),
  shutdown: z.object({}),
  /**
   * `codex-lab token --rotate`: write a new router token and adopt it; the old one stays accepted
   * for a grace period unless `revokeOld`.
   */
  rotateRouterToken: z.object({ revokeOld: z.boolean().default(false) }),
} as const;

/** The input type of each host operation. */
export type HostInputs = {
  [K in keyof typeof hostInputSchemas]: z.input<(typeof hostInputSchemas)[K]>;
};

/** Every operation the control API takes, by name. */
export const allInputSchemas = { ...inputSchemas, ...hostInputSchemas } as const;

/**
 * Checks the shape of one operation's input, identically on every transport (IPC, the control
 * API): one code, `invalid_argument`, and one sentence naming the field. Values of the right
 * shape are the operation's to judge.
 */
export function parseOperationInput<K extends keyof typeof allInputSchemas>(
  operation: K,
  input: unknown,
): ContractResult<z.output<(typeof allInputSchemas)[K]>> {
  const parsed = allInputSchemas[operation].safeParse(input);
  if (parsed.success) {
    return { ok: true, value: parsed.data as z.output<(typeof allInputSchemas)[K]> };
  }
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at "${issue.path.join('.')}"` : '';
  return {
    ok: false,
    code: 'invalid_argument',
    message: `Invalid input for ${operation}${where}: ${issue?.message ?? 'unexpected shape'}.`,
  };
}

/**
 * The operations every surface offers. The renderer's `window.codexLab` and the web dashboard's
 * bridge both implement this; `subscribe` delivers a fresh `LabState` whenever it changes.
 */
export interface LabApi {
  getState(): Promise<LabState>;
  /**
   * Follows the state. `onOffline`, when the API can lose its service (the web dashboard's event
   * stream, `RemoteLab`'s, and so the desktop app attached to a `serve`), hears one sentence each
   * time the stream drops, falls silent or is refused; the next state `listener` gets means the
   * service is back. An API that cannot lose it (the service hosted in-process) never calls it.
   */
  subscribe(listener: (state: LabState) => void, onOffline?: (message: string) => void): () => void;
  setActive(input: Inputs['setActive']): Promise<ContractResult<null>>;
  renameProfile(input: Inputs['renameProfile']): Promise<ContractResult<null>>;
  /** The value says how the revoke ended when one was asked for, else null. */
  removeProfile(
    input: Inputs['removeProfile'],
  ): Promise<ContractResult<{ revoked: 'revoked' | 'skipped' | 'failed' } | null>>;
  startLogin(input: Inputs['startLogin']): Promise<ContractResult<LoginView>>;
  cancelLogin(input: Inputs['cancelLogin']): Promise<ContractResult<null>>;
  /** Finishes a browser sign-in with a callback address pasted by the user. */
  completeLogin(input: Inputs['completeLogin']): Promise<ContractResult<null>>;
  setPriming(input: Inputs['setPriming']): Promise<ContractResult<null>>;
  primeNow(input: Inputs['primeNow']): Promise<ContractResult<PrimingOutcomeView>>;
  pinSession(input: Inputs['pinSession']): Promise<ContractResult<PinResult>>;
  pinRepo(input: Inputs['pinRepo']): Promise<ContractResult<PinResult>>;
  refreshUsage(input: Inputs['refreshUsage']): Promise<ContractResult<UsageRefreshView>>;
}

/** Operation names that take input (everything but getState/subscribe). */
export type OperationName = keyof typeof inputSchemas;

/**
 * Control API routes under `/lab/v1/` (same bearer token as the router). Each operation is
 * `POST /lab/v1/<operation>` with the JSON input as body and a `ContractResult` as answer;
 * state is `GET /lab/v1/state`, live updates are `GET /lab/v1/events` (SSE, `event: state`).
 * Read-only views: `GET /lab/v1/profiles`, `/sessions`, `/pins`, `/decisions`, `/priming`.
 */
export const controlApiPrefix = '/lab/v1';
