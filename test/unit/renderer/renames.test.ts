/**
 * The page follows a profile across a rename by its account: its card keeps its key (so focus and
 * an open confirmation stay) and an old name points at the new one (so a filter follows it).
 */
import { describe, expect, it } from 'vitest';
import {
  followCardKeys,
  followRenamedTo,
  renamesBetween,
} from '../../../renderer/stores/renames.ts';
import { uiProfile } from '../../helpers/ui-lab-state.ts';

describe('renames between two states', () => {
  const work = uiProfile('work');
  const sameAccount = { email: 'work@example.com', accountId: 'acct-work' };
  const job = uiProfile('job', sameAccount);

  it('sees one name gone and one new on the same account as a rename', () => {
    expect([...renamesBetween([work, uiProfile('team')], [job, uiProfile('team')])]).toEqual([
      ['work', 'job'],
    ]);
  });

  it('sees no rename between different accounts, or when it cannot tell which went where', () => {
    expect(renamesBetween([work], [uiProfile('job')]).size).toBe(0);
    const twin = uiProfile('twin', sameAccount);
    const other = uiProfile('other', sameAccount);
    expect(renamesBetween([work, twin], [job, other]).size).toBe(0);
  });

  it('keeps a card key across renames, and gives a new profile under the old name its own', () => {
    let keys = followCardKeys({}, [work], new Map());
    keys = followCardKeys(keys, [job], renamesBetween([work], [job]));
    expect(keys).toEqual({ job: 'work' });
    keys = followCardKeys(keys, [job, uiProfile('work')], new Map());
    expect(keys).toEqual({ job: 'work', work: 'work~2' });
  });

  it('points an old name at the current one through a chain, until the name is listed again', () => {
    const task = uiProfile('task', sameAccount);
    let renamedTo = followRenamedTo({}, [job], new Map([['work', 'job']]));
    renamedTo = followRenamedTo(renamedTo, [task], new Map([['job', 'task']]));
    expect(renamedTo).toEqual({ work: 'task', job: 'task' });
    expect(followRenamedTo(renamedTo, [task, uiProfile('work')], new Map())).toEqual({
      job: 'task',
    });
  });
});
