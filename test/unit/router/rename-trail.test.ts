import { describe, expect, it } from 'vitest';
import { RenameTrail } from '../../../core/router/rename-trail.ts';

describe('RenameTrail', () => {
  it('follows the renames made after a position, in order, and stops at a removal', () => {
    const trail = new RenameTrail();
    trail.record('alice', 'al');
    const since = trail.position;
    trail.record('al', 'ally');
    trail.record('bob', null);
    expect(trail.follow('alice', 0)).toBe('ally');
    // Only the steps after the position apply: `alice` was not renamed after it.
    expect(trail.follow('alice', since)).toBe('alice');
    expect(trail.follow('al', since)).toBe('ally');
    expect(trail.follow('bob', since)).toBeNull();
    expect(trail.follow('carol', 0)).toBe('carol');
  });

  it('resolves a name no profile has from its most recent rename on', () => {
    const trail = new RenameTrail();
    const profiles = new Set(['zara', 'bob']);
    const exists = (name: string) => profiles.has(name);
    trail.record('zed', 'zoe');
    trail.record('zoe', 'zara');
    expect(trail.resolve('zed', exists)).toEqual({ kind: 'profile', profile: 'zara' });
    trail.record('ann', 'amy');
    trail.record('amy', null);
    expect(trail.resolve('ann', exists)).toEqual({ kind: 'gone', renamedTo: 'amy' });
    expect(trail.resolve('amy', exists)).toEqual({ kind: 'removed' });
    expect(trail.resolve('nobody', exists)).toEqual({ kind: 'unknown' });
    // A name used again and renamed again: its most recent rename decides.
    trail.record('zed', 'bob');
    expect(trail.resolve('zed', exists)).toEqual({ kind: 'profile', profile: 'bob' });
  });

  it('keeps positions valid once the oldest steps are dropped', () => {
    const trail = new RenameTrail();
    for (let index = 0; index < 1500; index++) trail.record(`p${index}`, `p${index + 1}`);
    const since = trail.position;
    trail.record('p1500', 'last');
    expect(trail.follow('p1500', since)).toBe('last');
    expect(trail.follow('p600', 0)).toBe('last');
  });
});
