/**
 * A window used up in a turn's response headers (`x-codex-primary-used-percent: 100`, or the same
 * figures from a WebSocket's `codex.rate_limits` event, which reach the engine as headers) sets
 * the same limit mark in `state/health.json` as a usage read showing 100 %: routing and the views
 * already hold the account spent, and a process reading only the files (priming, a command with
 * no router) must too. Headers repeated unchanged are not parsed again, and change nothing.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { labPaths } from '../../../core/home/paths.ts';
import { HealthStore } from '../../../core/state/health-store.ts';
import { inMemoryEngine } from '../../helpers/in-memory-engine.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';

const start = Date.UTC(2026, 10, 30, 12);
let time = start;
const clock = { now: () => time, setTimeout, clearTimeout } as never;
const resetsIn = 3600;

/** Quota headers for the main (`codex`) limit at `used` % of its 5-hour window. */
function quotaHeaders(used: number): Record<string, string> {
  return {
    'x-codex-primary-used-percent': String(used),
    'x-codex-primary-window-minutes': '300',
    'x-codex-primary-reset-at': String(Math.floor(start / 1000) + resetsIn),
  };
}

async function engineIn(home: string) {
  const built = await inMemoryEngine({ home, profileCount: 2, clock });
  onTestFinished(() => built.engine.settled());
  return built;
}

describe('a used-up window in response headers', () => {
  it('marks the profile limited in health.json until the window resets, once', async () => {
    const home = tempFolder('codex-lab-header-limit-');
    const { engine, activity } = await engineIn(home);
    engine.observe('profile-0', 200, quotaHeaders(40));
    await engine.settled();
    expect((await new HealthStore(labPaths(home)).read()).profiles['profile-0']?.status).toBe('ok');

    engine.observe('profile-0', 200, quotaHeaders(100));
    await engine.settled();
    const mark = (await new HealthStore(labPaths(home)).read()).profiles['profile-0'];
    expect(mark).toMatchObject({
      status: 'limited',
      unavailableUntil: start + resetsIn * 1000,
      code: 'usage_limit_reached',
    });
    expect(engine.health('profile-0')).toMatchObject({ status: 'limited' });

    // The same headers again (the next answers of a pinned session): no second mark, no line,
    // and a success does not lift a mark its own figures still show spent.
    const lines = activity.list().filter((entry) => entry.kind === 'limited').length;
    expect(lines).toBe(1);
    time += 1000;
    engine.observe('profile-0', 200, quotaHeaders(100));
    await engine.settled();
    expect((await new HealthStore(labPaths(home)).read()).profiles['profile-0']).toEqual(mark);
    expect(activity.list().filter((entry) => entry.kind === 'limited')).toHaveLength(lines);
  });

  it('is lifted by headers that show room again', async () => {
    const home = tempFolder('codex-lab-header-room-');
    const { engine } = await engineIn(home);
    engine.observe('profile-1', 200, quotaHeaders(100));
    await engine.settled();
    time += 1000;
    engine.observe('profile-1', 200, quotaHeaders(2));
    await engine.settled();
    expect((await new HealthStore(labPaths(home)).read()).profiles['profile-1']?.status).toBe('ok');
  });
});
