/**
 * The tray's host without Electron: draws the tray from each state (`drawTray`), shows a drawing
 * only when it differs from the last, and while what it shows counts down ("tried again in 40s")
 * draws the same state again when the countdown ticks over, on an injected clock. While the menu
 * is open it is left alone: replacing a tray's menu closes it under the user's pointer.
 */
import type { Clock, Cancel } from '../../core/ports.ts';
import type { LabState } from '../../core/service/contract.ts';
import type { UserPreferences } from '../ipc/desktop-contract.ts';
import { drawTray, type TrayDrawing, type TrayMenuItem } from './tray-menu.ts';

/** Where a drawing is shown: the real `Tray` in the app, a recorder in tests. */
export interface TraySurface {
  /** Shows a drawing: its title, tooltip and menu. */
  show(drawing: TrayDrawing): void;
  /** Removes the tray. */
  destroy(): void;
}

/** A tray drawn from state. */
export interface TrayController {
  /**
   * Draws the menu from a new state (and the current preferences; `offline`, the sentence saying
   * the router is not answering, while it is not).
   */
  render(state: LabState, preferences?: UserPreferences, offline?: string | null): void;
  /**
   * Rebuilds the menu from what was last drawn even though nothing changed: after an action that
   * failed, Electron's menu still shows the click (a radio item moved), not the state.
   */
  redraw(): void;
  /** The template last drawn (the smoke test reads it; the menu object has no public view). */
  items(): readonly TrayMenuItem[];
  /**
   * The menu opened (Electron's `menu-will-show`): drawings wait until it closes, for at most
   * `menuHoldMs`, in case its close is never reported.
   */
  menuOpened(): void;
  /** The menu closed (`menu-will-close`): what waited is drawn now. */
  menuClosed(): void;
  /** Stops the countdown timer and removes the tray. */
  destroy(): void;
}

/**
 * How long an open menu holds drawings back at most: Linux reports no menu events at all, and a
 * close that is never reported must not freeze the tray.
 */
export const menuHoldMs = 120_000;

/** What the host needs besides the surface. */
export interface TrayHostOptions {
  /** The time a drawing is made at, and the timer that redraws a countdown. */
  clock: Clock;
  /** True where the tray has a menu-bar title (macOS). */
  menuBarTitle: boolean;
  /** IANA time zone; the system's when omitted (tests fix one). */
  timeZone?: string;
}

/** A tray host showing its drawings on `surface`. */
export function createTrayHost(surface: TraySurface, options: TrayHostOptions): TrayController {
  const { clock } = options;
  let lastSignature = '';
  let lastItems: TrayMenuItem[] = [];
  let last: [LabState, UserPreferences | undefined, string | null | undefined] | null = null;
  let cancelTick: Cancel | null = null;
  // When the menu opened (null while closed), and whether a drawing waits for it to close.
  let menuOpenedAt: number | null = null;
  let held = false;
  const draw = (
    state: LabState,
    preferences: UserPreferences | undefined,
    offline: string | null | undefined,
    force: boolean,
  ): void => {
    last = [state, preferences, offline];
    const drawing = drawTray(state, {
      now: clock.now(),
      offline: offline ?? null,
      menuBarTitle: options.menuBarTitle,
      ...(options.timeZone === undefined ? {} : { timeZone: options.timeZone }),
      ...(preferences ? { preferences } : {}),
    });
    // One timer at most, for the drawing on show: a new state's countdowns replace the last's.
    cancelTick?.();
    cancelTick = null;
    const { redrawAt } = drawing;
    if (redrawAt !== null) {
      cancelTick = clock.setTimeout(
        () => {
          cancelTick = null;
          if (last) draw(...last, false);
        },
        Math.max(0, redrawAt - clock.now()),
      );
    }
    if (drawing.signature === lastSignature && !force) return;
    if (menuOpenedAt !== null && !force && clock.now() - menuOpenedAt < menuHoldMs) {
      held = true;
      return;
    }
    held = false;
    lastSignature = drawing.signature;
    lastItems = drawing.items;
    surface.show(drawing);
  };
  return {
    render(state, preferences, offline) {
      draw(state, preferences, offline, false);
    },
    redraw() {
      if (last) draw(...last, true);
    },
    items: () => lastItems,
    menuOpened() {
      menuOpenedAt = clock.now();
    },
    menuClosed() {
      menuOpenedAt = null;
      if (held && last) draw(...last, false);
    },
    destroy() {
      cancelTick?.();
      cancelTick = null;
      last = null;
      surface.destroy();
    },
  };
}
