/**
 * The page's words: everything about time, windows and statuses comes from the shared formatting
 * module (`core/format.ts`), so the dashboard says what the CLI and the tray say; this file only
 * adapts it to the page's inputs and adds the sign-in failure explanations.
 */
import {
  capitalize,
  failingUpstreamLabel,
  failingUpstreamText,
  formatAgoSince,
  formatBackAt,
  formatClockTime,
  formatLogStamp,
  formatStatus,
  humanizeTimes,
  notLiveText,
  resetMomentText,
  statusLabel,
  windowLeft,
  unreadableFile,
  usedUpWindow,
  windowName,
  withoutSentenceEnd,
  type NotLiveQuota,
} from '../core/format.ts';
import type {
  FailureFix,
  LabState,
  ProfileView,
  QuotaWindowView,
} from '../core/service/contract.ts';

export {
  formatCount,
  quotaNotLive,
  formatDuration,
  formatLatency,
  sessionLabel,
  statusLabel,
} from '../core/format.ts';

/** What an account is in, as its card's badge and its row's tag say it (`accountState`). */
export interface AccountState {
  /** The tag's words: `Ready`, `Limited`, `Weekly used up`, `Failing upstream`, … */
  text: string;
  /** The card's badge: the tag's words, with when a skip ends for one failing upstream. */
  badge: string;
  /** The whole state with when it ends: `Weekly used up until Thu 09:00`, … (the tooltip). */
  title: string;
  /** The colour: a status, or `limited` for any account that waits. */
  tone: ProfileView['status'];
}

/**
 * The state of one account in the words every surface uses, most telling first: skipped for
 * failing upstream, a status that says more than ready (limited, needs sign-in, unreadable), a
 * window used up (the router skips it until that resets though its status reads ready, as the
 * pool banner and the tray count it), else ready or not checked yet. The one rule of the card's
 * badge and the list row's state tag.
 */
export function accountState(profile: ProfileView, now: number): AccountState {
  const failing = failingUpstreamText(profile.status, profile.skippedUntil, now);
  if (failing !== null) {
    const text = capitalize(failingUpstreamLabel);
    return { text, badge: capitalize(failing), title: capitalize(failing), tone: 'limited' };
  }
  const usedUp = profile.status === 'ok' ? usedUpWindow(profile, now) : null;
  if (usedUp) {
    const text = `${capitalize(windowName(usedUp.window.windowMinutes))} used up`;
    const title = `${text} until ${formatClockTime(usedUp.until, { now })}`;
    return { text, badge: text, title, tone: 'limited' };
  }
  const text = capitalize(statusLabel(profile.status, profile.statusCode));
  const title = capitalize(
    formatStatus(profile.status, profile.unavailableUntil, { now }, profile.statusCode),
  );
  return { text, badge: text, title, tone: profile.status };
}

/** How an account stands to new sessions (`sessionMarks`). */
export interface SessionMarks {
  /** The user made it active (not Auto). */
  active: boolean;
  /**
   * New sessions go to it, and "Active" does not already say so: in Auto, or when the active
   * account cannot take them and the pool hands them to this one.
   */
  newSessions: boolean;
  /** The Active mark's tooltip: whether new sessions really go there. */
  activeTitle: string;
}

/**
 * Which account new sessions go to, as its card and its row mark it: the pool's answer
 * (`pool.next`, the router's own chooser, which the banner and the tray name too), not only the
 * user's choice, so the account in use is never a guess, in Auto least of all.
 */
export function sessionMarks(lab: LabState, name: string): SessionMarks {
  const active = lab.active !== 'auto' && lab.active === name;
  const next = lab.pool.next.profile;
  const takes = next === name;
  return {
    active,
    newSessions: takes && !active,
    activeTitle: takes
      ? 'New sessions go here'
      : next
        ? `Made active; new sessions go to ${next} while it cannot take them`
        : 'Made active; it cannot take new sessions now',
  };
}

