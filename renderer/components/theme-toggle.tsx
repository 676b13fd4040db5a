/**
 * Theme choice: follow the system, or force light or dark.
 */
import type { ThemeChoice } from '../stores/types.ts';
import { useLabStore } from '../stores/use-lab-store.ts';
import { SegmentedChoice, type SegmentedOption } from './segmented-choice.tsx';

const choices: readonly SegmentedOption<ThemeChoice>[] = [
  { value: 'system', label: 'Auto', description: 'Follow the system theme' },
  { value: 'light', label: 'Light', description: 'Always light' },
  { value: 'dark', label: 'Dark', description: 'Always dark' },
];

/** A three-way segmented radio group. */
export function ThemeToggle() {
  const theme = useLabStore((state) => state.theme);
  const setTheme = useLabStore((state) => state.setTheme);
  return <SegmentedChoice label="Theme" options={choices} value={theme} onChange={setTheme} />;
}
