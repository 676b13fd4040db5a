/**
 * The one way an inline form (rename on a card, pin a repository, confirm a removal, the sign-in
 * dialog's fields) reports a failure: under the field that caused it, tied to it for screen
 * readers (`aria-invalid`, `aria-describedby`), with keyboard focus kept in (or brought back to)
 * that field. The page's notice at the top is for actions that have no field; it is often
 * scrolled out of sight from where the user is typing.
 */
import { useCallback, useEffect, useId, useRef, useState, type RefObject } from 'react';
import type { ContractResult, LabApi } from '../../core/service/contract.ts';
import { outageFailure, useLabStore } from '../stores/use-lab-store.ts';

/** The attributes that tie a field to its error line; none while there is no error. */
export function describedByError(
  errorId: string,
  error: string | null,
): { 'aria-invalid'?: true; 'aria-describedby'?: string } {
  return error ? { 'aria-invalid': true, 'aria-describedby': errorId } : {};
}

/** Props of `FieldError`. */
export interface FieldErrorProps {
  /** The id the field's `aria-describedby` names. */
  id: string;
  error: string | null;
}

/**
 * The error line under a field (announced as it appears, and scrolled into sight when it falls
 * below the window's edge); nothing while there is no error.
 */
export function FieldError({ id, error }: FieldErrorProps) {
  const line = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (error) line.current?.scrollIntoView({ block: 'nearest' });
  }, [error]);
  if (!error) return null;
  return (
    <p ref={line} id={id} className="field-error" role="alert">
      {error}
    </p>
  );
}

/** What `useInlineForm` gives a form. */
export interface InlineForm<E extends HTMLElement> {
  /** True while the operation runs (the field stays enabled: focus and Escape keep working). */
  busy: boolean;
  error: string | null;
  /** The id of the error line, for `FieldError`. */
  errorId: string;
  /** Spread on the field the error is about. */
  field: {
    ref: RefObject<E | null>;
    onInput: () => void;
    'aria-invalid'?: true;
    'aria-describedby'?: string;
  };
  /**
   * Runs the operation once (a second submit while one runs is ignored: null); a failure becomes
   * this form's error and focus goes back to the field.
   */
  submit<T>(
    operation: (api: LabApi) => Promise<ContractResult<T>>,
  ): Promise<ContractResult<T> | null>;
  /** Forgets the error (the user changed what caused it, or left the form). */
  clear(): void;
}

/** The state and wiring of one inline form; see the module comment. */
export function useInlineForm<E extends HTMLElement = HTMLInputElement>(): InlineForm<E> {
  const attempt = useLabStore((state) => state.attempt);
  const reconnects = useLabStore((state) => state.reconnects);
  const [busy, setBusy] = useState(false);
  /** The last failure, with the page's reconnect count when it came. */
  const [failure, setFailure] = useState<{
    message: string;
    code: string;
    reconnects: number;
  } | null>(null);
  // "Not answering" is over once the page is live again, as the page's notice is.
  const error =
    failure === null || (outageFailure(failure.code) && reconnects > failure.reconnects)
      ? null
      : failure.message;
  const running = useRef(false);
  const ref = useRef<E>(null);
  const errorId = useId();
  const clear = useCallback(() => setFailure(null), []);
  const submit = async <T,>(operation: (api: LabApi) => Promise<ContractResult<T>>) => {
    if (running.current) return null;
    running.current = true;
    setBusy(true);
    setFailure(null);
    try {
      const result = await attempt(operation);
      if (!result.ok) {
        setFailure({
          message: result.message,
          code: result.code,
          reconnects: useLabStore.getState().reconnects,
        });
        ref.current?.focus();
      }
      return result;
    } finally {
      running.current = false;
      setBusy(false);
    }
  };
  return {
    busy,
    error,
    errorId,
    field: { ref, onInput: clear, ...describedByError(errorId, error) },
    submit,
    clear,
  };
}
