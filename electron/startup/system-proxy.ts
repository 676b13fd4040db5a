/**
 * The system's proxy for the desktop app (pure: tested under Node). An app opened from the Dock,
 * the Start menu or a desktop launcher has no `HTTPS_PROXY` in its environment even on a machine
 * whose only way out is a proxy set in the system's network settings (a PAC file, macOS or
 * Windows proxy settings). Chromium resolves those settings for a URL; the answer for chatgpt.com
 * becomes `HTTPS_PROXY` for the process, so every path that honors the environment's proxy
 * (`core/net/proxy.ts`) honors the system's too. A proxy named in the environment wins.
 */
import { proxyConfigured } from '../../core/net/proxy.ts';

/** The URL whose proxy the app asks the system for: where Codex traffic goes. */
export const systemProxyProbeUrl = 'https://chatgpt.com/';

/**
 * The first usable proxy of Chromium's `resolveProxy` answer (`"PROXY host:port; DIRECT"`), as a
 * URL, or null when the first choice is `DIRECT` or nothing usable is named (a SOCKS proxy is
 * not: the WebSocket's tunnel speaks HTTP `CONNECT` only).
 */
export function proxyFromResolved(answer: string): string | null {
  for (const entry of answer.split(';')) {
    const [kind, address] = entry.trim().split(/\s+/, 2);
    if (!kind) continue;
    const scheme = kind.toUpperCase();
    if (scheme === 'DIRECT') return null;
    if ((scheme === 'PROXY' || scheme === 'HTTPS') && address) {
      return `${scheme === 'PROXY' ? 'http' : 'https'}://${address}`;
    }
  }
  return null;
}

/**
 * The variables to add to `env` for the system's proxy: `HTTPS_PROXY` from `answer` when `env`
 * names no proxy of its own, else none.
 */
export function systemProxyEnvironment(
  env: NodeJS.ProcessEnv,
  answer: string,
): Record<string, string> {
  if (proxyConfigured(env)) return {};
  const proxy = proxyFromResolved(answer);
  return proxy === null ? {} : { HTTPS_PROXY: proxy };
}
