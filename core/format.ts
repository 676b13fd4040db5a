/**
 * One voice for every surface: the words and numbers the CLI, the tray, the dashboard and the
 * activity log show for durations and countdowns, clock times, quota windows, profile statuses
 * and what to do about them. A leaf of the core's floor plan: it imports nothing (no Node, no
 * DOM), so the core, Electron's main process and the renderer all use this same file.
 *
 * Durations: the two largest units, a zero second unit left out (`45s`, `12m`, `3h 5m`, `3h`,
 * `2d 4h`, `1d`), every unit rounded down, so a countdown never shows more time than is left.
 * Clock times: 24-hour, with the weekday when the moment is 20 hours away or more (`14:05`,
 * `Tue 14:05`). Quota: what is left (`58% left, resets in 3h 5m`, `used up`, `not known yet`;
 * docs/quota.md, "Words for quota"), one function per fact and no wording of it elsewhere.
 * Statuses: `ready`, `limited`, `needs sign-in`, `auth file unreadable`, `not checked yet`,
 * `failing upstream` (skipped by the router until it tries the account again) —
 * never the raw `auth_error`. Sentences say what is wrong; how to fix it
 * travels beside them (a failure's `fix`), and the command line words it with our command
 * (`withCliFix`).
 */

/** Options for clock times: the current time, and a fixed time zone in tests. */
export interface ClockOptions {
  /** Current time, Unix milliseconds. */
  now: number;
  /** IANA time zone; the system's when omitted. */
  timeZone?: string;
}

/** A quota window as every surface receives it (the shape of `QuotaWindowView`). */
export interface QuotaWindowShape {
  usedPercent: number;
  windowMinutes: number | null;
  /** ISO time, or null when unknown. */
  resetsAt: string | null;
}

/** A profile's health (the values of `ProfileStatus`). */
export type StatusName = 'ok' | 'limited' | 'auth_error' | 'unknown';

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;

/**
 * `45s`, `12m`, `3h 5m`, `3h`, `2d 4h`, `1d`: a duration in its two largest units, each rounded
 * down. The one duration and countdown wording of every surface (tables, the router's reasons,
 * the tray, the dashboard). Rounded down to the second too: a weekly window that has not started
 * resets 7 days after each read, a few milliseconds ago, so it reads `6d 23h` on every refresh
 * rather than `7d` or `6d 23h` by the sub-second timing of the read.
 */
