/**
 * Keyboard focus across a re-render that replaces what had it: a control that leaves the page
 * (a removed card, a renamed card mounted under its new name) must hand focus on, or it falls to
 * <body> and a keyboard user starts again from the top.
 */
import { useEffect, useRef, type RefObject } from 'react';

/**
 * The button that opened a panel (a form, a confirmation) takes focus back when that panel
 * closes, if `returnOnClose` was called first (a close that moves focus elsewhere does not).
 */
export function useReturnFocus<T extends HTMLElement>(
  open: boolean,
): { ref: RefObject<T | null>; returnOnClose(): void } {
  const ref = useRef<T>(null);
  const wanted = useRef(false);
  useEffect(() => {
    if (!open && wanted.current) {
      wanted.current = false;
      ref.current?.focus();
    }
  }, [open]);
  return { ref, returnOnClose: () => (wanted.current = true) };
}

/**
 * Focuses what `find` returns: at once when it is on the page, else as soon as it appears (the
 * state that shows it may come after the answer), giving up after `timeoutMs`.
 */
export function focusWhenShown(find: () => HTMLElement | null, timeoutMs = 5000): void {
  const now = find();
  if (now) {
    now.focus();
    return;
  }
  const observer = new MutationObserver(() => {
    const found = find();
    if (!found) return;
    stop();
    found.focus();
  });
  const timer = window.setTimeout(() => stop(), timeoutMs);
  const stop = () => {
    observer.disconnect();
    window.clearTimeout(timer);
  };
  observer.observe(document.body, { childList: true, subtree: true });
}

/** The profile card for `name` (an `article[data-profile]`), if it is on the page. */
export function profileCard(name: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`article[data-profile="${CSS.escape(name)}"]`);
}
