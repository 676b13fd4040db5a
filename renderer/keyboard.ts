/**
 * Pure keyboard helpers for composite widgets (WAI-ARIA Authoring Practices, "Radio Group").
 */

/**
 * The index a radio group moves to for `key` from `index` among `count` options: arrows move
 * (wrapping at the ends), Home and End jump; null for any other key.
 */
export function radioKeyTarget(key: string, index: number, count: number): number | null {
  if (count <= 0) return null;
  switch (key) {
    case 'ArrowRight':
    case 'ArrowDown':
      return (index + 1) % count;
    case 'ArrowLeft':
    case 'ArrowUp':
      return (index - 1 + count) % count;
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}
