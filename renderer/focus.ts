/**
 * Keyboard focus across a re-render that replaces what had it: a control that leaves the page
 * (a removed card, a renamed card mounted under its new name) must hand focus on, or it falls to
 * <body> and a keyboard user starts again from the top.
 */

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
