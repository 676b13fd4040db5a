/**
 * Values every surface shows or keeps are refused at the door: a session id with a control
 * character (it would break the pins table and the log line it is printed on), and a registry in
 * which two profiles share a name (each name is a folder; a rename would move one and orphan the
 * other).
 */
import { describe, expect, it } from 'vitest';
import { registrySchema } from '../../../core/profiles/schema.ts';
import { parseOperationInput } from '../../../core/service/contract.ts';

describe('input checks', () => {
  it('refuses a session id with a control character, or too long, in one sentence', () => {
    expect(parseOperationInput('pinSession', { sessionId: 'a\nb', profile: 'work' })).toEqual({
      ok: false,
      code: 'invalid_argument',
      message:
        'Invalid input for pinSession at "sessionId": a session id has no control characters.',
    });
    expect(
      parseOperationInput('pinSession', { sessionId: 'x'.repeat(201), profile: 'work' }),
    ).toMatchObject({
      ok: false,
      message:
        'Invalid input for pinSession at "sessionId": a session id is at most 200 characters.',
    });
    expect(
      parseOperationInput('pinSession', { sessionId: '019a0c5e-72ea', profile: 'work' }).ok,
    ).toBe(true);
  });

  it('reads a registry whose profile names repeat as damaged', () => {
    const entry = (name: string) => ({
      name,
      label: null,
      email: `${name}@example.com`,
      plan: 'plus',
      accountId: `acct-${name}`,
      createdAt: '2026-11-30T00:00:00.000Z',
      lastUsedAt: null,
      store: 'file',
      priming: { enabled: false, windows: ['weekly'], at: null, model: null },
    });
    const parse = (names: string[]) =>
      registrySchema.safeParse({ version: 1, active: 'auto', profiles: names.map(entry) });
    expect(parse(['alpha', 'beta']).success).toBe(true);
    const repeated = parse(['alpha', 'beta', 'alpha']);
    expect(repeated.success).toBe(false);
    expect(repeated.error?.issues[0]?.message).toBe('two profiles have the same name');
  });
});