export function formatDuration(milliseconds: number): string {
  const total = Math.max(0, Math.floor(milliseconds / second));
  if (total < 60) return `${total}s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours}h` : `${hours}h ${minutes % 60}m`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days}d` : `${days}d ${hours % 24}h`;
}

/**
 * A request's timing (time to first byte, duration): `850ms`, `1.2s`, and past a minute the
 * shared duration (`5m`). Rounded down, as every duration here is.
 */
export function formatLatency(milliseconds: number): string {
  const ms = Math.max(0, Math.floor(milliseconds));
  if (ms < second) return `${ms}ms`;
  if (ms < minute) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  return formatDuration(ms);
}

/** `in 3h 5m`, or `now` when the moment has come. */
export function formatIn(milliseconds: number): string {
  return milliseconds < second ? 'now' : `in ${formatDuration(milliseconds)}`;
}

/**
 * The first moment after `now` at which the distance to `at` reads differently (`formatIn` before
 * it, `formatAgo` after it, as `formatMoment` words them): the unit `formatDuration` rounds down
 * to (a second under a minute, a minute under a day, an hour beyond) ticks over, or the moment
 * itself passes. A surface that is not redrawn by a clock of its own (the tray) redraws then.
 */
export function countdownChangesAt(at: number, now: number): number {
  if (at >= now) {
    const left = at - now;
    const unit = left < minute ? second : left < day ? minute : hour;
    return at - Math.floor(left / unit) * unit + 1;
  }
  const since = now - at;
  // `just now` for the first minute; then whole minutes, and whole hours past a day.
  const unit = since < day ? minute : hour;
  return at + (Math.floor(since / unit) + 1) * unit;
}

/** `just now` (under a minute), `12m ago`, `3h 5m ago`. */
export function formatAgo(milliseconds: number): string {
  return milliseconds < minute ? 'just now' : `${formatDuration(milliseconds)} ago`;
}

/** `just now`, `12m ago`, … for an ISO time, `never` for none, `unknown` for a bad one. */
export function formatAgoSince(iso: string | null, now: number): string {
  if (iso === null) return 'never';
  const at = Date.parse(iso);
  return Number.isNaN(at) ? 'unknown' : formatAgo(now - at);
}

/** `14:05` when within 20 hours of now, else `Tue 14:05` (24-hour clock, no locale surprises). */
export function formatClockTime(at: number, options: ClockOptions): string {
  if (!Number.isFinite(at)) return 'later';
  const time = new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
    timeZone: options.timeZone,
  }).format(at);
  if (Math.abs(at - options.now) < 20 * hour) return time;
  const weekday = new Intl.DateTimeFormat('en-GB', {
    weekday: 'short',
    timeZone: options.timeZone,
  }).format(at);
  return `${weekday} ${time}`;
}

/**
 * Banked rate-limit resets (the shape of `ResetCreditsView`): `2 available · next expires Tue
 * 18:00`, or `1 available` when the upstream gave no expiry.
 */
export function formatResetCredits(
  credits: { available: number; nextExpiresAt: string | null },
  options: ClockOptions,
): string {
  const count = `${credits.available} available`;
  return credits.nextExpiresAt
    ? `${count} · next expires ${formatClockTime(Date.parse(credits.nextExpiresAt), options)}`
    : count;
}

/** Formatters made once per kind and time zone: a log of thousands of lines formats each. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(
  kind: 'time' | 'day',
  timeZone: string | undefined,
  options: Intl.DateTimeFormatOptions,
): Intl.DateTimeFormat {
  const key = `${kind} ${timeZone ?? ''}`;
  let made = formatters.get(key);
  if (made === undefined) {
    made = new Intl.DateTimeFormat('en-GB', { ...options, timeZone });
    formatters.set(key, made);
  }
  return made;
}

/** `14:05:09`: a log line's local time. */
export function formatLogTime(at: number, timeZone?: string): string {
  return formatter('time', timeZone, {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  }).format(at);
}

/**
 * A log entry's local time, `14:05:09` today and with the date on any other day (`28 Nov
 * 14:05:09`, `28 Nov 2025 14:05:09` in another year): a log kept for days must not show last
 * week's entries as if they were today's.
 */
export function formatLogStamp(at: number, options: ClockOptions): string {
  const time = formatLogTime(at, options.timeZone);
  const days = formatter('day', options.timeZone, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
  });
  const partsOf = (moment: number) => {
    const parts = days.formatToParts(moment);
    const part = (type: string) => parts.find((item) => item.type === type)?.value ?? '';
    return { day: part('day'), month: part('month'), year: part('year') };
  };
  const entry = partsOf(at);
  const today = partsOf(options.now);
  const sameYear = entry.year === today.year;
  if (sameYear && entry.month === today.month && entry.day === today.day) return time;
  return sameYear
    ? `${entry.day} ${entry.month} ${time}`
    : `${entry.day} ${entry.month} ${entry.year} ${time}`;
}

/** A moment and its distance: `14:05 (in 2h 3m)`, `Tue 09:00 (in 3d 4h)`, `09:12 (5m ago)`. */
export function formatMoment(at: number, options: ClockOptions): string {
  const delta = at - options.now;
  const relative = delta >= 0 ? formatIn(delta) : formatAgo(-delta);
  return `${formatClockTime(at, options)} (${relative})`;
}

const isoTimePattern = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g;

/**
 * `text` with every ISO time in it worded as `formatMoment` words it (`until 14:05 (in 2h 3m)`):
 * the core names moments in ISO, people read them here. Each surface calls it with its own `now`.
 */
export function humanizeTimes(text: string, options: ClockOptions): string {
  return text.replace(isoTimePattern, (iso) => {
    const at = Date.parse(iso);
    return Number.isFinite(at) ? formatMoment(at, options) : iso;
  });
}

/**
 * The first moment after `now` at which `humanizeTimes(text)` reads differently
 * (`countdownChangesAt` of each moment in it), or null when it words no moment.
 */
export function humanizedTimesChangeAt(text: string, now: number): number | null {
  let soonest: number | null = null;
  for (const [iso] of text.matchAll(isoTimePattern)) {
    const at = Date.parse(iso);
    if (!Number.isFinite(at)) continue;
    const changes = countdownChangesAt(at, now);
    if (soonest === null || changes < soonest) soonest = changes;
  }
  return soonest;
}

/** `in 2h 3m, at 14:05`: when something limited is back, or null when unknown or past. */
export function formatBackAt(until: string | null, options: ClockOptions): string | null {
  if (until === null) return null;
  const at = Date.parse(until);
  if (Number.isNaN(at) || at <= options.now) return null;
  return `${formatIn(at - options.now)}, at ${formatClockTime(at, options)}`;
}

/** The name of a quota window from its length: `5-hour`, `weekly`, `1-day` (`short`: `5h`, `wk`, `1d`). */
export function windowName(windowMinutes: number | null, style: 'long' | 'short' = 'long'): string {
  if (windowMinutes === null || windowMinutes <= 0) return style === 'long' ? 'unknown' : '?';
  if (windowMinutes === 7 * 24 * 60) return style === 'long' ? 'weekly' : 'wk';
  if (windowMinutes < 24 * 60) {
    const hours = Math.round(windowMinutes / 60);
    return style === 'long' ? `${hours}-hour` : `${hours}h`;
  }
  const days = Math.round(windowMinutes / (24 * 60));
  return style === 'long' ? `${days}-day` : `${days}d`;
}

/** The upstream's two slots for quota windows. */
export type WindowSlot = 'primary' | 'secondary';

/**
 * Which slot holds which window, by what the windows are, not by the upstream's slot: a plan
 * without the 5-hour window may report its weekly one as `primary`. Of two, the longer is the
 * weekly window; a lone window is weekly when it lasts a day or more; without a length, the slot
 * says it. The one rule for the weekly window: `list`, `usage`, the dashboard, the forecast, the
 * pool summary and the router all place windows by it (docs/quota.md, "Which window is which").
 */
export function windowSlots(quota: {
  primary: { windowMinutes: number | null } | null;
  secondary: { windowMinutes: number | null } | null;
}): Slots {
  const { primary, secondary } = quota;
  if (primary && secondary) {
    return (primary.windowMinutes ?? 0) > (secondary.windowMinutes ?? 0)
      ? weeklyFirstSlots
      : fiveHourFirstSlots;
  }
  const slot: WindowSlot | null = primary ? 'primary' : secondary ? 'secondary' : null;
  const lone = primary ?? secondary;
  if (!slot || !lone) return noSlots;
  const isWeekly =
    lone.windowMinutes === null ? slot === 'secondary' : lone.windowMinutes >= 24 * 60;
  if (isWeekly) return slot === 'primary' ? lonePrimaryWeekly : loneSecondaryWeekly;
  return slot === 'primary' ? lonePrimaryFiveHour : loneSecondaryFiveHour;
}

// `windowSlots`' answers, made once: routing asks for every candidate of every new session.
type Slots = Readonly<{ fiveHour: WindowSlot | null; weekly: WindowSlot | null }>;
const fiveHourFirstSlots: Slots = Object.freeze({ fiveHour: 'primary', weekly: 'secondary' });
const weeklyFirstSlots: Slots = Object.freeze({ fiveHour: 'secondary', weekly: 'primary' });
const noSlots: Slots = Object.freeze({ fiveHour: null, weekly: null });
const lonePrimaryWeekly: Slots = Object.freeze({ fiveHour: null, weekly: 'primary' });
const loneSecondaryWeekly: Slots = Object.freeze({ fiveHour: null, weekly: 'secondary' });
const lonePrimaryFiveHour: Slots = Object.freeze({ fiveHour: 'primary', weekly: null });
const loneSecondaryFiveHour: Slots = Object.freeze({ fiveHour: 'secondary', weekly: null });

/** A snapshot's weekly window, placed by `windowSlots` (no object made: routing asks per candidate). */
export function weeklyWindow<Window extends { windowMinutes: number | null }>(quota: {
  primary: Window | null;
  secondary: Window | null;
}): Window | null {
  const slot = windowSlots(quota).weekly;
  return slot === null ? null : quota[slot];
}

/** A snapshot's 5-hour window, placed by `windowSlots` (no object made). */
export function fiveHourWindow<Window extends { windowMinutes: number | null }>(quota: {
  primary: Window | null;
  secondary: Window | null;
}): Window | null {
  const slot = windowSlots(quota).fiveHour;
  return slot === null ? null : quota[slot];
}

/** A snapshot's 5-hour and weekly windows, placed by `windowSlots`. */
export function windowsByLength<Window extends { windowMinutes: number | null }>(quota: {
  primary: Window | null;
  secondary: Window | null;
}): { fiveHour: Window | null; weekly: Window | null } {
  return { fiveHour: fiveHourWindow(quota), weekly: weeklyWindow(quota) };
}

/** A limit family as the views carry it (structurally, so this leaf imports nothing). */
export interface LimitFamilyShape {
  id: string;
  name?: string | null;
  primary: QuotaWindowShape | null;
  secondary: QuotaWindowShape | null;
  limitedUntil?: string | null;
}

/**
 * A limit family in words, in two parts: `label` (`codex_spark limit`) and `text` (`5-hour 80%
 * left; weekly not known yet; limited, back in 2h 5m, at 14:05`, the last part only while its
 * limit mark in health.json holds; a window not reported reads "not known yet", never left out).
 * The one wording of a family's limit: the dashboard's card shows the parts as a term and its
 * description, `formatFamilyLimit` joins them for `usage` and `list`.
 */
export function familyLimitParts(
  family: LimitFamilyShape,
  now: number,
): { label: string; text: string } {
  const windows = windowsByLength(family);
  const back = formatBackAt(family.limitedUntil ?? null, { now });
  return {
    label: `${family.name ?? family.id} limit`,
    text: `5-hour ${formatWindowLeft(windows.fiveHour, now)}; weekly ${formatWindowLeft(windows.weekly, now)}${back === null ? '' : `; limited, back ${back}`}`,
  };
}

/**
 * A limit family in words, one line: `codex_spark limit: 5-hour 80% left; weekly not known yet`
 * (`familyLimitParts` joined): what `usage` and `list` print under their tables.
 */
export function formatFamilyLimit(family: LimitFamilyShape, now: number): string {
  const { label, text } = familyLimitParts(family, now);
  return `${label}: ${text}`;
}

/** Whether a family's limit mark still holds at `now` (its models skip the account until then). */
export function familyLimited(family: LimitFamilyShape, now: number): boolean {
  return formatBackAt(family.limitedUntil ?? null, { now }) !== null;
}

/**
 * How much of a window is left, in whole percent: `100 − used`, rounded, within 0–100. The pool's
 * headroom is the mean of the same `100 − used` rounded the same way, so an account alone in the
 * pool shows one figure on its card and in the banner. An unreadable figure counts as unused, as
 * the router counts it.
 */
export function leftPercent(usedPercent: number): number {
  if (!Number.isFinite(usedPercent)) return 100;
  return Math.max(0, Math.min(100, Math.round(100 - usedPercent)));
}

/** `47% left`: an amount of quota, the one way every surface says it (a window, the pool). */
export function percentLeftText(left: number): string {
  return `${left}% left`;
}

/**
 * What a used percent leaves, in words: `88% left`, or `used up` for a full window (the upstream
 * refuses it until its reset). A window a fraction short of full reads `0% left`, not `used up`:
 * it still serves.
 */
export function quotaAmountText(usedPercent: number): string {
  return usedPercent >= 100 ? 'used up' : percentLeftText(leftPercent(usedPercent));
}

/**
 * The activity line of a limit mark a usage read lifted, naming the fullest window it shows:
 * `alice has room again: its usage read shows 30% of the 5-hour window used.` (the line for the
 * mark itself says when the account was limited).
 */
export function roomAgainText(
  profile: string,
  read: {
    primary: { usedPercent: number; windowMinutes: number | null } | null;
    secondary: { usedPercent: number; windowMinutes: number | null } | null;
  },
): string {
  const { primary, secondary } = read;
  const fullest =
    primary === null || (secondary !== null && secondary.usedPercent > primary.usedPercent)
      ? secondary
      : primary;
  if (fullest === null) return `${profile} has room again: its usage read shows room.`;
  const used = Math.round(fullest.usedPercent);
  return `${profile} has room again: its usage read shows ${used}% of the ${windowName(fullest.windowMinutes)} window used.`;
}

/** How a window nobody has reported is said on every surface (a card, a table cell, a tooltip). */
export const quotaUnknownText = 'not known yet';

/**
 * When a window resets: `resets in 3h 5m`, `resets now` (within the second), `reset since last
 * read` once past (its figure counts as unused until the next read, as the router counts it), or
 * `reset time unknown`.
 */
export function resetText(resetsAt: string | null, now: number): string {
  const at = resetsAt === null ? Number.NaN : Date.parse(resetsAt);
  if (Number.isNaN(at)) return 'reset time unknown';
  return at <= now ? 'reset since last read' : `resets ${formatIn(at - now)}`;
}

/** One window as every surface shows it (`windowLeft`). */
export interface WindowLeftParts {
  /** Whole percent left, or null when the window is not known. */
  left: number | null;
  /** 100 % used and not yet reset: the upstream refuses it. */
  exhausted: boolean;
  /**
   * The figure alone, for a compact cell or a bar's head: `58%`, `0%` (a fraction short of full),
   * `–`; a used-up window is `used up` here too, so no surface can show it as `0%`.
   */
  figure: string;
  /** `58% left`, `used up`, `not known yet`. */
  amount: string;
  /** `resets in 3h 5m`, `reset since last read`, `reset time unknown` (empty when not known). */
  reset: string;
  /** The bare countdown for a compact cell: `3h 5m`, `now`, `reset` (past its reset), `–`. */
  countdown: string;
  /** The whole sentence: `58% left, resets in 3h 5m`, `used up, resets in 2h`, `not known yet`. */
  text: string;
  /**
   * The sentence's short form, for a narrow table column headed `5-HOUR LEFT`: `58% · 3h 5m`,
   * `used up · 2h`, `not known yet`.
   */
  compact: string;
}

/**
 * Everything a surface says about one quota window, worked out once: what is left (a window past
 * its reset counts as unused, as routing and the pool headroom count it), whether it is used up,
 * and when it resets. Every surface words a window through this (or `formatWindowLeft`).
 */
export function windowLeft(window: QuotaWindowShape | null, now: number): WindowLeftParts {
  if (!window) {
    return {
      left: null,
      exhausted: false,
      figure: '–',
      amount: quotaUnknownText,
      reset: '',
      countdown: '–',
      text: quotaUnknownText,
      compact: quotaUnknownText,
    };
  }
  const at = window.resetsAt === null ? Number.NaN : Date.parse(window.resetsAt);
  const past = !Number.isNaN(at) && at <= now;
  const used = past ? 0 : window.usedPercent;
  const left = leftPercent(used);
  const amount = quotaAmountText(used);
  const reset = resetText(window.resetsAt, now);
  const exhausted = used >= 100;
  const figure = exhausted ? amount : `${left}%`;
  // Past its reset the window has reset since it was read ("reset"), which "now" would misstate
  // for days; "now" is only the last second before it.
  const countdown = Number.isNaN(at)
    ? '–'
    : past
      ? 'reset'
      : at - now < second
        ? 'now'
        : formatDuration(at - now);
  return {
    left,
    exhausted,
    figure,
    amount,
    reset,
    countdown,
    text: `${amount}, ${reset}`,
    compact: `${figure} · ${countdown}`,
  };
}

/**
 * The window a profile has used up and when it resets (the later of two full ones), or null: a
 * profile the router skips until then although its status still reads `ready`. The one rule of it
 * for the tray's labels and the dashboard's badges and rows.
 */
export function usedUpWindow<W extends QuotaWindowShape>(
  profile: { quota: { primary: W | null; secondary: W | null } },
  now: number,
): { window: W; until: number } | null {
  let found: { window: W; until: number } | null = null;
  for (const window of [profile.quota.primary, profile.quota.secondary]) {
    if (!window || window.usedPercent < 100 || window.resetsAt === null) continue;
    const until = Date.parse(window.resetsAt);
    if (Number.isNaN(until) || until <= now) continue;
    if (found === null || until > found.until) found = { window, until };
  }
  return found;
}

/** `58% left, resets in 3h 5m`, `used up, resets in 2h`, `not known yet` (see `windowLeft`). */
export function formatWindowLeft(window: QuotaWindowShape | null, now: number): string {
  return windowLeft(window, now).text;
}

/** The pool's headroom as the summary carries it (structurally, so this leaf imports nothing). */
export interface PoolHeadroomShape {
  headroomPercent: number | null;
  eligible: readonly string[];
}

/**
 * The pool's headroom in the words of a window: `47%` / `left in the pool` (the banner's figure
 * and its caption) and `47% left` (the tray's and the CLI's headline); `quota not known yet` while
 * no ready account has a figure. With none able to serve, nothing is left: `0%`.
 */
export function poolLeftParts(pool: PoolHeadroomShape): {
  figure: string;
  words: string;
  text: string;
} {
  const left = pool.eligible.length === 0 ? 0 : pool.headroomPercent;
  if (left === null) {
    return { figure: '–', words: 'quota not known yet', text: 'quota not known yet' };
  }
  return { figure: `${left}%`, words: 'left in the pool', text: percentLeftText(left) };
}

/**
 * `resets 14:05` (`resets Tue 14:05` 20 hours away or more): a window's reset as a local clock
 * time, beside its countdown (a quota bar, `resetMomentText`) or instead of it
 * (`formatWindowLeftAt`). Null when the reset is not known or is under a second away or past.
 */
export function resetClockText(resetsAt: string | null, options: ClockOptions): string | null {
  const at = resetsAt === null ? Number.NaN : Date.parse(resetsAt);
  if (Number.isNaN(at) || at - options.now < second) return null;
  return `resets ${formatClockTime(at, options)}`;
}

/**
 * `resets 14:05 (in 2h 59m)` (`resets Tue 09:00 (in 3d 4h)` further away): a window's reset as its
 * clock time and its countdown together, for a surface that shows or speaks both (a quota bar),
 * so the time is in its words rather than in a hover title. `resetText` when the reset is not
 * known, under a second away or past.
 */
export function resetMomentText(resetsAt: string | null, options: ClockOptions): string {
  const clock = resetClockText(resetsAt, options);
  if (clock === null || resetsAt === null) return resetText(resetsAt, options.now);
  return `${clock} (${formatIn(Date.parse(resetsAt) - options.now)})`;
}

/** Why an account's quota figures are its last reading rather than live (`quotaNotLive`). */
export interface NotLiveQuota {
  /** The state that stops the reading, first in every wording: `needs sign-in`, … */
  reason: string;
  /** When the figures were read, Unix milliseconds, or null when never. */
  readAt: number | null;
}

/**
 * The one rule of quota figures that are not live: an account that needs a new sign-in, whose
 * auth file cannot be read or whose keychain is unavailable is not read any more, nor is any
 * account while the page has lost its router (`offline`), so its figures are its last reading, which no longer follows its use and does not make it usable. Every
 * surface (the card's bars, the list's rows, the tray) shows them muted, as last known, with the
 * reason first (`notLiveText`). Null while the figures are live.
 */
export function quotaNotLive(
  profile: {
    status: StatusName;
    statusCode?: string | null | undefined;
    quota: { updatedAt: string | null };
  },
  offline = false,
): NotLiveQuota | null {
  // A page that lost its router shows what the router last said: no figure follows any more.
  if (profile.status !== 'auth_error' && !offline) return null;
  const readAt =
    profile.quota.updatedAt === null ? Number.NaN : Date.parse(profile.quota.updatedAt);
  return {
    reason: offline ? 'not connected' : statusLabel(profile.status, profile.statusCode),
    readAt: Number.isNaN(readAt) ? null : readAt,
  };
}

/**
 * `as of 2h ago` (`clock`: `as of 14:05`, for a surface not redrawn by a clock, the tray): the age
 * of figures that are not live (`quotaNotLive`), alone where they are already shown as not live
 * (a list row's grey bars beside its state).
 */
export function asOfText(
  notLive: NotLiveQuota,
  options: ClockOptions,
  form: 'ago' | 'clock' = 'ago',
): string {
  if (notLive.readAt === null) return 'when unknown';
  const when =
    form === 'clock'
      ? formatClockTime(notLive.readAt, options)
      : formatAgo(Math.max(0, options.now - notLive.readAt));
  return `as of ${when}`;
}

/** `last known, as of 2h ago` (`asOfText`): figures that are not live, and their age. */
export function lastKnownText(
  notLive: NotLiveQuota,
  options: ClockOptions,
  form: 'ago' | 'clock' = 'ago',
): string {
  return `last known, ${asOfText(notLive, options, form)}`;
}

/** `needs sign-in — last known, as of 2h ago`: figures that are not live, reason first. */
export function notLiveText(
  notLive: NotLiveQuota,
  options: ClockOptions,
  form: 'ago' | 'clock' = 'ago',
): string {
  return `${notLive.reason} — ${lastKnownText(notLive, options, form)}`;
}

/**
 * `58% left, resets 14:05` (`Tue 14:05` further away): `formatWindowLeft` with the reset as a
 * clock time (`resetClockText`), for a surface that is not redrawn every minute (the tray menu),
 * where a countdown would go stale. A window past its reset or with no known reset reads as
 * `formatWindowLeft`.
 */
export function formatWindowLeftAt(window: QuotaWindowShape | null, options: ClockOptions): string {
  const parts = windowLeft(window, options.now);
  const clock = resetClockText(window?.resetsAt ?? null, options);
  return clock === null ? parts.text : `${parts.amount}, ${clock}`;
}

/**
 * True when a failure says a profile's stored tokens cannot be read: its auth file does not parse
 * or the disk refuses it (a `corrupt_file` or `io_error` its token reader marked so,
 * `tokensFileError`), or the OS keychain is locked or unavailable (`keyring_unavailable`). Only
 * mending the file or unlocking the keychain helps, never a sign-in. Any other file's failure
 * (the registry, quota.json, health.json, a lock) is that file's, named by it, never the auth
 * file's.
 */
export function unreadableTokens(failure: {
  code: string;
  details?: Readonly<Record<string, unknown>> | undefined;
}): boolean {
  if (failure.code === 'keyring_unavailable') return true;
  return (
    (failure.code === 'corrupt_file' || failure.code === 'io_error') &&
    failure.details?.['tokens'] === true
  );
}

/**
 * True when a profile view's `statusCode` says its stored tokens cannot be read. A view carries
 * `corrupt_file` or `io_error` only from its auth file's own read (`unreadableTokens` held for
 * it), so the code alone tells it there.
 */
export function unreadableFile(code: string | null | undefined): boolean {
  return code === 'corrupt_file' || code === 'io_error' || code === 'keyring_unavailable';
}

/**
 * True when a failure to read an account is the state the account is in, which its status says
 * on every surface: it needs a new sign-in (the failure's fix), or its stored tokens cannot be
 * read (`unreadableTokens`). Asking again changes nothing until the user acts.
 */
export function isStandingFailure(failure: {
  code: string;
  fix?: { action: string } | undefined;
  details?: Readonly<Record<string, unknown>> | undefined;
}): boolean {
  return failure.fix?.action === 'sign_in' || unreadableTokens(failure);
}

/**
 * What a quota refresh says it did, the same on every surface that says it: "Quota refreshed.",
 * "Quota refreshed for 1 of 3 accounts; the others cannot be read now." The accounts it could
 * not read are not named again: each one's status and sentence say why already.
 */
export function refreshOutcomeText(outcome: {
  refreshed: readonly string[];
  unread: readonly unknown[];
}): string {
  const { refreshed, unread } = outcome;
  if (unread.length === 0) return 'Quota refreshed.';
  if (refreshed.length === 0) {
    return unread.length === 1
      ? 'Quota not refreshed: the account cannot be read now.'
      : 'Quota not refreshed: no account can be read now.';
  }
  const total = refreshed.length + unread.length;
  const others = unread.length === 1 ? 'the other cannot' : 'the others cannot';
  return `Quota refreshed for ${refreshed.length} of ${total} accounts; ${others} be read now.`;
}

/** How a profile whose tokens cannot be read (`unreadableFile`) is described: file or keychain. */
export function unreadableWhat(code: string | null | undefined): {
  /** The status label: `auth file unreadable` or `keychain unavailable`. */
  label: string;
  /** After the profile's name: `has an auth file that cannot be read`, … */
  phrase: string;
} {
  return code === 'keyring_unavailable'
    ? { label: 'keychain unavailable', phrase: 'cannot read its sign-in from the OS keychain' }
    : { label: 'auth file unreadable', phrase: 'has an auth file that cannot be read' };
}

/**
 * The words for a status, the same on every surface: `ready`, `limited`, `needs sign-in`, … A
 * profile that cannot be used because its auth file cannot be read (`code`, the view's
 * `statusCode`) is `auth file unreadable`: a sign-in is not what it needs.
 */
export function statusLabel(status: StatusName, code?: string | null): string {
  switch (status) {
    case 'ok':
      return 'ready';
    case 'limited':
      return 'limited';
    case 'auth_error':
      return unreadableFile(code) ? unreadableWhat(code).label : 'needs sign-in';
    default:
      return 'not checked yet';
  }
}

/** The label of a profile the router skips for failing upstream (`failingUpstreamText`). */
export const failingUpstreamLabel = 'failing upstream';

/**
 * Whether the router skips a profile for failing upstream at `now`: its status would say `ready`
 * (or `not checked yet`) while the view's `skippedUntil` is still ahead (its circuit open after a
 * run of 5xx or of streams cut mid-turn, or a credentials read that just failed). A status that
 * says more already (limited, needs sign-in) wins. The one rule of it on every surface.
 */
export function isFailingUpstream(
  view: { status: StatusName; skippedUntil?: string | null | undefined },
  now: number,
): boolean {
  return failingUntil(view.status, view.skippedUntil, now) !== null;
}

function failingUntil(
  status: StatusName,
  skippedUntil: string | null | undefined,
  now: number,
): number | null {
  if ((status !== 'ok' && status !== 'unknown') || skippedUntil == null) return null;
  const at = Date.parse(skippedUntil);
  return Number.isNaN(at) || at <= now ? null : at;
}

/**
 * `failing upstream, tried again in 40s`: a profile the router skips at `now`
 * (`isFailingUpstream`), until it tries it again. Null when it is not. The one wording of it on
 * every surface.
 */
export function failingUpstreamText(
  status: StatusName,
  skippedUntil: string | null | undefined,
  now: number,
): string | null {
  const at = failingUntil(status, skippedUntil, now);
  return at === null ? null : `${failingUpstreamLabel}, tried again ${formatIn(at - now)}`;
}

/**
 * The first moment after `now` at which `failingUpstreamText` reads differently (its countdown
 * ticks over, or the router tries the profile again), or null while it reads nothing.
 */
export function failingUpstreamChangesAt(
  status: StatusName,
  skippedUntil: string | null | undefined,
  now: number,
): number | null {
  const at = failingUntil(status, skippedUntil, now);
  return at === null ? null : countdownChangesAt(at, now);
}

/**
 * A status with when it ends: `limited, back in 2h 5m, at 14:05`, `needs sign-in`, `ready`,
 * `failing upstream, tried again in 40s` (`skippedUntil`, the view's).
 */
export function formatStatus(
  status: StatusName,
  unavailableUntil: string | null,
  options: ClockOptions,
  code?: string | null,
  skippedUntil?: string | null,
): string {
  const failing = failingUpstreamText(status, skippedUntil, options.now);
  if (failing !== null) return failing;
  const back = status === 'limited' ? formatBackAt(unavailableUntil, options) : null;
  return back ? `${statusLabel(status)}, back ${back}` : statusLabel(status, code);
}

/**
 * `formatStatus` without the clock time, for a narrow table column: `limited, back in 2h 5m`,
 * `needs sign-in`, `ready`, `failing upstream, tried again in 40s`.
 */
export function formatStatusShort(
  status: StatusName,
  unavailableUntil: string | null,
  options: ClockOptions,
  code?: string | null,
  skippedUntil?: string | null,
): string {
  const failing = failingUpstreamText(status, skippedUntil, options.now);
  if (failing !== null) return failing;
  const at = unavailableUntil === null ? Number.NaN : Date.parse(unavailableUntil);
  return status === 'limited' && !Number.isNaN(at) && at > options.now
    ? `${statusLabel(status)}, back ${formatIn(at - options.now)}`
    : statusLabel(status, code);
}

/** The activity log's label for a kind of entry: `needs sign-in` for `auth_error`, else the kind. */
export function activityKindLabel(kind: string): string {
  return kind === 'auth_error' ? statusLabel('auth_error') : kind;
}

/** Characters an argument may hold and still need no quoting in a POSIX shell, PowerShell or cmd. */
const plainArgument = /^[A-Za-z0-9_@+=:,./-]+$/;

/**
 * `text` as one argument of a command the user pastes into a shell: as it is when it needs no
 * quoting; on Windows (`platform` win32) in double quotes, which PowerShell and cmd both take for
 * the common case, a path with spaces (a `"` inside is doubled; PowerShell still expands a `$`
 * in them); elsewhere in POSIX single quotes, which keep every character as it is (a `'`
 * inside is written `'\''`). A Windows path's backslashes need no quotes there.
 */
