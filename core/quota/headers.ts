/**
 * Quota from the `x-codex-*` headers of a routed response, parsed exactly as Codex parses them
 * (docs/codex-protocol.md §6.1, `codex-rs/codex-api/src/rate_limits.rs`). Free, passive
 * quota: every response refreshes the profile's numbers without polling.
 */
import type { Credits, LimitSnapshot, QuotaSnapshot, QuotaWindow } from '../state/schema.ts';
import { plausibleMinutes, plausiblePercent, plausibleTime, type BoundaryWarn } from './bounds.ts';

/** Response headers: a fetch `Headers`, or a plain record as Node's `IncomingMessage` has. */
export type ResponseHeaders =
  | {
      get(name: string): string | null;
      forEach(callback: (value: string, name: string) => void): void;
    }
  | Record<string, string | string[] | number | undefined>;

/** The default limit family (prefix `x-codex`, limit id `codex`). */
export const defaultLimitId = 'codex';

const familySuffix = '-primary-used-percent';
const familyPattern = /^x-(.+)-primary-used-percent$/;

/**
 * The quota snapshot carried by a response's headers, or null when it carries none. The `codex`
 * family fills `primary`/`secondary`; every other family (`x-<name>-primary-used-percent`) lands in
 * `others` with limit id `<name>` ('-' → '_'). Junk values are ignored, never thrown.
 */
export function parseRateLimitHeaders(
  headers: ResponseHeaders,
  now: number = Date.now(),
  warn?: BoundaryWarn,
): QuotaSnapshot | null {
  const map = lowerCaseHeaders(headers);
  const families: string[] = [];
  for (const name of map.keys()) {
    if (!name.endsWith(familySuffix)) continue;
    const match = familyPattern.exec(name);
    if (match?.[1] && match[1] !== 'codex') families.push(match[1]);
  }
  const primary = readWindow(map, 'x-codex', 'primary', now, warn);
  const secondary = readWindow(map, 'x-codex', 'secondary', now, warn);
  const credits = readCredits(map);
  const others: LimitSnapshot[] = [];
  for (const family of families.sort()) {
    const prefix = `x-${family}`;
    const otherPrimary = readWindow(map, prefix, 'primary', now, warn);
    const otherSecondary = readWindow(map, prefix, 'secondary', now, warn);
    if (!otherPrimary && !otherSecondary) continue;
    others.push({
      limitId: family.replaceAll('-', '_'),
      limitName: text(map.get(`${prefix}-limit-name`)),
      primary: otherPrimary,
      secondary: otherSecondary,
    });
  }
  if (!primary && !secondary && !credits && others.length === 0) return null;
  return {
    observedAt: now,
    source: 'headers',
    plan: text(map.get('x-codex-plan-type')),
    primary,
    secondary,
    credits,
    activeLimit: text(map.get('x-codex-active-limit')),
    limitReached: null,
    others,
  };
}

/**
 * Reads one window. Codex's rule: it counts only when `used-percent` parses and at least one of
 * used ≠ 0, minutes ≠ 0, or a reset time is present.
 */
function readWindow(
  map: Map<string, string>,
  prefix: string,
  which: 'primary' | 'secondary',
  now: number,
  warn: BoundaryWarn | undefined,
): QuotaWindow | null {
  const name = `${prefix}-${which}`;
  const rawPercent = float(map.get(`${name}-used-percent`));
  if (rawPercent === null) return null;
  const usedPercent = plausiblePercent(rawPercent, `${name}-used-percent`, warn);
  if (usedPercent === null) return null;
  const windowMinutes = plausibleMinutes(
    integer(map.get(`${name}-window-minutes`)),
    `${name}-window-minutes`,
    warn,
  );
  const resetAtSeconds = integer(map.get(`${name}-reset-at`));
  const resetsAt = plausibleTime(
    resetAtSeconds === null ? null : resetAtSeconds * 1000,
    now,
    `${name}-reset-at`,
    warn,
  );
  const counts =
    usedPercent !== 0 || (windowMinutes !== null && windowMinutes !== 0) || resetsAt !== null;
  if (!counts) return null;
  return { usedPercent, windowMinutes, resetsAt };
}

/** Credits count only when both booleans parse (as in Codex); the balance is optional. */
function readCredits(map: Map<string, string>): Credits | null {
  const hasCredits = boolean(map.get('x-codex-credits-has-credits'));
  const unlimited = boolean(map.get('x-codex-credits-unlimited'));
  if (hasCredits === null || unlimited === null) return null;
  return { hasCredits, unlimited, balance: text(map.get('x-codex-credits-balance')) };
}

