import { describe, expect, it } from 'vitest';
import { LabError } from '../../../core/errors.ts';
import { unreadSentence } from '../../../core/service/operations.ts';

const unreachable =
  'Could not reach the usage endpoint at http://127.0.0.1:9/backend-api/wham/usage (connection refused); check the network connection and try again.';

describe('the sentence of a refresh that could not read some accounts', () => {
  it('names a profile called usage before a sentence that only mentions the usage endpoint', () => {
    const sentence = unreadSentence([
      { profile: 'usage', error: new LabError('upstream_unreachable', unreachable) },
      { profile: 'alpha', error: new LabError('upstream_unreachable', unreachable) },
    ]);
    expect(sentence).toBe(`alpha, usage: ${unreachable}`);
  });

  it('says a sentence that names its account as it is, once', () => {
    const answered = (profile: string) =>
      new LabError(
        'upstream_error',
        `The usage endpoint answered 503 for ${profile}; try again later.`,
        { namedProfile: profile },
      );
    expect(
      unreadSentence([
        { profile: 'usage', error: answered('usage') },
        { profile: 'beta', error: new LabError('upstream_unreachable', unreachable) },
      ]),
    ).toBe(`The usage endpoint answered 503 for usage; try again later. beta: ${unreachable}`);
  });
});
