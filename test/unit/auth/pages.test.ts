import { describe, expect, it } from 'vitest';
import { successPage } from '../../../core/auth/pages.ts';

describe('the sign-in success page', () => {
  it('says which account was signed in and which profile it was saved as', () => {
    expect(successPage({ name: 'work', email: 'alice@example.com', created: true })).toContain(
      'Signed in as alice@example.com: saved as the new profile &quot;work&quot;.',
    );
    expect(successPage({ name: 'work', email: 'alice@example.com', created: false })).toContain(
      'the profile &quot;work&quot; is signed in again',
    );
    expect(successPage(null)).toContain('You may now close this page');
  });
});