/** A quota bar's colour class: what is left, so little left warns (amber at 30 %, red at 10 %). */
export type BarTone = 'ok' | 'warn' | 'critical';

/**
 * The tone of a bar that shows `left` percent of a window (`windowLeft(…).left`): the one
 * threshold rule of the card's bars and the dense list's mini bars. A used-up window is critical.
 */
export function barTone(left: number): BarTone {
  return left <= 10 ? 'critical' : left <= 30 ? 'warn' : 'ok';
}

/** A bar's words for one window (`barWords`). */
export interface BarWords {
  /** `resets 14:05 (in 2h 59m)`: the reset as its clock time and countdown, shown beside the figure. */
  reset: string;
  /**
   * What a screen reader hears as the bar's value: `63% left, resets 14:05 (in 2h 59m)`, after
   * the reason and age of figures that are not live (`needs sign-in — last known, as of 2h ago:
   * 90% left, …`), `not known yet`.
   */
  spoken: string;
  /** `Needs sign-in — last known, as of 2h ago` for figures that are not live, else null. */
  lastKnown: string | null;
}

/**
 * The words of a quota bar (the card's and the list row's alike): what is left, when the window
 * resets as a clock time with its countdown (in the bar's words, not only a hover title), and,
 * for an account whose figures are not live (`quotaNotLive`), the reason and their age first.
 */
export function barWords(
  window: QuotaWindowView | null,
  now: number,
  notLive: NotLiveQuota | null,
): BarWords {
  const parts = windowLeft(window, now);
  const reset = parts.left === null ? '' : resetMomentText(window?.resetsAt ?? null, { now });
  const live = parts.left === null ? parts.text : `${parts.amount}, ${reset}`;
  return {
    reset,
    spoken: notLive === null ? live : `${notLiveText(notLive, { now })}: ${live}`,
    lastKnown: notLive === null ? null : lastKnownLine(notLive, now),
  };
}

/** `Needs sign-in — last known, as of 2h ago`: the line over a card's bars that are not live. */
export function lastKnownLine(notLive: NotLiveQuota, now: number): string {
  return capitalize(notLiveText(notLive, { now }));
}

/** "just now", "5m ago", "3h 5m ago", "never". */
export function formatAgo(iso: string | null, now: number): string {
  return formatAgoSince(iso, now);
}

/**
 * "14:05:09": a log entry's local time, with the date when not from today ("28 Nov 14:05:09"),
 * as `codex-lab log` shows it. `timeZone` pins it in tests.
 */
export function formatClock(iso: string, now: number = Date.now(), timeZone?: string): string {
  const at = Date.parse(iso);
  return Number.isNaN(at) ? '' : formatLogStamp(at, { now, ...(timeZone ? { timeZone } : {}) });
}

/** "5-hour" / "Weekly" / "1-day": the name of a quota window, capitalised for a title. */
export function windowTitle(window: QuotaWindowView | null, fallback: string): string {
  const minutes = window?.windowMinutes;
  if (!minutes) return fallback;
  return capitalize(windowName(minutes));
}

/**
 * Plain words for a sign-in failure code, with the dialog's own fix (its Try again, its choices):
 * the core's sentence says only what went wrong, and names no command.
 */
