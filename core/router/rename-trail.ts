/**
 * The renames and removals a running router has made, in order, so a name captured before one of
 * them still finds its account afterwards: a request routed before a rename and finished after it
 * is the renamed profile's, and a running Codex keeps sending the pin header it was started with
 * (`codex-lab codex --profile OLD`, `CODEX_LAB_PROFILE=OLD`), which it cannot change.
 *
 * In memory for the router's life; bounded (renames are rare, the bound only guards memory).
 */

/** One step: `from` became `to`, or was removed (`to === null`). */
interface RenameStep {
  from: string;
  to: string | null;
}

/** Steps kept: the oldest go first past this. */
const maxSteps = 1000;

/** How a name that no profile has now resolves (see `RenameTrail.resolve`). */
export type TrailAnswer =
  | { kind: 'profile'; profile: string }
  /** It was renamed, and the name it ended with is no profile now (removed since). */
  | { kind: 'gone'; renamedTo: string }
  /** It was removed (its most recent step here). */
  | { kind: 'removed' }
  /** Nothing this router knows of: never renamed here. */
  | { kind: 'unknown' };

/** The router's renames and removals, in order. */
export class RenameTrail {
  readonly #steps: RenameStep[] = [];
  /** Steps made so far, dropped ones included: a position that stays valid as the oldest go. */
  #made = 0;

  /** A position in the trail: `follow` from it applies only the steps made after it. O(1). */
  get position(): number {
    return this.#made;
  }

  /** Records that `from` became `to` (a rename) or was removed (`to === null`). */
  record(from: string, to: string | null): void {
    if (from === to) return;
    this.#steps.push({ from, to });
    this.#made += 1;
    if (this.#steps.length > maxSteps) this.#steps.shift();
  }

  /**
   * The name `name` has now, following every step made since `since` in order; null when it was
   * removed. A name no step touched is returned as it is.
   */
  follow(name: string, since: number): string | null {
    const dropped = this.#made - this.#steps.length;
    let current: string | null = name;
    for (let index = Math.max(0, since - dropped); index < this.#steps.length; index++) {
      const step = this.#steps[index] as RenameStep;
      if (step.from !== current) continue;
      current = step.to;
      if (current === null) return null;
    }
    return current;
  }

  /**
   * A name no profile has now (`exists` says which do), as a pin made before a rename means it:
   * the profile the name's most recent rename led to, through every rename after it. A name a
   * profile has again is that profile's (the caller checks that first); one whose chain ends in a
   * removal is `gone`, with the last name it had; one removed outright is `removed`.
   */
  resolve(name: string, exists: (name: string) => boolean): TrailAnswer {
    let start = -1;
    for (let index = this.#steps.length - 1; index >= 0; index--) {
      if ((this.#steps[index] as RenameStep).from === name) {
        start = index;
        break;
      }
    }
    const first = this.#steps[start];
    if (first === undefined) return { kind: 'unknown' };
    if (first.to === null) return { kind: 'removed' };
    let current = first.to;
    for (let index = start + 1; index < this.#steps.length; index++) {
      const step = this.#steps[index] as RenameStep;
      if (step.from !== current) continue;
      if (step.to === null) return { kind: 'gone', renamedTo: current };
      current = step.to;
    }
    return exists(current)
      ? { kind: 'profile', profile: current }
      : { kind: 'gone', renamedTo: current };
  }
}
