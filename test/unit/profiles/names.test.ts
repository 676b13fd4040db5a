import { describe, expect, it } from 'vitest';
import { isLabError } from '../../../core/errors.ts';
import {
  isAutoName,
  likelyProfile,
  matchProfileName,
  unknownProfile,
} from '../../../core/profiles/names.ts';
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

  it.each([
    'z2.',
    'work..',
    'con',
    'nul',
    'aux',
    'prn',
    'com1',
    'com9',
    'lpt1',
    'lpt9',
    'con.work',
    'nul.txt',
    'lpt3.a.b',
  ])('rejects %j, which Windows cannot make a folder of, in one sentence', (name) => {
    const result = failure(name);
    expect(result?.code).toBe('invalid_name');
    expect(result?.message).toMatch(/cannot be a profile name because Windows/);
    expect(result?.message.split('. ').length).toBe(1);
  });

  it('accepts names that only look like Windows device names', () => {
    for (const name of ['console', 'con-1', 'com0', 'com10', 'lpt', 'nully', 'a.con', 'z2.x']) {
      expect(failure(name)).toBeNull();
    }
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
  it('reads accented letters as their plain ones and turns other characters into one hyphen', () => {
    expect(deriveProfileName('zoë.ünï@example.com', [])).toBe('zoe.uni');
    expect(deriveProfileName('Ågot.Øster@example.com', [])).toBe('agot.oster');
    expect(deriveProfileName('jo+.x@example.com', [])).toBe('jo-x');
    expect(deriveProfileName('李.王@example.com', [])).toBe('account');
    expect(deriveProfileName('anna.李@example.com', [])).toBe('anna');
  });
  it('never derives a reserved name', () => {
    expect(deriveProfileName('auto@x.com', ['auto'])).not.toBe('auto');
  });
  it('never derives a name Windows cannot make a folder of', () => {
    for (const email of [
      'con@x.com',
      'NUL@x.com',
      'con.work@x.com',
      'lpt1@x.com',
      `${'a'.repeat(57)}.b@x`,
    ]) {
      const name = deriveProfileName(email, []);
      expect(failure(name), `${email} -> ${name}`).toBeNull();
    }
  });
});

describe('reading a typed profile name', () => {
  it('takes the exact name, else its lower case; null when no profile has it', () => {
    const names = ['alpha-2', 'jd'];
    expect(matchProfileName('alpha-2', names)).toBe('alpha-2');
    expect(matchProfileName('ALPHA-2', names)).toBe('alpha-2');
    expect(matchProfileName('Jd', new Set(names))).toBe('jd');
    expect(matchProfileName('ghost', names)).toBeNull();
    expect(matchProfileName('GHOST', new Set(names))).toBeNull();
  });
  it('reads auto in any case as "no pin"', () => {
    expect(isAutoName('auto')).toBe(true);
    expect(isAutoName('AUTO')).toBe(true);
    expect(isAutoName('autos')).toBe(false);
  });
});

describe('likelyProfile', () => {
  const known = ['work', 'personal', 'research', 'acct-01', 'acct-02'];

  it('names the one profile a typo most likely meant, case aside', () => {
    expect(likelyProfile('wrk', known)).toBe('work');
    expect(likelyProfile('Persnal', known)).toBe('personal');
    expect(likelyProfile('reserch', known)).toBe('research');
    expect(unknownProfile('wrk', known).message).toBe(
      'There is no profile named "wrk" (did you mean work?).',
    );
  });

  it('guesses nothing when nothing is near, or two are as near', () => {
    expect(likelyProfile('nobody', known)).toBeNull();
    expect(likelyProfile('acct-03', known)).toBeNull();
    expect(likelyProfile('x', [])).toBeNull();
    expect(unknownProfile('nobody', known).message).toBe('There is no profile named "nobody".');
  });
});
