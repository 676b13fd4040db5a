/**
 * Theme choice: follow the system, or force light or dark.
 */
import type { ThemeChoice } from '../stores/types.ts';
import { useLabStore } from '../stores/use-lab-store.ts';

const choices: { value: ThemeChoice; label: string }[] = [
  { value: 'system', label: 'Auto' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
];

/** A three-way segmented radio group. */
export function ThemeToggle() {
  const theme = useLabStore((state) => state.theme);
  const setTheme = useLabStore((state) => state.setTheme);
  return (
    <div className="segmented" role="radiogroup" aria-label="Theme">
      {choices.map((choice) => (
        <button
          key={choice.value}
          type="button"
          role="radio"
          aria-checked={theme === choice.value}
          className={theme === choice.value ? 'segment segment-on' : 'segment'}
          onClick={() => setTheme(choice.value)}
        >
          {choice.label}
        </button>
      ))}
    </div>
  );
}
