/**
 * What every per-feature IPC module receives from the composition root.
 */
import type { LabApi } from '../../core/service/contract.ts';
import type { IpcTrust } from './ipc-validation.ts';

/** Dependencies of the IPC modules. */
export interface IpcContext {
  /** The in-process service (only main holds it; it carries the secrets). */
  lab: LabApi;
  /** The current trust set (our windows come and go, so it is read per message). */
  trust: () => IpcTrust;
}
