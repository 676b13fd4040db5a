/**
 * The tray host: draws the tray and its menu from state (one function, `drawTray`), and redraws
 * by itself while what it shows counts down, on a fake clock.
 */
import { describe, expect, it } from 'vitest';
import { humanizedTimesChangeAt } from '../../../core/format.ts';
import { createTrayHost, menuHoldMs, type TraySurface } from '../../../electron/tray/tray-host.ts';
import type { TrayDrawing } from '../../../electron/tray/tray-menu.ts';
import { FakeClock } from '../priming/fake-clock.ts';
import { uiProfile, uiState } from '../../helpers/ui-lab-state.ts';

const start = Date.parse('2030-01-01T12:00:00Z');

/** A surface that keeps every drawing it was asked to show. */
function recordingSurface(): TraySurface & { shown: TrayDrawing[]; destroyed: boolean } {
  const surface = {
    shown: [] as TrayDrawing[],
    destroyed: false,
    show(drawing: TrayDrawing) {
      surface.shown.push(drawing);
    },
    destroy() {
      surface.destroyed = true;
    },
  };
  return surface;
}

/** The label of `profile`'s item in the last drawing. */
function labelOf(surface: { shown: TrayDrawing[] }, profile: string): string | undefined {
  return surface.shown.at(-1)?.items.find((item) => item.id === `use:${profile}`)?.label;
}

function failing(until: number) {
  return uiState(
    [uiProfile('work', { skippedUntil: new Date(until).toISOString() }), uiProfile('home')],
    {},
    start,
  );
}

/**
 * The one timer left when no account counts down: the pool line's reason names the week's reset
 * ("weekly resets Fri 12:00 (in 3d)"), which reads differently on the next whole hour.
 */
function poolLineTimer(now: number): unknown[] {
  const detail = uiState([uiProfile('work'), uiProfile('home')], {}, start).pool.next.detail;
  const changes = humanizedTimesChangeAt(detail, now);
  return [expect.objectContaining({ dueAt: changes })];
}

describe('the tray host', () => {
  it('redraws a "tried again in 40s" countdown each second it changes, then stops', () => {
    const clock = new FakeClock(start);
    const surface = recordingSurface();
    const host = createTrayHost(surface, { clock, menuBarTitle: false, timeZone: 'UTC' });
    host.render(failing(start + 40_000));
    expect(labelOf(surface, 'work')).toBe('⏸ work — failing upstream, tried again in 40s');
    // One timer, at the moment the countdown next reads differently.
    expect(clock.pending().map((timer) => timer.dueAt)).toEqual([start + 1]);

    clock.fireNext();
    expect(labelOf(surface, 'work')).toBe('⏸ work — failing upstream, tried again in 39s');
    expect(clock.now()).toBe(start + 1);
    expect(clock.pending()).toHaveLength(1);

    // Down to "now", then past it: the account reads ready and nothing counts down by the second.
    let fired = 0;
    while (labelOf(surface, 'work')?.startsWith('⏸') && fired < 100) {
      clock.fireNext();
      fired += 1;
    }
    expect(fired).toBe(40);
    expect(clock.now()).toBe(start + 40_001);
    expect(labelOf(surface, 'work')).toBe('work — 5h 88% · wk 60% left');
    expect(clock.pending()).toEqual(poolLineTimer(clock.now()));
    expect(clock.pending()[0]!.dueAt - clock.now()).toBeGreaterThan(60_000);
    // Each redraw drew something new: the timer never draws an unchanged tray.
    expect(surface.shown).toHaveLength(42);
  });

  it('cancels its timer when the next state shows no countdown of its own', () => {
    const clock = new FakeClock(start);
    const surface = recordingSurface();
    const host = createTrayHost(surface, { clock, menuBarTitle: false, timeZone: 'UTC' });
    const state = failing(start + 5 * 60_000 + 30_000);
    host.render(state);
    expect(labelOf(surface, 'work')).toBe('⏸ work — failing upstream, tried again in 5m');
    // Minutes are shown: the account's next change is the next whole minute it displays (or the
    // pool line's, when that comes first: one timer, for the soonest).
    const poolChange = humanizedTimesChangeAt(state.pool.next.detail, start)!;
    expect(clock.pending().map((timer) => timer.dueAt)).toEqual([
      Math.min(start + 30_001, poolChange),
    ]);

    host.render(uiState([uiProfile('work'), uiProfile('home')], {}, start));
    expect(clock.pending()).toEqual(poolLineTimer(start));
    expect(labelOf(surface, 'work')).toBe('work — 5h 88% · wk 60% left');
  });

  it('draws an unchanged state once, and stops counting down when destroyed', () => {
    const clock = new FakeClock(start);
    const surface = recordingSurface();
    const host = createTrayHost(surface, { clock, menuBarTitle: false, timeZone: 'UTC' });
    host.render(failing(start + 40_000));
    host.render(failing(start + 40_000));
    expect(surface.shown).toHaveLength(1);
    expect(clock.pending()).toHaveLength(1);
    host.redraw();
    expect(surface.shown).toHaveLength(2);
    expect(clock.pending()).toHaveLength(1);
    host.destroy();
    expect(surface.destroyed).toBe(true);
    expect(clock.pending()).toEqual([]);
  });

  it('draws the menu-bar title only where asked, and not while the router is not answering', () => {
    const clock = new FakeClock(start);
    const surface = recordingSurface();
    const host = createTrayHost(surface, { clock, menuBarTitle: true, timeZone: 'UTC' });
    const state = uiState([uiProfile('work')], {}, start);
    host.render(state);
    expect(surface.shown.at(-1)?.title).toBe('60%');
    host.render(state, undefined, 'The router is not answering.');
    expect(surface.shown.at(-1)?.title).toBe('');
  });
});

