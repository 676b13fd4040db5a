import { describe, expect, it } from 'vitest';
import { isLabError } from '../../../core/errors.ts';
import { deriveProfileName, validateProfileName } from '../../../core/profiles/store.ts';

function failure(name: string, existing: string[] = []) {
  try {
    validateProfileName(name, existing);
  } catch (error) {
    if (isLabError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  return null;
}

describe('validateProfileName', () => {
  it('accepts lowercase names with digits, dots, underscores and dashes', () => {
    for (const name of ['alice', 'a', 'work.team_2-x', '0', 'a'.repeat(64)]) {
      expect(failure(name)).toBeNull();
    }
  });

  it.each([
    ['../x', /not a valid profile name/],
    ['A B', /not a valid profile name/],
    ['a/b', /not a valid profile name/],
    ['.hidden', /not a valid profile name/],
    ['-dash', /not a valid profile name/],
    ['', /cannot be empty/],
    ['a'.repeat(65), /65 characters long; use at most 64/],
    ['auto', /reserved/],
  ])('rejects %j with one clear sentence', (name, message) => {
    const result = failure(name);
    expect(result?.code).toBe('invalid_name');
    expect(result?.message).toMatch(message);
    expect(result?.message.split('. ').length).toBe(1);
  });

  it('rejects a duplicate that differs only in case', () => {
    expect(failure('alice', ['Alice'])).toMatchObject({ code: 'name_taken' });
    expect(failure('alice', ['alice'])?.message).toMatch(/"alice" already exists/);
  });
});

describe('deriveProfileName', () => {
  it('uses the sanitised email local part and makes it unique', () => {
    expect(deriveProfileName('Alice.Smith+work@example.com', [])).toBe('alice.smith-work');
    expect(deriveProfileName('alice@a.com', ['alice'])).toBe('alice-2');
    expect(deriveProfileName('alice@a.com', ['alice', 'ALICE-2'])).toBe('alice-3');
    expect(deriveProfileName(null, [])).toBe('account');
    expect(deriveProfileName('__@x', [])).toBe('account');
    expect(deriveProfileName(`${'x'.repeat(100)}@x`, []).length).toBeLessThanOrEqual(64);
  });
  it('never derives a reserved name', () => {
    expect(deriveProfileName('auto@x.com', ['auto'])).not.toBe('auto');
  });
});
