import { describe, expect, it } from 'vitest';
import { removalQuestion } from '../../../renderer/format.ts';

describe('removalQuestion', () => {
  it('names what a removal takes with it: pins, and Auto for the active profile', () => {
    expect(removalQuestion('work', 0, false)).toBe('Remove work? Other profiles stay.');
    expect(removalQuestion('work', 1, false)).toBe(
      'Remove work? Its 1 pin goes; other profiles stay.',
    );
    expect(removalQuestion('work', 3, true)).toBe(
      'Remove work? Its 3 pins go and new sessions go back to Auto; other profiles stay.',
    );
  });
});
