/**
 * What the sign-in popup says when it refuses a page. The popup shows only the issuer's pages and
 * our loopback callback, so "Continue with Google / Microsoft / Apple" and company single sign-on
 * cannot finish there (Google also refuses embedded browsers). Instead of a silent dead end, the
 * user is told why and offered the same sign-in in the system browser. Pure, for unit tests.
 */

/** The dialog shown once per popup, and its buttons in order. */
export interface BlockedSignInMessage {
  title: string;
  message: string;
  detail: string;
  buttons: [openInBrowser: string, stay: string];
}

/** Providers whose sign-in pages users meet on the ChatGPT login page, by host suffix. */
const knownProviders: readonly [suffix: string, name: string][] = [
  ['accounts.google.com', 'Google'],
  ['google.com', 'Google'],
  ['login.microsoftonline.com', 'Microsoft'],
  ['login.live.com', 'Microsoft'],
  ['microsoft.com', 'Microsoft'],
  ['appleid.apple.com', 'Apple'],
  ['apple.com', 'Apple'],
];

/** "Google", "Microsoft", "Apple", or the page's host for anything else (e.g. a company SSO). */
export function providerName(url: string): string {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return 'another site';
  }
  if (host === '') return 'another site';
  for (const [suffix, name] of knownProviders) {
    if (host === suffix || host.endsWith(`.${suffix}`)) return name;
  }
  return host;
}

/** The explanation for a navigation the popup refused. */
export function blockedSignInMessage(url: string): BlockedSignInMessage {
  const provider = providerName(url);
  const known = knownProviders.some(([, name]) => name === provider);
  return {
    title: 'Continue in your browser',
    message: known
      ? `Signing in with ${provider} works only in your browser.`
      : `The sign-in window shows only OpenAI's own pages, so it did not open ${provider}.`,
    detail:
      'Codex Lab will open the same sign-in in your browser; this window closes and Codex Lab ' +
      'keeps waiting for you to finish there. To always sign in this way, choose ' +
      '"Sign in with: browser" in the settings.',
    buttons: ['Open in browser', 'Stay here'],
  };
}
