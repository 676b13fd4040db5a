/**
 * A segmented radio group (the theme switch, the accounts' layout): one Tab stop (the checked
 * option); arrow keys, Home and End move the choice, as in a native radio group.
 */
import { useRef, type KeyboardEvent } from 'react';
import { radioKeyTarget } from '../keyboard.ts';

/** One option of a `SegmentedChoice`. */
export interface SegmentedOption<T extends string> {
  value: T;
  label: string;
  /** The tooltip: what choosing it does. */
  description: string;
}

/** Props of `SegmentedChoice`. */
export interface SegmentedChoiceProps<T extends string> {
  /** The group's accessible name. */
  label: string;
  options: readonly SegmentedOption<T>[];
  value: T;
  onChange(value: T): void;
  className?: string;
}

/** The group. */
export function SegmentedChoice<T extends string>({
  label,
  options,
  value,
  onChange,
  className,
}: SegmentedChoiceProps<T>) {
  const buttons = useRef<Array<HTMLButtonElement | null>>([]);
  const onKeyDown = (event: KeyboardEvent, index: number) => {
    const target = radioKeyTarget(event.key, index, options.length);
    if (target === null) return;
    event.preventDefault();
    onChange(options[target]!.value);
    buttons.current[target]?.focus();
  };
  return (
    <div
      className={className ? `segmented ${className}` : 'segmented'}
      role="radiogroup"
      aria-label={label}
    >
      {options.map((option, index) => {
        const checked = value === option.value;
        return (
          <button
            key={option.value}
            ref={(element) => {
              buttons.current[index] = element;
            }}
            type="button"
            role="radio"
            aria-checked={checked}
            title={option.description}
            tabIndex={checked ? 0 : -1}
            className={checked ? 'segment segment-on' : 'segment'}
            onClick={() => onChange(option.value)}
            onKeyDown={(event) => onKeyDown(event, index)}
          >
            {option.label}
          </button>
        );
      })}
    </div>
  );
}