describe('the tray host while its menu is open', () => {
  it('holds drawings back while the menu is open and draws the last when it closes', () => {
    const clock = new FakeClock(start);
    const surface = recordingSurface();
    const host = createTrayHost(surface, { clock, menuBarTitle: false, timeZone: 'UTC' });
    host.render(failing(start + 40_000));
    expect(surface.shown).toHaveLength(1);
    host.menuOpened();
    // The countdown ticks and a new state comes: replacing the menu would close it.
    clock.fireNext();
    host.render(failing(start + 90_000));
    expect(surface.shown).toHaveLength(1);
    expect(labelOf(surface, 'work')).toBe('⏸ work — failing upstream, tried again in 40s');
    host.menuClosed();
    expect(surface.shown).toHaveLength(2);
    expect(labelOf(surface, 'work')).toBe('⏸ work — failing upstream, tried again in 1m');
    // Closed with nothing waiting: nothing more is drawn.
    host.menuOpened();
    host.menuClosed();
    expect(surface.shown).toHaveLength(2);
  });

  it('draws again after menuHoldMs when the menu’s close is never reported', () => {
    const clock = new FakeClock(start);
    const surface = recordingSurface();
    const host = createTrayHost(surface, { clock, menuBarTitle: false, timeZone: 'UTC' });
    host.render(failing(start + 600_000));
    host.menuOpened();
    clock.set(start + menuHoldMs - 1);
    host.render(failing(start + 700_000));
    expect(surface.shown).toHaveLength(1);
    clock.set(start + menuHoldMs);
    host.render(failing(start + 700_000));
    expect(surface.shown).toHaveLength(2);
  });

  it('draws at once when asked to redraw after a failed action, open or not', () => {
    const clock = new FakeClock(start);
    const surface = recordingSurface();
    const host = createTrayHost(surface, { clock, menuBarTitle: false, timeZone: 'UTC' });
    host.render(failing(start + 40_000));
    host.menuOpened();
    host.redraw();
    expect(surface.shown).toHaveLength(2);
  });
});

describe('the tray host while the router is not answering', () => {
  it('sets no countdown timer: the state on show is the router’s last word', () => {
    const clock = new FakeClock(start);
    const surface = recordingSurface();
    const host = createTrayHost(surface, { clock, menuBarTitle: false, timeZone: 'UTC' });
    host.render(failing(start + 40_000), undefined, 'The Codex Lab router is not answering.');
    expect(clock.pending()).toEqual([]);
    // Answering again: the countdown runs.
    host.render(failing(start + 40_000));
    expect(clock.pending()).toHaveLength(1);
  });
});
