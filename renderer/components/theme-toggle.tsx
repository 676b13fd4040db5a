/**
 * Theme choice: follow the system, or force light or dark.
 */
import { useRef, type KeyboardEvent } from 'react';
import { radioKeyTarget } from '../keyboard.ts';
import type { ThemeChoice } from '../stores/types.ts';
import { useLabStore } from '../stores/use-lab-store.ts';

const choices: { value: ThemeChoice; label: string; description: string }[] = [
  { value: 'system', label: 'Auto', description: 'Follow the system theme' },
  { value: 'light', label: 'Light', description: 'Always light' },
  { value: 'dark', label: 'Dark', description: 'Always dark' },
];

/**
 * A three-way segmented radio group. One Tab stop (the checked option); arrow keys, Home and End
 * move the choice, as in a native radio group.
 */
export function ThemeToggle() {
  const theme = useLabStore((state) => state.theme);
  const setTheme = useLabStore((state) => state.setTheme);
  const buttons = useRef<Array<HTMLButtonElement | null>>([]);
  const onKeyDown = (event: KeyboardEvent, index: number) => {
    const target = radioKeyTarget(event.key, index, choices.length);
    if (target === null) return;
    event.preventDefault();
    setTheme(choices[target]!.value);
    buttons.current[target]?.focus();
  };
  return (
    <div className="segmented" role="radiogroup" aria-label="Theme">
      {choices.map((choice, index) => {
        const checked = theme === choice.value;
        return (
          <button
            key={choice.value}
            ref={(element) => {
              buttons.current[index] = element;
            }}
            type="button"
            role="radio"
            aria-checked={checked}
            title={choice.description}
            tabIndex={checked ? 0 : -1}
            className={checked ? 'segment segment-on' : 'segment'}
            onClick={() => setTheme(choice.value)}
            onKeyDown={(event) => onKeyDown(event, index)}
          >
            {choice.label}
          </button>
        );
      })}
    </div>
  );
}
