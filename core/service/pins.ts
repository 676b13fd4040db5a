/**
 * Stored pins as every surface lists them (`codex-lab pins`, `list`'s PINS column, the dashboard's
 * Pins section): one flat, sorted list of session and repository pins.
 */
import { codexLabCommand } from '../format.ts';
import type { Registry } from '../profiles/schema.ts';
import type { PinView } from './contract.ts';

/** The registry's pins as views: repository pins first (by path), then sessions (by id). */
export function pinViews(registry: Pick<Registry, 'pins'>): PinView[] {
  const views = (kind: PinView['kind'], pins: Registry['pins']['sessions']): PinView[] =>
    Object.entries(pins)
      .map(([key, pin]) => ({
        kind,
        key,
        profile: pin.profile,
        allowFallback: pin.allowFallback,
        createdAt: pin.createdAt,
      }))
      .sort((a, b) => a.key.localeCompare(b.key));
  return [...views('repo', registry.pins.repos), ...views('session', registry.pins.sessions)];
}

/** The pins that name each profile (`list --json`'s `pins`), each in `pinViews`' order. */
export function pinsByProfile(pins: readonly PinView[]): Map<string, PinView[]> {
  const byProfile = new Map<string, PinView[]>();
  for (const pin of pins) byProfile.set(pin.profile, [...(byProfile.get(pin.profile) ?? []), pin]);
  return byProfile;
}

/** How many pins name each profile (`list`'s PINS column): `pinsByProfile`'s, counted. */
export function pinCounts(pins: readonly PinView[]): Map<string, number> {
  return new Map([...pinsByProfile(pins)].map(([profile, named]) => [profile, named.length]));
}

/**
 * What the registry names that no profile is (a hand edit, a profile folder removed by hand): the
 * active profile, and pins. One sentence each, saying what routing then does and how to mend it.
 */
export function danglingReferences(
  registry: Pick<Registry, 'pins' | 'active'>,
  names: readonly string[],
): string[] {
  const known = new Set(names);
  const sentences: string[] = [];
  if (registry.active !== 'auto' && !known.has(registry.active)) {
    sentences.push(
      `The active profile "${registry.active}" does not exist, so new sessions are routed automatically; choose one with codex-lab use NAME, or codex-lab use auto.`,
    );
  }
  for (const pin of pinViews(registry)) {
    if (known.has(pin.profile)) continue;
    const flag = pin.kind === 'repo' ? '--repo' : '--session';
    sentences.push(
      `The ${pin.kind === 'repo' ? 'repository' : 'session'} pin ${pin.key} names "${pin.profile}", which does not exist, so its turns are refused; remove it with ${codexLabCommand('unpin', flag, pin.key)}.`,
    );
  }
  return sentences;
}
