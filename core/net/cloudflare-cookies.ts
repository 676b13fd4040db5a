/**
 * Cloudflare's infrastructure cookies, kept and returned per account as Codex keeps them.
 *
 * Codex 0.171 keeps a jar of Cloudflare's own cookies for ChatGPT hosts
 * (`codex-rs/http-client/src/chatgpt_cloudflare_cookies.rs`: bot management, challenge
 * clearance, load-balancer affinity) and sends them back on every later request to chatgpt.com:
 * turns, WebSocket handshakes, plugins, usage. Through the router Codex talks to 127.0.0.1, where
 * it keeps none, so the router keeps them in its place. Only Codex's allowlist of names is ever
 * kept (never a session or account cookie), and one jar per account: native Codex runs one
 * account per process, and a shared jar would tie the pool's accounts together upstream.
 */
import { parseCookie } from 'undici';

/** True for a cookie name Codex keeps for ChatGPT hosts (Cloudflare's service cookies). */
export function isCloudflareCookieName(name: string): boolean {
  return cloudflareNames.has(name) || name.startsWith('cf_chl_');
}

const cloudflareNames: ReadonlySet<string> = new Set([
  '__cf_bm',
  '__cflb',
  '__cfruid',
  '__cfseq',
  '__cfwaitingroom',
  '_cfuvid',
  'cf_clearance',
  'cf_ob_info',
  'cf_use_ob',
]);

/** One kept cookie: its value and when it stops counting (ms), or null for the session. */
interface KeptCookie {
  value: string;
  expiresAt: number | null;
}

/** Accounts kept at most (least recently used dropped first): a bound, not a working limit. */
const maxJars = 1_000;
/** Cookies kept per account at most (Codex's allowlist names nine, plus challenge ones). */
const maxCookiesPerJar = 32;
/** A value longer than this is not kept (Cloudflare's are well under 1 KB). */
const maxValueLength = 4_096;

/** The jars of every account Codex Lab talks to ChatGPT for; `now` is the caller's clock (ms). */
export interface CloudflareCookieJars {
  /** Keeps the Cloudflare cookies among an answer's `Set-Cookie` headers in jar `key`. */
  remember(key: string, setCookie: string | string[] | undefined, now: number): void;
  /** The `Cookie` header to send from jar `key` (`cookieJarKey`), or undefined when it is empty. */
  cookieHeader(key: string, now: number): string | undefined;
}

/**
 * The jar of one account at one origin (a cookie belongs to the host that set it): `account` is
 * the request's `ChatGPT-Account-Id`, or none for a request that names no account (Codex's hosted
 * MCP session opens without one).
 */
export function cookieJarKey(origin: string, account: string | undefined): string {
  return `${origin} ${account ?? ''}`;
}

/** Origins already read (`cookieOrigin`): a request's origin is parsed once, not per request. */
const origins = new Map<string, string>();

/**
 * The origin a jar is kept for (`cookieJarKey`), from a URL or an origin as the HTTP client takes
 * it; a WebSocket URL's is its HTTP origin's, so a handshake and the HTTP requests share one
 * host's cookies. Remembered per text: the router's requests name a few origins, over and over.
 */
export function cookieOrigin(url: string | URL): string {
  if (typeof url !== 'string') return url.origin;
  let origin = origins.get(url);
  if (origin === undefined) {
    origin = new URL(url.replace(/^ws(s?):/, 'http$1:')).origin;
    // A bound, not a working limit: the router names a few origins.
    if (origins.size >= 64) origins.clear();
    origins.set(url, origin);
  }
  return origin;
}

/** Creates empty jars. */
export function createCloudflareCookieJars(): CloudflareCookieJars {
  const jars = new Map<string, Map<string, KeptCookie>>();
  return {
    remember(account, setCookie, now) {
      if (setCookie === undefined) return;
      const lines = Array.isArray(setCookie) ? setCookie : [setCookie];
      for (const line of lines) {
        const parsed = parseSetCookie(line, now);
        if (parsed === null) continue;
        let jar = jars.get(account);
        if (jar === undefined) {
          if (parsed.expiresAt !== null && parsed.expiresAt <= now) continue;
          jar = new Map();
          if (jars.size >= maxJars) jars.delete(jars.keys().next().value as string);
          jars.set(account, jar);
        }
        // An expiry in the past is the server deleting the cookie.
        if (parsed.expiresAt !== null && parsed.expiresAt <= now) {
          jar.delete(parsed.name);
          continue;
        }
        if (!jar.has(parsed.name) && jar.size >= maxCookiesPerJar) continue;
        jar.set(parsed.name, { value: parsed.value, expiresAt: parsed.expiresAt });
      }
    },
    cookieHeader(account, now) {
      const jar = jars.get(account);
      if (jar === undefined) return undefined;
      // Recently used last, so the least recently used account is dropped first.
      jars.delete(account);
      jars.set(account, jar);
      const at = now;
      const pairs: string[] = [];
      for (const [name, kept] of jar) {
        if (kept.expiresAt !== null && kept.expiresAt <= at) jar.delete(name);
        else pairs.push(`${name}=${kept.value}`);
      }
      return pairs.length === 0 ? undefined : pairs.join('; ');
    },
  };
}

/**
 * The process's jars, as Codex's one jar per process: the router's requests and the calls Codex
 * Lab makes itself (usage reads, the workspace check, priming turns: `outboundFetch`) keep and
 * return one account's cookies alike.
 */
export const processCookieJars: CloudflareCookieJars = createCloudflareCookieJars();

/**
 * A `Set-Cookie` line's name, value and expiry, or null when it is not a Cloudflare cookie kept
 * here. Parsed by undici's `parseCookie` (RFC 6265), the HTTP client's own.
 */
function parseSetCookie(
  line: string,
  now: number,
): { name: string; value: string; expiresAt: number | null } | null {
  const cookie = parseCookie(line);
  if (cookie === null) return null;
  const { name, value } = cookie;
  if (!isCloudflareCookieName(name) || value.length > maxValueLength) return null;
  // A value that would break the header it is sent in is not kept.
  if (/[\s;,\\"]/.test(value) && !/^"[^"]*"$/.test(value)) return null;
  // Max-Age wins over Expires (RFC 6265, 5.3).
  if (cookie.maxAge !== undefined) return { name, value, expiresAt: now + cookie.maxAge * 1000 };
  const expires = cookie.expires instanceof Date ? cookie.expires.getTime() : cookie.expires;
  return {
    name,
    value,
    expiresAt: expires !== undefined && Number.isFinite(expires) ? expires : null,
  };
}
