/**
 * Renames seen between two states. A state names profiles only by their names, so a card keyed
 * by its name would be a new card after a rename (from the dashboard or a terminal): focus would
 * fall to <body> and an open Remove confirmation would vanish. The page follows a profile across
 * a rename by its account instead: one name gone and one new, both signed in as the same account
 * (email and account id), is that profile renamed.
 */
import type { ProfileView } from '../../core/service/contract.ts';

/** Old name → new name for each rename between `before` and `after` (ambiguous ones left out). */
export function renamesBetween(
  before: readonly ProfileView[],
  after: readonly ProfileView[],
): Map<string, string> {
  const renames = new Map<string, string>();
  const afterNames = new Set(after.map((view) => view.name));
  const beforeNames = new Set(before.map((view) => view.name));
  const gone = before.filter((view) => !afterNames.has(view.name));
  const added = after.filter((view) => !beforeNames.has(view.name));
  // Without an email there is nothing to tell two accounts apart by: such a profile is not matched.
  const account = (view: ProfileView) =>
    view.email === null ? null : `${view.email}\n${view.accountId ?? ''}`;
  for (const old of gone) {
    const key = account(old);
    if (key === null) continue;
    const candidates = added.filter((view) => account(view) === key);
    const rivals = gone.filter((view) => account(view) === key);
    if (candidates.length === 1 && rivals.length === 1) renames.set(old.name, candidates[0]!.name);
  }
  return renames;
}

/**
 * Each listed profile's card key: kept across a rename, its own name for a profile first seen
 * (with a suffix if a renamed card still holds that key).
 */
export function followCardKeys(
  keys: Readonly<Record<string, string>>,
  after: readonly ProfileView[],
  renames: ReadonlyMap<string, string>,
): Record<string, string> {
  const next: Record<string, string> = {};
  const used = new Set<string>();
  const carried = new Map([...renames].map(([from, to]) => [to, keys[from] ?? from]));
  for (const view of after) {
    const kept = carried.get(view.name) ?? keys[view.name];
    if (kept !== undefined && !used.has(kept)) {
      next[view.name] = kept;
      used.add(kept);
    }
  }
  for (const view of after) {
    if (next[view.name] !== undefined) continue;
    let key = view.name;
    for (let n = 2; used.has(key); n += 1) key = `${view.name}~${n}`;
    next[view.name] = key;
    used.add(key);
  }
  return next;
}

/**
 * Where each old name went, chains followed (work → job → task reads work → task); a name listed
 * again (a new profile under an old name) is its own again.
 */
export function followRenamedTo(
  renamedTo: Readonly<Record<string, string>>,
  after: readonly ProfileView[],
  renames: ReadonlyMap<string, string>,
): Record<string, string> {
  const next: Record<string, string> = {};
  for (const [from, to] of Object.entries(renamedTo)) next[from] = renames.get(to) ?? to;
  for (const [from, to] of renames) next[from] = to;
  for (const view of after) delete next[view.name];
  return next;
}
