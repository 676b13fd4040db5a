/**
 * Keyboard focus across a re-render that replaces what had it: a control that leaves the page
 * (a removed card, a renamed card mounted under its new name) must hand focus on, or it falls to
 * <body> and a keyboard user starts again from the top.
 */
import { useEffect, useLayoutEffect, useRef, type RefObject } from 'react';

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
  // A renamed card stays the same element: only its data-profile changes, which is an attribute.
  observer.observe(document.body, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ['data-profile'],
  });
}

/** The profile card for `name` (an `article[data-profile]`), if it is on the page. */
export function profileCard(name: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`article[data-profile="${CSS.escape(name)}"]`);
}

/**
 * Keeps keyboard focus inside `container` across a change of `key` (a card renamed, which may
 * move it among its siblings): the browser drops focus to <body> when it moves a focused node, so
 * the control that had it takes it back. A user who left the card on purpose is not pulled back:
 * a blur to nowhere is forgotten once the render that caused it is over.
 */
export function useKeepFocusAcross(container: RefObject<HTMLElement | null>, key: string): void {
  const last = useRef<HTMLElement | null>(null);
  useEffect(() => {
    const node = container.current;
    if (!node) return;
    let forget: number | undefined;
    const onIn = (event: FocusEvent) => {
      window.clearTimeout(forget);
      last.current = event.target instanceof HTMLElement ? event.target : null;
    };
    const onOut = (event: FocusEvent) => {
      if (event.relatedTarget !== null) last.current = null;
      else forget = window.setTimeout(() => (last.current = null), 0);
    };
    node.addEventListener('focusin', onIn);
    node.addEventListener('focusout', onOut);
    return () => {
      window.clearTimeout(forget);
      node.removeEventListener('focusin', onIn);
      node.removeEventListener('focusout', onOut);
    };
  }, [container]);
  useLayoutEffect(() => {
    const had = last.current;
    const active = document.activeElement;
    if (!had || !had.isConnected || !container.current?.contains(had)) return;
    if (active === null || active === document.body) had.focus();
  }, [container, key]);
}
