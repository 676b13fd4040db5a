/**
 * Scrubbing of credentials from free text and from log fields, shared by the logger, the one-shot
 * commands' warning sentences and every message that quotes an upstream answer (an error body can
 * echo a token). Pure and dependency-free, so one-shot commands can use it without loading pino.
 */

/** What replaces a secret in output. */
export const redactedText = '[redacted]';

/** Anything shaped like a compact JWT (three base64url parts, the first starting with `eyJ`). */
const jwtPattern = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
/** A bearer credential inside free text. */
const bearerPattern = /(Bearer\s+)[^\s"',;]+/gi;
/**
 * The value of a credential-named field in free text, whatever the encoding: JSON
 * (`"refresh_token":"…"`), a form or query string (`refresh_token=…`), or prose (`refresh_token: …`).
 * An error page that echoes the request it refused quotes the token this way, opaque or not.
 */
const credentialFieldPattern =
  /((?:refresh_token|access_token|id_token|client_secret|code_verifier|api_key)["']?\s*[:=]\s*["']?)[^\s"'&,;}<]+/gi;

/** The password of a URL's user information (`http://user:password@proxy:3128`). */
const urlPasswordPattern = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@"']+:)[^\s/@"']+@/gi;

/**
 * Replaces credentials inside `text`: anything JWT-shaped, `Bearer …` values, the values of
 * credential-named fields, a URL's password (a proxy's, say), and the exact `secrets` given (each
 * at least 12 characters, since short strings would redact innocent text).
 */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let result = text
    .replace(jwtPattern, redactedText)
    .replace(bearerPattern, `$1${redactedText}`)
    .replace(credentialFieldPattern, `$1${redactedText}`)
    .replace(urlPasswordPattern, `$1${redactedText}@`);
  for (const secret of secrets) {
    if (secret.length >= 12 && result.includes(secret))
      result = result.split(secret).join(redactedText);
  }
  return result;
}

/** Keys whose values are always credentials. */
const secretKeyPattern =
  /(^|[_-])(authorization|cookie|set-cookie|password|secret)$|api[_-]?key|token|^code_verifier$|^codeVerifier$/i;

/** Returns a copy of `value` with every credential-named field replaced. */
export function redactFields(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  // Deeper than any field the code logs: not walked, so not shown either (it could hold anything).
  if (depth > 8) return '[nested too deep]';
  if (value instanceof Error) {
    return { type: value.name, message: value.message, code: (value as { code?: unknown }).code };
  }
  if (Array.isArray(value)) return value.map((item) => redactFields(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    copy[key] =
      secretKeyPattern.test(key) &&
      field !== null &&
      field !== undefined &&
      typeof field !== 'boolean'
        ? redactedText
        : redactFields(field, depth + 1);
  }
  return copy;
}
