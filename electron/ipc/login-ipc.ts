/**
 * Sign-in feature: starting a login also opens its authorize page, in the system browser by
 * default or in our sign-in popup when asked. The renderer only ever sees the `LoginView`.
 */
import type { LoginView } from '../../core/service/contract.ts';
import type { IpcContext } from './ipc-context.ts';
import { handleInvoke } from './ipc-main.ts';

/** How the login module shows an authorize page. */
export interface SignInOpeners {
  /** Opens the URL in the system browser (after the openExternal allow-list check). */
  openInBrowser(url: string): Promise<boolean>;
  /** Opens our sandboxed sign-in popup; closed by `closePopup` or the user. */
  openPopup(login: LoginView): void;
  /** Closes the popup of a login, if one is open. */
  closePopup(loginId: string): void;
}

/** Registers the login channels; returns the cleanup. */
export function registerLoginIpc(context: IpcContext, openers: SignInOpeners): () => void {
  const cleanups = [
    handleInvoke('startLogin', context.trust, async (request) => {
      const result = await context.lab.startLogin(request);
      if (!result.ok) return result;
      if (request.popup) {
        openers.openPopup(result.value);
      } else if (!(await openers.openInBrowser(result.value.authorizeUrl))) {
        await context.lab.cancelLogin({ id: result.value.id });
        return {
          ok: false as const,
          code: 'invalid_argument',
          message: 'The sign-in page address is not on the allowed list, so it was not opened.',
        };
      }
      return result;
    }),
    handleInvoke('completeLogin', context.trust, (request) => context.lab.completeLogin(request)),
    handleInvoke('cancelLogin', context.trust, async (request) => {
      openers.closePopup(request.id);
      return context.lab.cancelLogin(request);
    }),
  ];
  return () => cleanups.forEach((cleanup) => cleanup());
}
