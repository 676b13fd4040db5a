/**
 * Which desktop notifications a state change deserves: one when a profile becomes limited, one
 * when it needs signing in again (or its auth file cannot be read), one when the router starts
 * skipping it for failing upstream (its circuit opened). A pure diff of two states, so the rule
 * is tested without Electron and never repeats a notice for a state that did not change.
 */
import type { LabState, ProfileView } from '../../core/service/contract.ts';
import {
  capitalize,
  failingUpstreamLabel,
  failingUpstreamText,
  needsSignInSentence,
  statusLabel,
} from '../../core/format.ts';
import { displayName, formatUntil, type FormatOptions } from '../tray/tray-format.ts';

/** One notification to show. */
export interface LabNotice {
  profile: string;
  kind: 'limited' | 'auth_error' | 'failing_upstream';
  title: string;
  body: string;
}

/**
 * The notices for going from `previous` to `next`. The first state after start (`previous` null)
 * yields none: the user already knows about problems that existed before they launched the app.
 */
export function diffNotifications(
  previous: LabState | null,
  next: LabState,
  options: FormatOptions,
): LabNotice[] {
  if (!previous) return [];
  const before = new Map(previous.profiles.map((profile) => [profile.name, profile]));
  const notices: LabNotice[] = [];
  for (const profile of next.profiles) {
    const earlier = before.get(profile.name);
    if (earlier === undefined) continue;
    const name = displayName(profile);
    const failing = failingUpstreamText(profile.status, profile.skippedUntil, options.now);
    if (failing !== null && !sameRun(earlier, profile)) {
      notices.push({
        profile: profile.name,
        kind: 'failing_upstream',
        title: `${name}: ${failingUpstreamLabel}`,
        body: `${capitalize(failing)}: new requests go to your other accounts.`,
      });
    }
    const was = earlier.status;
    if (was === profile.status) continue;
    if (profile.status === 'limited') {
      const until = profile.unavailableUntil
        ? ` until ${formatUntil(profile.unavailableUntil, options)}`
        : '';
      notices.push({
        profile: profile.name,
        kind: 'limited',
        title: `${name} reached its usage limit`,
        body: `New requests go to your other accounts${until}.`,
      });
    } else if (profile.status === 'auth_error') {
      // Worded from the view's status code like every other surface: an auth file that cannot be
      // read is not a sign-in to do.
      const label = statusLabel(profile.status, profile.statusCode);
      notices.push({
        profile: profile.name,
        kind: 'auth_error',
        title: label === 'needs sign-in' ? `${name} needs sign-in` : `${name}: ${label}`,
        body: profile.statusMessage ?? needsSignInSentence(profile.name, 'its sign-in ended'),
      });
    }
  }
  return notices;
}

/**
 * True when `next`'s open circuit belongs to a run of failures `earlier` already showed. A run the
 * router dates (`failingSince`) is the same while that date is, through the moments its circuit
 * closes to try the account again; an undated one (a credentials read that failed) is one opening,
 * seen open in `earlier` (a view carries `skippedUntil` only while it is ahead, and the service
 * pushes a new state when it passes). `earlier` read ready then too: a limited account that
 * recovers while its circuit is open starts to read as failing now.
 */
function sameRun(earlier: ProfileView, next: ProfileView): boolean {
  if (earlier.status !== 'ok' && earlier.status !== 'unknown') return false;
  if (next.failingSince !== undefined) return earlier.failingSince === next.failingSince;
  return earlier.skippedUntil !== undefined;
}
