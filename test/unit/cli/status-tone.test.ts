/**
 * The STATUS cell's colour says what its words say: a profile the router skipped for failing
 * upstream is painted as waiting only while it is skipped, by the same rule as the words.
 */
import { describe, expect, it } from 'vitest';
import { quotaColumns, statusStyle } from '../../../core/cli/format.ts';
import { failingUpstreamText } from '../../../core/format.ts';
import type { ProfileView } from '../../../core/view-types.ts';

const now = Date.UTC(2026, 10, 30, 12);

function paintedStatus(view: Pick<ProfileView, 'status' | 'skippedUntil'>): string {
  const style = statusStyle([view as ProfileView], quotaColumns, true, now);
  return style('ready', 0, 0);
}

describe('the STATUS cell’s tone', () => {
  it('is a warning while the router skips the profile for failing upstream', () => {
    const skippedUntil = new Date(now + 40_000).toISOString();
    expect(failingUpstreamText('ok', skippedUntil, now)).not.toBeNull();
    expect(paintedStatus({ status: 'ok', skippedUntil })).toBe('\u001b[33mready\u001b[0m');
  });

  it('is the status’s own once the time it is tried again has passed', () => {
    const skippedUntil = new Date(now - 1_000).toISOString();
    expect(failingUpstreamText('ok', skippedUntil, now)).toBeNull();
    expect(paintedStatus({ status: 'ok', skippedUntil })).toBe('\u001b[32mready\u001b[0m');
  });
});