export function shellArgument(text: string, platform: string = hostPlatform()): string {
  if (platform === 'win32') {
    return /^[A-Za-z0-9_@+=:,./\\-]+$/.test(text) ? text : `"${text.replaceAll('"', '""')}"`;
  }
  return plainArgument.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** This process's platform; none in a browser (the dashboard), where no command is built. */
function hostPlatform(): string {
  return (globalThis as { process?: { platform?: string } }).process?.platform ?? 'linux';
}

/**
 * A `codex-lab` command Codex Lab suggests in a sentence, each argument quoted by `shellArgument`:
 * the one way every suggestion is written, so that it runs as it is when pasted.
 */
export function codexLabCommand(...args: string[]): string {
  return ['codex-lab', ...args.map((arg) => shellArgument(arg))].join(' ');
}

/** The command that signs a profile in again: `codex-lab login NAME`. */
export function signInCommand(profile: string): string {
  return codexLabCommand('login', profile);
}

/** A profile's weekly forecast as every surface receives it (the shape of `ForecastView`). */
export interface ForecastShape {
  outlook: 'runs_out' | 'lasts' | 'exhausted';
  runsOutAt: string | null;
  resetsAt: string | null;
  percentPerHour: number;
}

/**
 * A profile's forecast, for every surface: `weekly pace 1.2%/h: runs out Tue 18:00, before the
 * weekly reset`, `weekly pace 0.0%/h: fine until the weekly reset`, `weekly quota used up until
 * Wed 12:00`, `weekly pace: not known yet`. Each part names the weekly window: the forecast
 * covers it only, and a card shows it under a 5-hour bar that may be full. `when` words a moment
 * in the surface's clock.
 */
export function forecastSentence(
  forecast: ForecastShape | null,
  when: (iso: string) => string,
): string {
  return forecastParts(forecast, when).text;
}

/** A forecast in the words of a sentence and of a table column headed `WEEKLY PACE`. */
export interface ForecastParts {
  /** The sentence (`forecastSentence`), which names the weekly window itself. */
  text: string;
  /**
   * For a column whose header names the weekly pace: `1.2%/h: runs out Tue 18:00, before the
   * reset`, `0.0%/h: fine until the reset`, `used up until Wed 12:00`, `not known yet`.
   */
  cell: string;
  /** The cell's short form: `1.2%/h: runs out Tue 18:00`, `0.0%/h: fine`, `used up`. */
  compact: string;
}

/** Everything a surface says about a weekly forecast (see `forecastSentence`), worked out once. */
export function forecastParts(
  forecast: ForecastShape | null,
  when: (iso: string) => string,
): ForecastParts {
  if (!forecast) {
    return {
      text: `weekly pace: ${quotaUnknownText}`,
      cell: quotaUnknownText,
      compact: quotaUnknownText,
    };
  }
  if (forecast.outlook === 'exhausted') {
    const until = forecast.resetsAt ? ` until ${when(forecast.resetsAt)}` : '';
    return { text: `weekly quota used up${until}`, cell: `used up${until}`, compact: 'used up' };
  }
  const rate = `${forecast.percentPerHour.toFixed(1)}%/h`;
  if (forecast.outlook === 'runs_out' && forecast.runsOutAt) {
    const out = `runs out ${when(forecast.runsOutAt)}`;
    return {
      text: `weekly pace ${rate}: ${out}, before the weekly reset`,
      cell: `${rate}: ${out}, before the reset`,
      compact: `${rate}: ${out}`,
    };
  }
  return {
    text: `weekly pace ${rate}: fine until the weekly reset`,
    cell: `${rate}: fine until the reset`,
    compact: `${rate}: fine`,
  };
}

/**
 * True when a sign-in asked for profile `asked` was saved to another profile, `saved`: the
 * account is already that profile's (an account is kept under one name), so `saved` was renewed
 * and `asked` was not. Names compare as typed names do (`ALICE` is `alice`).
 */
export function signInLandedElsewhere(asked: string | null, saved: string | null): boolean {
  return asked !== null && saved !== null && asked.toLowerCase() !== saved.toLowerCase();
}

/**
 * What a sign-in asked for `asked` says when it renewed the profile `saved` instead (see
 * `signInLandedElsewhere`), on every surface: which account it was, what was renewed, and that
 * `asked` still takes its own account (`askedEmail`, when known; null `askedEmail` and
 * `askedExists` false when no profile has that name, so none was added).
 */
export function signInElsewhereSentence(input: {
  who: string;
  saved: string;
  asked: string;
  askedExists: boolean;
  askedEmail: string | null;
}): string {
  const renewed = `Signed in as ${input.who} — that is profile "${input.saved}"'s account, whose sign-in was renewed`;
  if (!input.askedExists) {
    return `${renewed}; no profile "${input.asked}" was added, as an account is kept under one name only.`;
  }
  const own =
    input.askedEmail === null ? 'its own account' : `its own account (${input.askedEmail})`;
  return `${renewed}; "${input.asked}" was not signed in again: sign in to it with ${own}.`;
}

/**
 * `message` without what ends it (full stops, a colon, spaces), so a surface can end the sentence
 * its own way ("… . Run codex-lab login work again.") without a double full stop.
 */
export function withoutSentenceEnd(message: string): string {
  return message.replace(/[\s.;:]+$/, '');
}

/**
 * A home with no profile, and how to add one: what `list` and `usage` print, and what the router
 * answers Codex when a turn arrives before any sign-in. One sentence for every surface.
 */
export const noProfilesSentence = 'Codex Lab has no profiles yet: run codex-lab login to add one.';

/**
 * `No accounts yet`: the short label for a home with no profile, where a surface offers its own
 * way to add one (the tray's Add account…, the pool headline); `noProfilesSentence` names the
 * command.
 */
export const noAccountsLabel = 'No accounts yet';

/**
 * Whether a state is a first launch, the only one told `noAccountsLabel`: no profile listed and
 * no file Codex Lab cannot read. A registry that does not read (broken JSON, a newer version)
 * lists no profile though the user may have many, so its problem is what every surface says
 * instead (the tray, its tooltip and the dashboard follow this one rule).
 */
export function hasNoAccounts(state: {
  profiles: readonly unknown[];
  problems: readonly unknown[];
}): boolean {
  return state.profiles.length === 0 && state.problems.length === 0;
}

/**
 * `work needs a new sign-in (REASON).`: what is wrong, for every surface; each adds how to fix it
 * its own way (`withCliFix` on the command line, the card's button in the dashboard).
 */
export function needsSignInSentence(profile: string, reason: string): string {
  return `${profile} needs a new sign-in (${reason}).`;
}

/** A fix as failures carry it (the shape of `FailureFix`). */
export type FixShape =
  | { action: 'sign_in'; profiles: readonly string[] }
  | { action: 'add_account'; name: string; email: string | null }
  | { action: 'retry_sign_in'; name: string | null; method: 'browser' | 'device' }
  | { action: 'rename_folder'; folder: string; email: string | null }
  | { action: 'see_profiles' };

/**
 * A failure's sentence with its fix as the command line says it: `work needs a new sign-in
 * (…): run codex-lab login work.`, `Sign-in failed: …. Run codex-lab login --device again.`
 * Unchanged without a fix.
 */
export function withCliFix(message: string, fix: FixShape | undefined): string {
  const said = withoutSentenceEnd(message);
  if (fix?.action === 'add_account') {
    return `${said}: to list it again, run \`${signInCommand(fix.name)}\` and sign in as ${fix.email ?? 'the same account'}.`;
  }
  if (fix?.action === 'retry_sign_in') {
    const command = fix.name === null ? 'codex-lab login' : signInCommand(fix.name);
    return `${said}. Run ${command}${fix.method === 'device' ? ' --device' : ''} again.`;
  }
  if (fix?.action === 'rename_folder') {
    return `${said}: to list it again, give the folder a valid name, then run \`codex-lab login\` with that name and sign in as ${fix.email ?? 'the same account'}.`;
  }
  if (fix?.action === 'see_profiles') return `${said}; run \`codex-lab list\` to see them.`;
  if (fix === undefined || fix.profiles.length === 0) return message;
  const commands = fix.profiles.map(signInCommand).join(', then ');
  return `${said}: run ${commands}.`;
}

/**
 * A failed sign-in's sentence with its fix as said to someone who started it in Codex Lab's window
 * (the dashboard, the desktop app), where they are not: on the issuer's page in their browser.
 * `…. Go back to Codex Lab to try again.` Unchanged for any other fix, which is not a sign-in's.
 */
export function withLabFix(message: string, fix: FixShape | undefined): string {
  if (fix?.action !== 'retry_sign_in') return message;
  return `${withoutSentenceEnd(message)}. Go back to Codex Lab to try again.`;
}

/** `Text` with its first letter in upper case, for labels that start a line. */
export function capitalize(text: string): string {
  return text.length === 0 ? text : `${text[0]!.toUpperCase()}${text.slice(1)}`;
}

/** The pool's weekly forecast as the summary carries it (structurally, so this leaf imports nothing). */
export interface PoolForecastShape {
  outlook: 'runs_out' | 'lasts' | 'exhausted' | 'unknown';
  runsOutAt?: string | null;
  nextResetAt?: string | null;
}

/**
 * The pool's forecast sentence, the same on every surface: "at this week's pace the pool runs out
 * Thu 14:00", "… lasts past the next reset (Mon 09:00)", "the pool's weekly quota is used up
 * until …". `when` words a moment the way the surface words times.
 */
export function poolForecastSentence(
  forecast: PoolForecastShape,
  when: (iso: string) => string,
): string {
  switch (forecast.outlook) {
    case 'runs_out':
      return `at this week's pace the pool runs out ${when(forecast.runsOutAt ?? '')}`;
    case 'lasts':
      return forecast.nextResetAt
        ? `at this week's pace the pool lasts past the next reset (${when(forecast.nextResetAt)})`
        : "at this week's pace the pool lasts past the resets";
    case 'exhausted':
      return forecast.nextResetAt
        ? `the pool's weekly quota is used up until ${when(forecast.nextResetAt)}`
        : "the pool's weekly quota is used up";
    default:
      return 'weekly pace not known yet';
  }
}

/** The pool's accounts as the summary counts them (structurally, so this leaf imports nothing). */
export interface PoolReadinessShape {
  /** Profiles that can take a session now. */
  eligible: readonly string[];
  /** Those of them whose quota is not known yet. */
  unread: readonly string[];
}

/**
 * How many of `total` accounts are ready, the same on every surface: `2 of 3 ready`; an account
 * that can take a session but whose quota nobody has read is not called ready (`2 of 2 can take
 * sessions, quota not known yet`; `1 of 3 ready, 1 more can take sessions (quota not known yet)`).
 * `noun` names them (`accounts`) where the sentence needs it.
 */
export function poolReadiness(pool: PoolReadinessShape, total: number, noun = ''): string {
  const unread = pool.unread.length;
  const ready = pool.eligible.length - unread;
  const of = (count: number) => `${count} of ${total}${noun === '' ? '' : ` ${noun}`}`;
  if (unread === 0) return `${of(ready)} ready`;
  if (ready === 0) return `${of(unread)} can take sessions, quota not known yet`;
  return `${of(ready)} ready, ${unread} more can take sessions (quota not known yet)`;
}

/** Every account in the pool, counted or not (limited, needing a sign-in, or with an unreadable file). */
export function poolTotal(pool: {
  counted: number;
  needsSignIn: readonly string[];
  unreadable: readonly string[];
}): number {
  return pool.counted + pool.needsSignIn.length + pool.unreadable.length;
}

/** What the pool summary tells of the profiles whose sign-in cannot be read. */
export interface PoolUnreadable {
  needsSignIn: readonly string[];
  unreadable: readonly string[];
  /** Those of `unreadable` whose OS keychain is locked (absent from an older router). */
  keychainUnavailable?: readonly string[] | undefined;
}

/**
 * The pool's profiles whose sign-in cannot be read, grouped by what is wrong, each group with its
 * label, the same on every surface: "Auth file unreadable" (mend the file) and "Keychain
 * unavailable" (unlock the OS keychain). Empty groups are left out.
 */
export function unreadableGroups(pool: PoolUnreadable): Array<{ label: string; names: string[] }> {
  const keychain = new Set(pool.keychainUnavailable ?? []);
  const groups = [
    { label: 'Auth file unreadable', names: pool.unreadable.filter((name) => !keychain.has(name)) },
    { label: 'Keychain unavailable', names: pool.unreadable.filter((name) => keychain.has(name)) },
  ];
  return groups.filter((group) => group.names.length > 0);
}

/** What every surface says after "New sessions →" when no account can take a new session now. */
export const noNewSessionTarget = 'none can take one now';

/**
 * Why no account can be used when none is even counted, the same on every surface: a sign-in is
 * named only for the accounts that need one, an auth file only for those whose file cannot be
 * read, the keychain only for those whose OS keychain is locked.
 */
export function noAccountUsableText(pool: PoolUnreadable): string {
  const signIn = pool.needsSignIn.length;
  const keychain = pool.unreadable.filter((name) =>
    (pool.keychainUnavailable ?? []).includes(name),
  ).length;
  const files = pool.unreadable.length - keychain;
  if (files === 0 && keychain === 0) return 'Every account needs sign-in';
  const fixes = [
    ...(signIn > 0 ? ['a sign-in'] : []),
    ...(files > 0 ? ['its auth file mended'] : []),
    ...(keychain > 0 ? ['the OS keychain unlocked'] : []),
  ];
  if (fixes.length > 1) {
    return `No account can be used: each needs ${fixes.slice(0, -1).join(', ')} or ${fixes.at(-1)}`;
  }
  return files > 0
    ? 'No account can be used: their auth files cannot be read'
    : 'No account can be used: the OS keychain is locked or unavailable';
}

/**
 * The headline when no account can take a new session, the same on every surface (the CLI's pool
 * line, the tray, the dashboard's banner): "All accounts are limited" only when every account is
 * limited; with some limited and the rest needing the user ("No account can take a new session: 1
 * limited, 1 needs its auth file mended"), both; with none limited, `noAccountUsableText`.
 */
export function noEligibleHeadline(pool: PoolUnreadable & { counted: number }): string {
  if (pool.counted === 0) return noAccountUsableText(pool);
  const waiting = pool.needsSignIn.length + pool.unreadable.length;
  if (waiting === 0) return 'All accounts are limited';
  const keychain = pool.unreadable.filter((name) =>
    (pool.keychainUnavailable ?? []).includes(name),
  ).length;
  const fixes = [
    ...(pool.needsSignIn.length > 0 ? ['a sign-in'] : []),
    ...(pool.unreadable.length - keychain > 0 ? ['its auth file mended'] : []),
    ...(keychain > 0 ? ['the OS keychain unlocked'] : []),
  ];
  return `No account can take a new session: ${pool.counted} limited, ${waiting} ${waiting === 1 ? 'needs' : 'need'} ${fixes.join(' or ')}`;
}

/**
 * "New sessions in codex-lab (gpt-5.2)": new sessions in a repo (its last path part, as people
 * name it) and model; "New gpt-5.2 sessions" when the repo is not known.
 */
export function sameRepoLead(repo: string | null, model: string | null): string {
  const folder =
    repo === null
      ? null
      : (repo
          .split(/[\\/:]/)
          .findLast((part) => part !== '')
          ?.replace(/\.git$/, '') ?? repo);
  if (folder === null) return model === null ? 'New sessions' : `New ${model} sessions`;
  return model === null ? `New sessions in ${folder}` : `New sessions in ${folder} (${model})`;
}

/**
 * A short, distinct label for a session id, the same in every panel (live sessions, requests,
 * pins) and in `codex-lab log`. Codex's ids are UUIDv7, whose first characters are a timestamp shared by sessions started
 * close together, so the end is what tells them apart.
 */
export function sessionLabel(id: string): string {
  return id.length <= 14 ? id : `…${id.slice(-8)}`;
}

/**
 * The session ids among `known` that `typed` names: the one it equals, else each one it ends or
 * starts (a leading "…" dropped), so an id copied from a table that shows it as `sessionLabel`
 * does finds its session. Empty when none; more than one when the text is too short to tell.
 */
export function sessionIdsMatching(typed: string, known: Iterable<string>): string[] {
  const ids = [...new Set(known)];
  const text = typed.trim();
  if (ids.includes(text)) return [text];
  const part = text.replace(/^(…|\.\.\.)/, '');
  if (part === '') return [];
  return ids.filter((id) => id.endsWith(part) || id.startsWith(part));
}

/** "1.2k", "850", "3.4M": a token count at a glance. */
export function formatCount(count: number): string {
  if (count >= 1_000_000) return `${(count / 1_000_000).toFixed(1)}M`;
  if (count >= 10_000) return `${Math.round(count / 1000)}k`;
  if (count >= 1000) return `${(count / 1000).toFixed(1)}k`;
  return String(count);
}

/** Why a turn went where it went (the shape of `RouteWhyView`). */
export interface RouteWhyShape {
  rule: 'pin' | 'session' | 'active' | 'cache' | 'best';
  pin: 'header' | 'session' | 'repo' | null;
  left: readonly { profile: string; code: string }[];
}

const ruleWords: Record<RouteWhyShape['rule'], string> = {
  pin: 'pinned',
  session: 'kept on its account for the prompt cache',
  active: 'the active account',
  cache: 'with a recent session of its repo and model, for the prompt cache',
  best: 'best by quota',
};

const pinWords: Record<NonNullable<RouteWhyShape['pin']>, string> = {
  header: 'pinned by the request',
  session: 'pinned (session pin)',
  repo: 'pinned (repository pin)',
};

// The same words cut down for a narrow column (`codex-lab log`'s ROUTE): each keeps the long
// form's leading words, so a reader who knows one recognises the other.
const ruleShortWords: Record<RouteWhyShape['rule'], string> = {
  pin: 'pinned',
  session: 'kept on account',
  active: 'active account',
  cache: 'recent session',
  best: 'best by quota',
};

const pinShortWords: Record<NonNullable<RouteWhyShape['pin']>, string> = {
  header: 'request pin',
  session: 'session pin',
  repo: 'repository pin',
};

const leftWords: Record<string, string> = {
  failed: 'failed',
  auth_error: 'needed a sign-in',
  unreadable_file: 'could not be read',
  limited: 'was limited',
  exhausted: 'had used up its quota',
  circuit_open: 'was failing upstream',
  unknown_profile: 'did not exist',
  removed: 'was removed',
};

/** How much of a route to say: `long` sentences, or `short` words for a narrow column. */
export type RouteForm = 'long' | 'short';

/**
 * The rule alone that put a turn on its account, without what a fallback left: "kept on its
 * account for the prompt cache" (`short`: "kept on account"), "pinned (session pin)" (`short`:
 * "session pin"), "best by quota".
 */
export function routeRuleText(why: RouteWhyShape, form: RouteForm = 'long'): string {
  const pins = form === 'short' ? pinShortWords : pinWords;
  const rules = form === 'short' ? ruleShortWords : ruleWords;
  return why.rule === 'pin' && why.pin !== null ? pins[why.pin] : rules[why.rule];
}

/** One profile a fallback left, and why: "work was limited", "team needed a sign-in". */
export function routeLeftText(entry: { profile: string; code: string }): string {
  return `${entry.profile} ${leftWords[entry.code] ?? 'could not serve'}`;
}

/**
 * Why a session's last turn is on its account, in the words every surface shows (the dashboard's
 * live sessions, `codex-lab log`): "kept on its account for the prompt cache", "pinned (session
 * pin)", "best by quota", "fallback after work was limited: best by quota". Worded from the
 * decision the router recorded, never worked out again from the pool.
 */
export function routeWhyText(why: RouteWhyShape): string {
  const rule = routeRuleText(why);
  if (why.left.length === 0) return rule;
  return `fallback after ${why.left.map(routeLeftText).join(', ')}: ${rule}`;
}

/** What the surfaces that list requests read of one. */
export interface RequestRouteShape {
  route: string | null;
  why?: RouteWhyShape | null;
  fallback?: readonly { profile: string; reason: string }[];
}

/**
 * Why a logged request went where it went, in the live sessions' words (`routeWhyText`), for a
 * surface that says it in one line (the dashboard's Requests panel), so none says "best" where
 * the live sessions say "for the prompt cache": each profile it left is named once
 * (`requestLeftText`), the upstream's reason for one only when the router did not say why. A
 * request recorded before the rule was kept says its route as it did (`best`, `sticky`, …), and
 * a refusal what it tried ("refused after work (usage_limit_reached)"); null for a refusal that
 * tried none.
 */
export function requestRouteText(request: RequestRouteShape): string | null {
  const left = requestLeftText(request);
  if (request.why) {
    const rule = routeRuleText(request.why);
    return left === '' ? rule : `fallback after ${left}: ${rule}`;
  }
  if (left === '') return request.route;
  return `${request.route ?? 'refused'} after ${left}`;
}

/**
 * A logged request's rule alone (`routeRuleText`), for a table whose own column says what the
 * fallback left (`requestLeftText`), so neither repeats the other. An older record: its route.
 */
export function requestRuleText(request: RequestRouteShape, form: RouteForm): string | null {
  if (request.why) return routeRuleText(request.why, form);
  return request.route;
}

/**
 * The profiles a request left before the one that served it, each named once: in the route's
 * words when the router recorded why ("work had used up its quota", "work needed a sign-in"), else with
 * the upstream's reason as the fallback chain kept it ("work (usage_limit_reached)"). `name`
 * shapes each profile's name (a narrow column cuts it). Empty when nothing was left.
 */
export function requestLeftText(
  request: RequestRouteShape,
  name: (profile: string) => string = (profile) => profile,
): string {
  const left = request.why?.left ?? [];
  // A profile tried and refused on this request is also in `why.left`, read by the router
  // (`unauthorized` is "needed a sign-in"): one fact, said once, in the route's words.
  const chain = (request.fallback ?? []).filter(
    (entry) => !left.some((each) => each.profile === entry.profile),
  );
  return [
    ...left.map((entry) => routeLeftText({ ...entry, profile: name(entry.profile) })),
    ...chain.map((entry) => `${name(entry.profile)} (${entry.reason})`),
  ].join(', ');
}

/**
 * How each abnormal end of an answer's stream (the view's `RequestEnding`) is said, after its
 * status ("200, stream cut"). Passing a view whose ending this lacks fails to type-check.
 */
const endingWords = {
  upstream_cut: 'stream cut',
  upstream_error: 'upstream error',
  client_gone: 'client left',
} as const;

/**
 * A logged request's status as every surface shows it (the `log` table, the dashboard): the HTTP
 * status, and how its stream ended when not as it should ("200, stream cut"), so a turn Codex saw
 * break never reads as a clean 200.
 */
export function requestStatusText(request: {
  status: number;
  ending?: keyof typeof endingWords | null;
}): string {
  const ending = request.ending ? endingWords[request.ending] : undefined;
  return ending === undefined ? String(request.status) : `${request.status}, ${ending}`;
}

/**
 * `text` cut to `width` characters, its end replaced by "…" when it is longer, so a narrow column
 * says where it cut.
 */
export function cutText(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? '…'.slice(0, width) : `${wholeUnits(text.slice(0, width - 1)).trimEnd()}…`;
}

/** `text` without a last half of a surrogate pair (a cut through an emoji in a name). */
function wholeUnits(text: string): string {
  const last = text.charCodeAt(text.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? text.slice(0, -1) : text;
}

/** How far back from the cut `cutAtWord` looks for the end of a word before it cuts inside one. */
const wordSlack = 16;

/**
 * `text` cut to `width` characters at the end of a word, ending in "…" when it is longer, so a
 * line or label that must fit says where it stopped without breaking a word; inside a word only
 * when no word ends within the last `wordSlack` characters (a long name, a path), so a cut never
 * throws away most of the room. The cut drops a dangling separator and never splits an emoji.
 * Every surface's word cut (CLI lines, the tray's labels and tooltip) is this one.
 */
export function cutAtWord(text: string, width: number): string {
  if (text.length <= width) return text;
  const room = text.slice(0, Math.max(0, width - 1));
  // A word that ends just at the width is whole.
  const end = text[room.length] === ' ' ? room.length : room.lastIndexOf(' ');
  if (end <= 0 || end < room.length - wordSlack) return cutText(text, width);
  return `${wholeUnits(room.slice(0, end)).replace(/[\s,;:·—→-]+$/u, '')}…`;
}

/** Where a Codex run's pin came from: `codex --profile`, or the shell's `CODEX_LAB_PROFILE`. */
export type PinSource = 'flag' | 'environment';

/**
 * How to run Codex without the pin it got from `source`: the one way out every line about a
 * run's own pin gives (a pin no `unpin` lifts), so it is always one the user can take.
 */
export function unpinRunAdvice(source: PinSource): string {
  return source === 'flag' ? 'run without --profile' : 'unset CODEX_LAB_PROFILE';
}

/**
 * How a profile is named for routing: what its being unable to serve then means. A Codex run's
 * own pin (`{ codex }`) carries where it came from, for the way out.
 */
export type RoutingUse = { codex: PinSource } | 'active' | 'pin' | 'pin-fallback';

/**
 * Where the warning is read: the CLI names its commands and flags (`--allow-fallback`, `codex-lab
 * login`), the page its own controls (the card's Sign in again).
 */
export type WarningSurface = 'cli' | 'page';

/** What the warning reads of a profile (a `ProfileView` has it). */
export interface RoutingView {
  name: string;
  status: StatusName;
  statusCode?: string | null | undefined;
  statusMessage: string | null;
  unavailableUntil: string | null;
}

/**
 * The one warning for naming a profile for routing while it cannot serve, said by the CLI (after
 * `codex --profile`, `use`, `pin`) and by the dashboard (beside a pin): limited (until when),
 * needing sign-in, or with an auth file or keychain that cannot be read, and what Codex then meets;
 * worded for `surface` (the CLI by default). Null when the profile can serve.
 */
export function unavailableWarning(
  view: RoutingView,
  use: RoutingUse,
  now: number,
  surface: WarningSurface = 'cli',
): string | null {
  const cli = surface === 'cli';
  const kind = typeof use === 'string' ? use : 'codex';
  // Only a Codex run has a pin of its own to drop; the other uses never read it.
  const unpin = typeof use === 'string' ? '' : unpinRunAdvice(use.codex);
  if (view.status === 'limited') {
    const meets: Record<typeof kind, string> = {
      codex: `Codex will get usage-limit errors until then; ${unpin} to let the router choose a profile with quota left.`,
      active:
        'until then new sessions go to another profile (the active profile is used only while it has quota).',
      // The page pins strictly and has no fallback switch: the flag is the CLI's way out only.
      pin: cli
        ? 'sessions pinned to it get usage-limit errors until then (pin with --allow-fallback to let them move meanwhile).'
        : 'sessions pinned to it get usage-limit errors until then.',
      'pin-fallback': 'sessions pinned to it go to another profile until then.',
    };
    return `${view.name} is ${formatStatus(view.status, view.unavailableUntil, { now }, view.statusCode)}: ${meets[kind]}`;
  }
  if (view.status === 'auth_error' && unreadableFile(view.statusCode)) {
    // The file (or the keychain) is what stands in the way, not the sign-in: its own sentence
    // names it.
    const keychain = view.statusCode === 'keyring_unavailable';
    const what = keychain ? 'the keychain' : 'the file';
    const meets: Record<typeof kind, string> = {
      codex: `Until then Codex gets refusals naming ${what}; ${unpin} to let the router choose another profile.`,
      active: 'Until then new sessions go to another profile.',
      pin: `Until then sessions pinned to it are refused, naming ${what}.`,
      'pin-fallback': 'Until then sessions pinned to it go to another profile.',
    };
    const why =
      view.statusMessage ??
      (keychain ? 'the OS keychain is locked or unavailable.' : 'its auth file cannot be read.');
    return `${view.name} cannot be used: ${why} ${meets[kind]}`;
  }
  if (view.status === 'auth_error') {
    const meets: Record<typeof kind, string> = {
      codex: `until then Codex will get sign-in errors; ${unpin} to let the router choose another profile.`,
      active: 'until then new sessions go to another profile.',
      pin: 'until then sessions pinned to it get sign-in errors.',
      'pin-fallback': 'until then sessions pinned to it go to another profile.',
    };
    const cure = cli ? `run ${signInCommand(view.name)}` : 'Sign in again on its card';
    return `${view.name} needs sign-in (${cure}): ${meets[kind]}`;
  }
  return null;
}
