/**
 * How Codex Lab's own calls to OpenAI present themselves (usage polls, refreshes, priming, the
 * router's usage reads): with the headers Codex sends (docs/codex-0.171-notes.md section 1),
 * not an HTTP library's defaults, so they look like the Codex traffic they stand in for.
 */
import { arch, release, type } from 'node:os';
import { acceptedEncodings } from '../net/content-encoding.ts';
import { codexOriginator } from './constants.ts';

/** The Codex version these calls claim: the newest measured (docs/codex-0.171-notes.md). */
export const codexClientVersion = '0.171.0';

let platformCache: string | undefined;

/** `os release; arch` as Codex writes it in its User-Agent, e.g. `Linux 6.1.0; x86_64`. */
export function codexPlatform(): string {
  platformCache ??= `${type()} ${release()}; ${arch() === 'x64' ? 'x86_64' : arch() === 'arm64' ? 'aarch64' : arch()}`;
  return platformCache;
}

/**
 * Codex's identity headers for a call Codex Lab makes itself: `originator`, a Codex-shaped
 * `User-Agent` (its terminal field says `codex-lab`), `accept` and Codex's `accept-encoding`
 * (the clients that send these decode the answer: `outboundFetch`, the router's pool read).
 * The only builder of these
 * headers, and the platform is always this machine's (no caller can give another): a priming turn
 * once claimed `Unknown; unknown`, a platform no real Codex reports. Sent through `outboundFetch`
 * (net/outbound-fetch.ts), which adds nothing of its own.
 */
export function codexClientHeaders(accept: string): Record<string, string> {
  return {
    originator: codexOriginator,
    'user-agent': `${codexOriginator}/${codexClientVersion} (${codexPlatform()}) codex-lab`,
    accept,
    'accept-encoding': acceptedEncodings,
  };
}
