/**
 * The fake ChatGPT's side endpoints that Codex calls on `chatgpt_base_url` with the user's own
 * ChatGPT token when its `CODEX_HOME` holds a ChatGPT login (research/codex-0.171-notes.md
 * section 3): plugins (`ps/plugins/*`), the hosted MCP server (`ps/mcp`, JSON-RPC over HTTP),
 * settings (`wham/settings/user`), `wham/rate-limit-reset-credits`, `wham/accounts/check` and
 * analytics (`codex/analytics-events/events`). Each accepts only a valid ChatGPT access token of a
 * known account (the MCP session's `initialize` may come without any); anything else (a router
 * token, say) is answered 401 with `WWW-Authenticate`, which is what makes Codex's MCP client report
 * `AuthRequired`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  accountForBearer,
  chooseAnswerEncoding,
  sendJson,
  sendUnauthorized,
} from './fake-backend.ts';
import type { FakeAccount } from './accounts.ts';
import type { FakeChatGpt, FakeHandler } from './fake-chatgpt.ts';

const sidePaths = [
  /^\/backend-api\/ps\/plugins(\/.*)?$/,
  /^\/backend-api\/ps\/mcp(\/.*)?$/,
  /^\/backend-api\/wham\/settings\/user$/,
  /^\/backend-api\/wham\/rate-limit-reset-credits$/,
  /^\/backend-api\/wham\/accounts\/check$/,
  /^\/backend-api\/codex\/analytics-events\/events$/,
];

/** True for a path this handler owns. */
export function isChatGptSidePath(path: string): boolean {
  return sidePaths.some((pattern) => pattern.test(path));
}

function answerMcp(response: ServerResponse, raw: Buffer): void {
  let message: { id?: unknown; method?: unknown; params?: { protocolVersion?: unknown } };
  try {
    message = JSON.parse(raw.toString('utf8')) as typeof message;
  } catch {
    sendJson(response, 400, {
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: 'Parse error' },
    });
    return;
  }
  if (message.id === undefined) {
    // A notification (e.g. notifications/initialized): accepted, no body.
    response.writeHead(202);
    response.end();
    return;
  }
  const result =
    message.method === 'initialize'
      ? {
          protocolVersion:
            typeof message.params?.protocolVersion === 'string'
              ? message.params.protocolVersion
              : '2025-06-18',
          capabilities: { tools: { listChanged: false } },
          serverInfo: { name: 'codex_apps', version: '1.0.0' },
        }
      : message.method === 'tools/list'
        ? { tools: [] }
        : {};
  sendJson(response, 200, { jsonrpc: '2.0', id: message.id, result });
}

function answerFor(path: string): unknown {
  if (path.startsWith('/backend-api/ps/plugins/installed')) {
    return { plugins: [], pagination: { limit: 1000, next_page_token: null } };
  }
  if (path.startsWith('/backend-api/ps/plugins/suggested')) return { plugins: [] };
  if (path.startsWith('/backend-api/ps/plugins')) return {};
  return {};
}

const isoOrNull = (seconds: number | null) =>
  seconds === null ? null : new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

/**
 * The `wham/rate-limit-reset-credits` answer (shape in docs/quota.md "Reset credits"):
 * `available_count` and the `credits` list, times as ISO-8601 strings.
 */
export function resetCreditsPayload(account: FakeAccount): Record<string, unknown> {
  const credits = Array.isArray(account.resetCredits) ? account.resetCredits : [];
  return {
    available_count: credits.filter((credit) => credit.status === 'available').length,
    credits: credits.map((credit) => ({
      id: credit.id,
      reset_type: credit.resetType,
      status: credit.status,
      granted_at: isoOrNull(credit.grantedAt),
      expires_at: isoOrNull(credit.expiresAt),
      title: credit.title,
      description: null,
    })),
  };
}

/** Serves the side endpoints; loaded by `startFakeChatGpt` after the backend handler. */
export const handleChatGptSideRequest: FakeHandler = (
  fake: FakeChatGpt,
  request: IncomingMessage,
  response: ServerResponse,
  raw: Buffer,
) => {
  const url = new URL(request.url ?? '/', fake.issuerUrl);
  const path = url.pathname.replace(/\/+$/, '');
  if (!isChatGptSidePath(path)) return false;
  chooseAnswerEncoding(fake, request, response);
  const isMcp = path.startsWith('/backend-api/ps/mcp') && request.method === 'POST';
  // Codex opens the hosted MCP session without credentials (measured: `initialize` carries no
  // Authorization) and the server lets it; a bearer that is present must be valid.
  const anonymousMcp = isMcp && request.headers.authorization === undefined;
  const check = anonymousMcp ? null : accountForBearer(fake, request.headers.authorization);
  if (check && !check.ok) {
    response.setHeader('www-authenticate', 'Bearer realm="OpenAI"');
    sendUnauthorized(response, check.reason);
    return true;
  }
  if (isMcp) {
    answerMcp(response, raw);
    return true;
  }
  if (path === '/backend-api/codex/analytics-events/events') {
    response.writeHead(202);
    response.end();
    return true;
  }
  if (path === '/backend-api/wham/rate-limit-reset-credits' && check?.ok) {
    const { account } = check;
    // An account that lost access answers 401 here as on `wham/usage`.
    if (account.usageFailure === 'unauthorized' || account.resetCredits === 'unauthorized') {
      sendUnauthorized(response, 'unknown');
    } else if (account.resetCredits === 'not_found') {
      sendJson(response, 404, { detail: 'Not Found' });
    } else if (account.resetCredits === 'server_error') {
      sendJson(response, 500, { detail: 'Internal Server Error' });
    } else {
      sendJson(response, 200, resetCreditsPayload(account));
    }
    return true;
  }
  if (path === '/backend-api/wham/accounts/check' && check?.ok) {
    sendJson(response, 200, accountsCheckPayload(check.account));
    return true;
  }
  sendJson(response, 200, answerFor(path));
  return true;
};

/**
 * The `wham/accounts/check` answer: the workspaces the token's user belongs to (here its one
 * account). Codex 0.171 signed in with ChatGPT reads it before its first turn ("workspace routing
 * discovery") and stops with "selected workspace missing from routing discovery" when the login's
 * account is not listed.
 */
export function accountsCheckPayload(account: FakeAccount): Record<string, unknown> {
  return {
    accounts: [
      {
        id: account.accountId,
        name: null,
        profile_picture_url: null,
        structure: 'personal',
        // NO_CONSTRAINT: no residency or backend constraint, as on a personal plan.
        workspace_backend_origin: account.workspace?.origin ?? 'NO_CONSTRAINT',
        account_routing_override: account.workspace?.routingOverride ?? 'NO_CONSTRAINT',
      },
    ],
    account_ordering: [account.accountId],
    default_account_id: account.accountId,
  };
}
