/**
 * The line under a pin whose profile cannot serve now: limited, needing a sign-in, or with a file
 * the router cannot read. It is the CLI's warning after `codex-lab pin`, worded for the page, and
 * it follows the state: it appears when the profile becomes limited and goes when it is back.
 */
import type { LabState } from '../../core/service/contract.ts';
import { unavailableWarning } from '../../core/format.ts';

/** Props of `PinWarning`. */
export interface PinWarningProps {
  lab: LabState;
  /** The profile the pin names. */
  profile: string;
  /** Whether the pin lets its sessions move to another profile meanwhile. */
  allowFallback: boolean;
  now: number;
}

/** The warning line, or nothing while the pinned profile can serve. */
export function PinWarning({ lab, profile, allowFallback, now }: PinWarningProps) {
  const view = lab.profiles.find((each) => each.name === profile);
  const warning = view
    ? unavailableWarning(view, allowFallback ? 'pin-fallback' : 'pin', now, 'page')
    : null;
  if (!warning) return null;
  return (
    <div className="small warning" data-testid="pin-warning">
      {warning}
    </div>
  );
}
