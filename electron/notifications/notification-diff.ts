/**
 * Which desktop notifications a state change deserves: one when a profile becomes limited, one
 * when it needs signing in again (or its auth file cannot be read). A pure diff of two states, so the rule is tested without
 * Electron and never repeats a notice for a status that did not change.
 */
import type { LabState } from '../../core/service/contract.ts';
import { needsSignInSentence, statusLabel } from '../../core/format.ts';
import { displayName, formatUntil, type FormatOptions } from '../tray/tray-format.ts';

/** One notification to show. */
export interface LabNotice {
  profile: string;
  kind: 'limited' | 'auth_error';
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
  const before = new Map(previous.profiles.map((profile) => [profile.name, profile.status]));
  const notices: LabNotice[] = [];
  for (const profile of next.profiles) {
    const was = before.get(profile.name);
    if (was === undefined || was === profile.status) continue;
    const name = displayName(profile);
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
