/**
 * Stored pins as every surface lists them (`codex-lab pins`, `list`'s PINS column, the dashboard's
 * Pins section): one flat, sorted list of session and repository pins.
 */
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

/** How many pins name each profile. */
export function pinCounts(pins: readonly PinView[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const pin of pins) counts.set(pin.profile, (counts.get(pin.profile) ?? 0) + 1);
  return counts;
}