function lowerCaseHeaders(headers: ResponseHeaders): Map<string, string> {
  const map = new Map<string, string>();
  if (typeof headers.get === 'function' && typeof headers.forEach === 'function') {
    (headers as { forEach(callback: (value: string, name: string) => void): void }).forEach(
      (value, name) => {
        if (name.startsWith('x-')) map.set(name.toLowerCase(), value);
      },
    );
    return map;
  }
  // Runs on every routed response: no entries array, and only `x-` names are looked at (V8's
  // toLowerCase returns an already lower-case name without copying it).
  const record = headers as Record<string, unknown>;
  for (const name in record) {
    const initial = name.charCodeAt(0);
    if ((initial !== 120 && initial !== 88) || name.charCodeAt(1) !== 45) continue; // "x-" / "X-"
    const value = record[name];
    if (value === undefined || value === null) continue;
    const lower = name.toLowerCase();
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string' || typeof first === 'number') map.set(lower, String(first));
  }
  return map;
}

function float(value: string | undefined): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  const parsed = Number(trimmed);
  return Number.isFinite(parsed) ? parsed : null;
}

function integer(value: string | undefined): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  // Codex parses these as i64: a fraction or junk does not count.
  if (!/^-?\d+$/.test(trimmed)) return null;
  const parsed = Number(trimmed);
  return Number.isSafeInteger(parsed) ? parsed : null;
}

function boolean(value: string | undefined): boolean | null {
  if (value === undefined) return null;
  const lower = value.trim().toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  return null;
}

function text(value: string | undefined): string | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

/**
 * Whether a response header can feed `parseRateLimitHeaders`: a superset of every name it reads
 * (windows of any family, limit names, credits, plan, active limit), and nothing that changes per
 * response such as `x-request-id`.
 */
function isQuotaHeader(name: string): boolean {
  if (name.charCodeAt(0) !== 120 || name.charCodeAt(1) !== 45) return false; // "x-"
  return (
    name.includes('-primary-') ||
    name.includes('-secondary-') ||
    name.endsWith('-limit-name') ||
    name.startsWith('x-codex-credits-') ||
    name === 'x-codex-plan-type' ||
    name === 'x-codex-active-limit'
  );
}

/** A quota header's value as the parser reads it (the first of a list), or undefined. */
function quotaValue(value: unknown): string | undefined {
  const first = Array.isArray(value) ? (value[0] as unknown) : value;
  return typeof first === 'string' || typeof first === 'number' ? String(first) : undefined;
}

/**
 * Quota snapshots from response headers, remembering per profile the raw quota header values
 * of its last response: when they are byte-identical (most responses of a busy profile), the
 * headers are not parsed again and the remembered snapshot is returned with the new `observedAt`.
 * The check walks the header record once and allocates nothing. (The parse depends on `now`
 * only through the 400-day plausibility bound on reset times, which a repeat cannot cross in any
 * meaningful way.) Header names are expected lower case, as Node and undici give them.
 */
export class QuotaHeaderReader {
  readonly #last = new Map<string, { values: string[]; snapshot: QuotaSnapshot | null }>();
  #parses = 0;
  #changed = false;

  /** How many times headers were actually parsed (a counting hook for tests). */
  get parses(): number {
    return this.#parses;
  }

  /**
   * Whether the last `read` parsed new values (not a repeat of that profile's previous ones):
   * what the figures say of a limit mark needs weighing only then.
   */
  get changed(): boolean {
    return this.#changed;
  }

  /** The snapshot `headers` carry for `profile` at `now`, or null when they carry none. */
  read(
    profile: string,
    headers: Record<string, unknown>,
    now: number,
    warn?: BoundaryWarn,
  ): QuotaSnapshot | null {
    const last = this.#last.get(profile);
    if (last !== undefined && sameQuotaValues(last.values, headers)) {
      this.#changed = false;
      return last.snapshot === null ? null : { ...last.snapshot, observedAt: now };
    }
    this.#parses += 1;
    this.#changed = true;
    const snapshot = parseRateLimitHeaders(
      headers as Record<string, string | string[] | number | undefined>,
      now,
      warn,
    );
    this.#last.set(profile, { values: quotaValues(headers), snapshot });
    return snapshot;
  }

  /** Forgets a profile's remembered headers (removed or renamed). */
  forget(profile: string): void {
    this.#last.delete(profile);
  }
}

/** The quota headers of a record, in order, as `[name, value, name, value, …]`. */
function quotaValues(headers: Record<string, unknown>): string[] {
  const values: string[] = [];
  for (const name in headers) {
    if (!isQuotaHeader(name)) continue;
    const value = quotaValue(headers[name]);
    if (value !== undefined) values.push(name, value);
  }
  return values;
}

/** Whether `headers` holds exactly the quota headers `values` lists, in the same order. */
function sameQuotaValues(values: readonly string[], headers: Record<string, unknown>): boolean {
  let index = 0;
  for (const name in headers) {
    if (!isQuotaHeader(name)) continue;
    const value = quotaValue(headers[name]);
    if (value === undefined) continue;
    if (values[index] !== name || values[index + 1] !== value) return false;
    index += 2;
  }
  return index === values.length;
}