export function explainLoginError(code: string, message: string): string {
  switch (code) {
    case 'auth_missing_code':
      return 'The ChatGPT page came back without a sign-in code, so nothing was saved. Try again.';
    case 'token_exchange_failed': {
      // Who refused and why (the issuer's status and words, or the network), then the fix. A
      // network failure's sentence ends with its own fix ("Check the network and try again."):
      // that one is the dialog's fix then, so "try again" is said once.
      const said = withoutSentenceEnd(message);
      const ownFix = /^(.*\.)\s+([^.]*\btry again)$/i.exec(said);
      return ownFix
        ? `${ownFix[1]} Nothing was saved: ${ownFix[2]!.charAt(0).toLowerCase()}${ownFix[2]!.slice(1)}.`
        : `${said}. Nothing was saved: try again.`;
    }
    case 'device_code_unsupported':
      return 'This sign-in service does not offer one-time codes: choose another way to open the sign-in page.';
    case 'auth_denied':
      return 'The sign-in was declined on the ChatGPT page, so nothing was saved. Try again and choose “Continue”.';
    case 'auth_timeout':
      return 'The sign-in took too long and timed out. Start it again and finish it within a few minutes.';
    case 'port_in_use':
      return 'Another program (often another Codex sign-in) is using the sign-in callback port. Close it and try again.';
    case 'auth_cancelled':
      return 'The sign-in was cancelled.';
    case 'auth_state_mismatch':
      return 'The sign-in answer did not match this request (an old browser tab?). Start again.';
    case 'workspace_restricted':
      return 'That workspace does not allow Codex sign-in for this account.';
    default:
      return message;
  }
}

/**
 * "back in 59m, at 14:30" for a limited profile, or null when the end of the limit is unknown or
 * already past. `timeZone` pins the clock part in tests.
 */
export function formatLimitedUntil(
  until: string | null,
  now: number,
  timeZone?: string,
): string | null {
  const back = formatBackAt(until, { now, ...(timeZone ? { timeZone } : {}) });
  return back === null ? null : `back ${back}`;
}

/** "14:05" when within the next 20 hours, else "Thu 14:05" (the shared clock-time words). */
export function formatAt(iso: string, now: number, timeZone?: string): string {
  return formatClockTime(Date.parse(iso), { now, timeZone });
}

/**
 * What removing a profile takes with it, asked before it happens: its pins, and the routing mode
 * when it is the active profile (new sessions go back to Auto).
 */
export function removalQuestion(name: string, pins: number, active: boolean): string {
  const losses = [
    ...(pins > 0 ? [`its ${pins} pin${pins === 1 ? ' goes' : 's go'}`] : []),
    ...(active ? ['new sessions go back to Auto'] : []),
  ];
  if (losses.length === 0) return `Remove ${name}? Other profiles stay.`;
  return `Remove ${name}? ${capitalize(losses.join(' and '))}; other profiles stay.`;
}

/**
 * True when a profile's card offers a sign-in as its fix: it needs one. A profile whose auth file
 * cannot be read needs that file mended or moved (its sentence names it), not a sign-in.
 */
export function signInFixes(profile: Pick<ProfileView, 'status' | 'statusCode'>): boolean {
  return profile.status === 'auth_error' && !unreadableFile(profile.statusCode);
}

/**
 * A profile's status sentence for its card. The core's sentence says what is wrong (its moments
 * worded here, as of `now`); for a profile that needs a sign-in the card adds how to fix it, which
 * is the "Sign in again" button beside it (the command line says its own command instead).
 */
export function cardStatusMessage(message: string, needsSignIn: boolean, now: number): string {
  const text = humanizeTimes(message, { now });
  if (!needsSignIn) return text;
  return `${withoutSentenceEnd(text)}. Use Sign in again below.`;
}

/**
 * How the page fixes a file problem it lists, in words, when no control of its own does: a folder
 * with an invalid name is renamed by the user, then added with Add account. Null for a fix the
 * page shows as a control (`add_account`: its button) or has no words for.
 */
export function problemFixText(fix: FailureFix | undefined): string | null {
  if (fix?.action !== 'rename_folder') return null;
  return `To list it again, give the folder a valid name, then use Add account with that name and sign in as ${fix.email ?? 'the same account'}.`;
}

/**
 * How the page fixes a failure, said where the failure is shown (a banner): the control on the
 * page, never a command: `Use “Sign in again” on the work card.`
 */
export function fixPointer(fix: FailureFix | undefined): string | null {
  if (fix?.action !== 'sign_in' || fix.profiles.length === 0) return null;
  const names = fix.profiles;
  const list =
    names.length === 1
      ? names[0]
      : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  return `Use “Sign in again” on the ${list} card${names.length === 1 ? '' : 's'}.`;
}
