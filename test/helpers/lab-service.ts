/**
 * A `LabService` wired to the fake ChatGPT the way the integration tests use it: real profiles
 * saved through the real store, no renderer, no usage polling, and optionally a debug logger
 * whose every line is kept so a test can search the log for planted tokens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../../core/config.ts';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { createLogger } from '../../core/log.ts';
import { silentLogger, systemClock, type Clock, type Logger } from '../../core/ports.ts';
import type { KeyringPort } from '../../core/profiles/keyring.ts';
import type { AuthDotJson } from '../../core/profiles/schema.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { LabService } from '../../core/service/lab-service.ts';
import { startRouterHost, type HostedRouter } from '../../core/service/router-host.ts';
import type { FakeAccountInit } from '../fakes/accounts.ts';
import { startFakeChatGpt, trustFakeTlsCa, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { issueAuthDotJson } from '../fakes/fake-issuer.ts';

/** Saves one profile per `[email, name]` through the real store, signed in at the fake issuer. */
export async function signInProfiles(
  fake: FakeChatGpt,
  paths: LabPaths,
  profiles: ReadonlyArray<readonly [email: string, name: string]>,
): Promise<void> {
  const store = new ProfileStore({ paths });
  for (const [email, name] of profiles) {
    await store.saveSignIn({
      auth: issueAuthDotJson(fake, email) as AuthDotJson,
      requestedName: name,
    });
  }
}

/** A debug-level logger that appends every written line to `lines`, scrubbing `secrets`. */
export function capturingLogger(secrets: () => readonly string[] = () => []): {
  lines: string[];
  logger: Logger;
} {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void lines.push(line) },
    secrets,
  });
  return { lines, logger };
}

/** A `LabService` against `fake` (issuer and backend), without renderer or usage polling. */
export function createTestLabService(
  fake: FakeChatGpt,
  paths: LabPaths,
  options: {
    logger?: Logger;
    env?: Record<string, string>;
    clock?: Clock;
    /** The keychain for keyring profiles (default the system's). */
    keyring?: KeyringPort;
    /** What opens a sign-in page (default the system browser). */
    openBrowser?: (url: string) => unknown;
  } = {},
): LabService {
  return new LabService({
    paths,
    config: readConfig({
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
      ...options.env,
    }),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
    rendererDir: null,
    usagePollMs: 0,
    ...(options.keyring ? { keyring: options.keyring } : {}),
    ...(options.openBrowser ? { openBrowser: options.openBrowser } : {}),
  });
}

/** A `LabService` router on port 0 against its own fake ChatGPT, in a temporary home. */
export interface TestRouter {
  fake: FakeChatGpt;
  home: string;
  paths: LabPaths;
  service: LabService;
  url: string;
  /** The router token clients present. */
  token: string;
  /** Every debug log line, with the router token scrubbed (empty unless `captureLog`). */
  logLines: string[];
  /**
   * Stops the router and the fake, and removes the home. Safe to call more than once (a test may
   * close its router early; its teardown closes it again).
   */
  close(): Promise<void>;
}

/** Starts a fake ChatGPT with `accounts`, signs in `profiles`, and starts a router on port 0. */
export async function startTestRouter(options: {
  homePrefix: string;
  accounts: FakeAccountInit[];
  profiles: ReadonlyArray<readonly [email: string, name: string]>;
  captureLog?: boolean;
  /** Extra settings for the service (`CODEX_LAB_*`). */
  env?: Record<string, string>;
  /** Runs on the fake before the router starts (e.g. to enable its WebSocket side). */
  prepareFake?: (fake: FakeChatGpt) => void;
  /** The fake serves HTTPS and WSS, and this process trusts its test CA (`trustFakeTlsCa`). */
  tls?: boolean;
  /**
   * Registered as the home's router (`state/router.json`), as `serve` and the app are, so a
   * client that looks for the home's router (`codex-lab codex`) finds it.
   */
  hosted?: boolean;
  /** The service's clock (default: the system's). */
  clock?: Clock;
}): Promise<TestRouter> {
  // Filled with the router token once the service has made it.
  const secrets: string[] = [];
  const log = capturingLogger(() => secrets);
  const home = mkdtempSync(join(tmpdir(), options.homePrefix));
  const paths = labPaths(home);
  const started: { fake?: FakeChatGpt; service?: LabService; hosted?: HostedRouter } = {};
  let closing: Promise<void> | undefined;
  // Whatever has started stops, then the home goes, even when a step fails; once only.
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      try {
        await (started.hosted ?? started.service)?.stop();
        await started.fake?.close();
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    })());
  try {
    if (options.tls) trustFakeTlsCa();
    const fake = (started.fake = await startFakeChatGpt({
      accounts: options.accounts,
      ...(options.tls ? { tls: true } : {}),
    }));
    await signInProfiles(fake, paths, options.profiles);
    options.prepareFake?.(fake);
    const service = (started.service = createTestLabService(fake, paths, {
      ...(options.captureLog ? { logger: log.logger } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    }));
    const token = await service.routerToken();
    secrets.push(token);
    const { url } = options.hosted
      ? (started.hosted = await startRouterHost(service, { paths, port: 0, kind: 'serve' }))
      : await service.start({ port: 0 });
    return { fake, home, paths, service, url, token, logLines: log.lines, close };
  } catch (error) {
    // A router that never started leaves no home behind either.
    await close().catch(() => undefined);
    throw error;
  }
}

/** The body of one Codex turn ("hi", streamed, not stored); `session` sets `prompt_cache_key`. */
export function codexTurnBody(
  options: { session?: string; model?: string; instructions?: string } = {},
): Record<string, unknown> {
  return {
    model: options.model ?? 'gpt-5.5',
    instructions: options.instructions ?? '',
    input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
    stream: true,
    store: false,
    ...(options.session === undefined ? {} : { prompt_cache_key: options.session }),
  };
}

/**
 * One Codex turn of `session` through the router at `url`, read to its end as Codex reads it;
 * `headers` are sent besides the router token (e.g. Codex's `session_id`).
 */
export async function turnThroughRouter(
  url: string,
  token: string,
  session: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  const answer = await postToRouter(
    url,
    token,
    '/backend-api/codex/responses',
    codexTurnBody({ session }),
    headers,
  );
  await answer.text();
  return answer;
}

/** One turn of `session` through the router: the profile that answered it, and why. */
export async function routedTurn(
  url: string,
  token: string,
  session: string,
): Promise<{ profile: string | null; route: string | null }> {
  const answer = await turnThroughRouter(url, token, session);
  return {
    profile: answer.headers.get('x-codex-lab-profile'),
    route: answer.headers.get('x-codex-lab-route'),
  };
}

/** POSTs `body` as JSON to the router at `url` + `path` with the router token. */
export function postToRouter(
  url: string,
  token: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}
