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
 * Keeps keyboard focus inside `container` across its re-renders: the browser drops focus to
 * <body> when it moves a focused node (a card renamed, which may move it among its siblings), so
 * the control that had it takes it back; and when that control left the page (Make active, gone
 * once the account is active), the first control still shown where it was takes focus (the rest
 * of its row of actions), else the container itself. A user who left the card on purpose is not
 * pulled back: a blur to nowhere is forgotten once the render that caused it is over.
 */
export function useKeepFocusAcross(container: RefObject<HTMLElement | null>): void {
  const last = useRef<HTMLElement | null>(null);
  // Where the control was: once it is gone, its parent is the only way back to its place.
  const lastPlace = useRef<HTMLElement | null>(null);
  useEffect(() => {
    const node = container.current;
    if (!node) return;
    let forget: number | undefined;
    const onIn = (event: FocusEvent) => {
      window.clearTimeout(forget);
      last.current = event.target instanceof HTMLElement ? event.target : null;
      lastPlace.current = last.current?.parentElement ?? null;
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
  // After every render: what removes or moves the control is any change of state.
  useLayoutEffect(() => {
    const had = last.current;
    const node = container.current;
    const active = document.activeElement;
    if (!had || !node || (active !== null && active !== document.body)) return;
    if (had.isConnected) {
      if (node.contains(had)) had.focus();
      return;
    }
    let place = lastPlace.current;
    while (place && !place.isConnected) place = place.parentElement;
    const within = place && node.contains(place) ? place : node;
    (tabbableIn(within)[0] ?? node).focus();
  });
}

/** What Tab stops at, before visibility and radio groups are taken into account. */
const tabStops =
  'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * The controls Tab visits inside `container`, in order: shown, enabled, and of a radio group
 * only the checked one (or the first, none being checked), as the browser does.
 */
export function tabbableIn(container: HTMLElement): HTMLElement[] {
  return [...container.querySelectorAll<HTMLElement>(tabStops)].filter((element) => {
    if (element.tabIndex < 0 || element.getClientRects().length === 0) return false;
    if (!(element instanceof HTMLInputElement) || element.type !== 'radio') return true;
    if (element.checked) return true;
    const group = [...container.querySelectorAll<HTMLInputElement>('input[type=radio]')].filter(
      (radio) => radio.name === element.name && radio.form === element.form,
    );
    return !group.some((radio) => radio.checked) && group[0] === element;
  });
}

/**
 * Keeps Tab and Shift+Tab inside an open modal `dialog`: past its last control Tab goes back to
 * its first, and Shift+Tab from its first to its last. A modal dialog makes the page inert, but
 * the browser still tabs out of it to the document and its own chrome, leaving a keyboard user
 * nowhere on the page.
 */
export function useFocusCycle(dialog: RefObject<HTMLElement | null>): void {
  useEffect(() => {
    const node = dialog.current;
    if (!node) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Tab' || event.defaultPrevented) return;
      const stops = tabbableIn(node);
      const active = document.activeElement;
      // Only past either end does focus wrap; from a control Tab does not stop at (a focused
      // status, the dialog itself) the ends are found by document order.
      const inside = active instanceof HTMLElement && node.contains(active) && active !== node;
      const follows = (stop: HTMLElement) =>
        inside && (active.compareDocumentPosition(stop) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
      const precedes = (stop: HTMLElement) =>
        inside && (active.compareDocumentPosition(stop) & Node.DOCUMENT_POSITION_PRECEDING) !== 0;
      const wrapTo = event.shiftKey
        ? stops.some(precedes)
          ? null
          : stops.at(-1)
        : stops.some(follows)
          ? null
          : stops[0];
      if (!wrapTo) return;
      event.preventDefault();
      wrapTo.focus();
    };
    node.addEventListener('keydown', onKey);
    return () => node.removeEventListener('keydown', onKey);
  }, [dialog]);
}
