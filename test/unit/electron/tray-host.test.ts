/**
 * The tray host: draws the tray and its menu from state (one function, `drawTray`), and redraws
 * by itself while what it shows counts down, on a fake clock.
 */
import { describe, expect, it } from 'vitest';
import { createTrayHost, type TraySurface } from '../../../electron/tray/tray-host.ts';
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

    // Down to "now", then past it: the account reads ready and nothing is left to count down.
    let fired = 0;
    while (clock.pending().length > 0 && fired < 100) {
      clock.fireNext();
      fired += 1;
    }
    expect(fired).toBe(40);
    expect(clock.now()).toBe(start + 40_001);
    expect(labelOf(surface, 'work')).toBe('work — 5h 88% · wk 60% left');
    expect(clock.pending()).toEqual([]);
    // Each redraw drew something new: the timer never draws an unchanged tray.
    expect(surface.shown).toHaveLength(42);
  });

  it('cancels its timer when the next state shows no countdown', () => {
    const clock = new FakeClock(start);
    const surface = recordingSurface();
    const host = createTrayHost(surface, { clock, menuBarTitle: false, timeZone: 'UTC' });
    host.render(failing(start + 5 * 60_000 + 30_000));
    expect(labelOf(surface, 'work')).toBe('⏸ work — failing upstream, tried again in 5m');
    // Minutes are shown: the next change is the next whole minute it displays.
    expect(clock.pending().map((timer) => timer.dueAt - start)).toEqual([30_001]);

    host.render(uiState([uiProfile('work'), uiProfile('home')], {}, start));
    expect(clock.pending()).toEqual([]);
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
