/**
 * Device-code sign-in (`codex-lab login --device`, research section 1.7): ask for a user code,
 * show it with `{issuer}/codex/device`, poll until the user approves, then exchange the code the
 * issuer hands back (with its own PKCE pair) and save the profile. No API-key exchange.
 */
import { randomUUID } from 'node:crypto';
import { isLabError, LabError } from '../errors.ts';
import { runCritical } from '../home/critical.ts';
import { minute, second, type Cancel } from '../ports.ts';
import { codexClientId } from './constants.ts';
import { parseJsonBody, sendRequest, type HttpAnswer, type HttpRequest } from './http.ts';
import {
  describeSignInLimit,
  exchangeAuthorizationCode,
  saveSignIn,
  type SignInEnvironment,
  type SignInResult,
  readRequestedName,
  withRetryFix,
} from './sign-in.ts';
import { outboundFetch } from '../net/outbound-fetch.ts';

/** The issuer's answer to the user-code request. */
export interface DeviceCode {
  deviceAuthId: string;
  userCode: string;
  /** Seconds between polls. */
  intervalSeconds: number;
}

/** What a poll yields: still pending, or the code and PKCE pair to exchange. */
export type DevicePoll =
  | { pending: true }
  | { pending: false; authorizationCode: string; codeVerifier: string; codeChallenge: string };

/** Codex gives up after 15 minutes. */
export const deviceCodeLifetimeMs = 15 * minute;

/** `POST {issuer}/api/accounts/deviceauth/usercode` with `{client_id}`. */
export function buildUserCodeRequest(issuer: string): HttpRequest {
  return {
    url: `${issuer}/api/accounts/deviceauth/usercode`,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ client_id: codexClientId }),
  };
}

/** Reads the user-code answer; 404 means the issuer has no device-code login. */
export function processUserCodeAnswer(answer: HttpAnswer): DeviceCode {
  if (answer.status === 404) {
    throw new LabError(
      'device_code_unsupported',
      'Device code sign-in is not enabled for this issuer: sign in through the browser instead.',
    );
  }
  const json = parseJsonBody(answer.body) as Record<string, unknown> | undefined;
  const userCode = json?.['user_code'] ?? json?.['usercode'];
  const deviceAuthId = json?.['device_auth_id'];
  if (
    answer.status < 200 ||
    answer.status >= 300 ||
    typeof userCode !== 'string' ||
    typeof deviceAuthId !== 'string'
  ) {
    throw new LabError(
      'token_exchange_failed',
      `Device code request failed with status ${answer.status}. Try again, or use the browser sign-in.`,
    );
  }
  const interval = Number.parseInt(String(json?.['interval'] ?? '5'), 10);
  return {
    deviceAuthId,
    userCode,
    intervalSeconds: Number.isFinite(interval) && interval > 0 ? interval : 5,
  };
}

/** `POST {issuer}/api/accounts/deviceauth/token` with `{device_auth_id, user_code}`. */
export function buildDeviceTokenRequest(issuer: string, code: DeviceCode): HttpRequest {
  return {
    url: `${issuer}/api/accounts/deviceauth/token`,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ device_auth_id: code.deviceAuthId, user_code: code.userCode }),
  };
}

/** Reads a poll answer: 403 and 404 mean "not yet approved". */
export function processDeviceTokenAnswer(answer: HttpAnswer): DevicePoll {
  if (answer.status === 403 || answer.status === 404) return { pending: true };
  const json = parseJsonBody(answer.body) as Record<string, unknown> | undefined;
  const authorizationCode = json?.['authorization_code'];
  const codeVerifier = json?.['code_verifier'];
  const codeChallenge = json?.['code_challenge'];
  if (
    answer.status < 200 ||
    answer.status >= 300 ||
    typeof authorizationCode !== 'string' ||
    typeof codeVerifier !== 'string'
  ) {
    throw new LabError(
      'token_exchange_failed',
      `Device code sign-in failed: the issuer answered status ${answer.status}.`,
    );
  }
  return {
    pending: false,
    authorizationCode,
    codeVerifier,
    codeChallenge: typeof codeChallenge === 'string' ? codeChallenge : '',
  };
}

/** Options for `startDeviceLogin`. */
export interface StartDeviceLoginOptions extends SignInEnvironment {
  requestedName: string | null;
  /** Give up after this long (at most Codex's 15 minutes). */
  timeoutMs?: number;
}

/** A device-code sign-in in progress. */
export interface DeviceLoginHandle {
  id: string;
  /** Where the user enters the code: `{issuer}/codex/device`. */
  verificationUrl: string;
  /** The code to enter there (not a secret on its own; it expires in 15 minutes). */
  userCode: string;
  done: Promise<SignInResult>;
  /** Cancels while the approval is awaited; once the approved code is exchanged, no effect. */
  cancel(): void;
}

/** Requests a user code and starts polling; `done` settles when approved, timed out or cancelled. */
export async function startDeviceLogin(
  options: StartDeviceLoginOptions,
): Promise<DeviceLoginHandle> {
  const requestedName = readRequestedName(options.requestedName);
  const fetch = options.fetch ?? outboundFetch;
  const logger = options.logger.child({ component: 'device-login' });
  const code = processUserCodeAnswer(
    await sendRequest(
      fetch,
      buildUserCodeRequest(options.issuer),
      30 * second,
      'token_exchange_failed',
    ),
  );
  const limitMs = Math.min(options.timeoutMs ?? deviceCodeLifetimeMs, deviceCodeLifetimeMs);
  const deadline = options.clock.now() + limitMs;
  let ended: LabError | null = null;
  let wake: (() => void) | null = null;
  let cancelSleep: Cancel = () => undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      cancelSleep = options.clock.setTimeout(resolve, ms);
    });
  let exchanging = false;
  const end = (error: LabError) => {
    if (exchanging) return;
    ended ??= error;
    cancelSleep();
    wake?.();
  };

  const run = async (): Promise<SignInResult> => {
    for (;;) {
      if (ended) throw ended;
      if (options.clock.now() >= deadline) {
        throw new LabError(
          'auth_timeout',
          `Device code sign-in was not approved within ${describeSignInLimit(limitMs)}.`,
        );
      }
      const poll = processDeviceTokenAnswer(
        await sendRequest(
          fetch,
          buildDeviceTokenRequest(options.issuer, code),
          30 * second,
          'token_exchange_failed',
        ),
      );
      if (ended) throw ended;
      if (!poll.pending) {
        // The user has approved: from here a cancel no longer ends the sign-in, since the
        // exchanged tokens exist only here until saved (a signal waits for this stretch too).
        exchanging = true;
        return runCritical(async () => {
          const tokens = await exchangeAuthorizationCode(options, {
            code: poll.authorizationCode,
            redirectUri: `${options.issuer}/deviceauth/callback`,
            codeVerifier: poll.codeVerifier,
          });
          return saveSignIn(options, tokens, null, requestedName);
        });
      }
      await sleep(
        Math.min(code.intervalSeconds * second, Math.max(0, deadline - options.clock.now())),
      );
    }
  };

  const done = run().catch((error: unknown) => {
    if (!isLabError(error)) {
      logger.error({ err: error }, 'device sign-in failed unexpectedly');
      throw error;
    }
    throw withRetryFix(error, requestedName, 'device');
  });
  done.catch(() => undefined);
  return {
    id: randomUUID(),
    verificationUrl: `${options.issuer}/codex/device`,
    userCode: code.userCode,
    done,
    cancel: () => end(new LabError('auth_cancelled', 'Sign-in was cancelled.')),
  };
}
