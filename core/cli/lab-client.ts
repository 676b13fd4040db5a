/**
 * Where a state-changing command acts (docs/design.md section 8): through the running router's control
 * API when one runs for this home, so the change is live at once on every surface; otherwise on
 * the files directly, through the same operations layer. A `state/router.json` that names a dead
 * process or something that is not our router is reported once on stderr, and the command falls
 * back to the files; the router token is sent only after the router proved who it is.
 */
import { LabError, type ErrorCode } from '../errors.ts';
import { withoutSentenceEnd } from '../format.ts';
import { silentLogger, systemClock } from '../ports.ts';
import type {
  ContractResult,
  HostInputs,
  Inputs,
  PinResult,
  PrimingOutcomeView,
  ProfileView,
  UsageRefreshView,
} from '../service/contract.ts';
import type { RevokeResult } from '../service/operations.ts';
import type { TokenManager, TokenManagerOptions } from '../auth/token-manager.ts';
import { writeLine, type CliContext } from './context.ts';

/** The operations a command may perform, wherever they run. */
export interface LabClient {
  /** The router's URL when the command acts through it, else null (the files). */
  readonly routerUrl: string | null;
  setActive(input: Inputs['setActive']): Promise<ContractResult<null>>;
  renameProfile(input: Inputs['renameProfile']): Promise<ContractResult<null>>;
  removeProfile(
    input: Inputs['removeProfile'],
  ): Promise<ContractResult<{ revoked: RevokeResult } | null>>;
  pinSession(input: Inputs['pinSession']): Promise<ContractResult<PinResult>>;
  pinRepo(input: Inputs['pinRepo']): Promise<ContractResult<PinResult>>;
  setPriming(input: Inputs['setPriming']): Promise<ContractResult<null>>;
  primeNow(input: Inputs['primeNow']): Promise<ContractResult<PrimingOutcomeView>>;
  refreshUsage(input: Inputs['refreshUsage']): Promise<ContractResult<UsageRefreshView>>;
  profileSignedIn(input: HostInputs['profileSignedIn']): Promise<ContractResult<null>>;
  /**
   * `views` (built from the files) with the freshest quota this client holds: the running
   * router's memory, or this command's own usage reads. A refresh is shown even when
   * `state/quota.json` lags behind or could not be written (a corrupt file is never overwritten).
   */
  freshViews(views: ProfileView[], now: number): Promise<ProfileView[]>;
}

/** Opens the client for `context`'s home: the running router's, else the files'. */
export async function openLabClient(context: CliContext): Promise<LabClient> {
  const { discoverRouter } = await import('../service/router-discovery.ts');
  const found = await discoverRouter(context.paths);
  if (found.state === 'running') {
    const { RemoteLab } = await import('../service/remote-lab.ts');
    const remote = new RemoteLab({ url: found.url, token: found.token });
    const freshViews = async (views: ProfileView[]): Promise<ProfileView[]> => {
      // The router merges its memory into what it shows; unreachable now, the files' views stand.
      const live = await remote.getState().then(
        (state) => state.profiles,
        () => [] as ProfileView[],
      );
      return views.map((view) => live.find((other) => other.name === view.name) ?? view);
    };
    const retry = <T>(pending: Promise<ContractResult<T>>) => pending.then(withRetryFix);
    return {
      routerUrl: found.url,
      freshViews,
      setActive: (input) => retry(remote.setActive(input)),
      renameProfile: (input) =>
        retry(sayingRefreshWait(context, input.from, remote.renameProfile(input))),
      removeProfile: (input) =>
        retry(sayingRefreshWait(context, input.profile, remote.removeProfile(input))),
      pinSession: (input) => retry(remote.pinSession(input)),
      pinRepo: (input) => retry(remote.pinRepo(input)),
      setPriming: (input) => retry(remote.setPriming(input)),
      primeNow: (input) => retry(remote.primeNow(input)),
      refreshUsage: (input) => retry(remote.refreshUsage(input)),
      // Not "run the command again": the sign-in is saved already (login says what happens).
      profileSignedIn: (input) => remote.profileSignedIn(input),
    };
  }
  if (found.state === 'stale') {
    writeLine(context.stderr, `codex-lab: ${found.reason}; working on the files directly.`);
  } else if (found.state === 'unreachable') {
    // The files are shared under their locks: the router reads what changed once it answers.
    writeLine(
      context.stderr,
      `codex-lab: ${found.reason}; working on the files directly (the router picks the change up when it answers again).`,
    );
  }
  return localLabClient(context);
}

/**
 * `pending`, a rename or removal of `profile` that the router carries out, saying at once when it
 * waits for a token refresh of that profile in flight (the change waits for its new tokens, as
 * long as the issuer takes): the router's store says so in the router's log only, so without this
 * a command next to a live session looked frozen for minutes. Said as the store says it when the
 * command works on the files itself, after the same `waitNoticeMs`; a lock held on another
 * machine (no holder to name) goes unsaid.
 */
async function sayingRefreshWait<T>(
  context: CliContext,
  profile: string,
  pending: Promise<T>,
): Promise<T> {
  const [{ lockHolder, waitNoticeMs }, { refreshLockWaitText }, { cliLogger }] = await Promise.all([
    import('../home/lock.ts'),
    import('../profiles/store.ts'),
    import('./profile-store.ts'),
  ]);
  let answered = false;
  const notice = setTimeout(() => {
    void lockHolder(context.paths.locksDir, `refresh-${profile}`).then(
      (pid) => {
        if (pid !== null && !answered)
          cliLogger(context).warn({}, refreshLockWaitText(profile, pid));
      },
      // Not being able to look is no reason to fail the change the router is making.
      () => undefined,
    );
  }, waitNoticeMs);
  try {
    return await pending;
  } finally {
    answered = true;
    clearTimeout(notice);
  }
}

/**
 * A router that stopped answering mid-operation, as the command line says it: the core's sentence
 * plus this surface's way out (the router applied the change fully or not at all).
 */
export function withRetryFix<T>(result: ContractResult<T>): ContractResult<T> {
  if (result.ok || result.code !== 'router_unavailable') return result;
  const said = withoutSentenceEnd(result.message);
  return { ...result, message: `${said}: check with codex-lab list and run the command again.` };
}

/** The operations layer over the files, for a home where no router runs. */
export async function localLabClient(context: CliContext): Promise<LabClient> {
  const [
    { cliLogger, cliProfileStore },
    { HealthStore },
    { ActivityLog },
    { LabOperations, fileLiveState },
    { QuotaKeeper },
  ] = await Promise.all([
    import('./profile-store.ts'),
    import('../state/health-store.ts'),
    import('../service/events.ts'),
    import('../service/operations.ts'),
    import('../service/quota-keeper.ts'),
  ]);
  const logger = cliLogger(context);
  const store = cliProfileStore(context);
  const health = new HealthStore(context.paths);
  // Silent: a command that shows quota names an unreadable state/quota.json itself, in one
  // sentence (and shows what it read all the same); a log line about it would only repeat it.
  const { accountStamps } = await import('../profiles/account-stamp.ts');
  const quota = new QuotaKeeper({
    paths: context.paths,
    clock: systemClock,
    logger: silentLogger,
    // Figures of a removed profile, or of another account under the name, are not this one's.
    accounts: async () => accountStamps(await store.listProfiles()),
  });
  await quota.load();
  const tokens = await cliTokenManager(context, { store, health, logger });
  const operations = new LabOperations({
    paths: context.paths,
    config: context.config,
    clock: systemClock,
    logger,
    store,
    health,
    activity: new ActivityLog(systemClock),
    quota,
    tokens,
    live: fileLiveState({
      quota,
      health,
      clock: systemClock,
      journal: context.paths.activity,
    }),
  });
  const { overlayQuota } = await import('../service/views.ts');
  const freshViews = async (views: ProfileView[], now: number): Promise<ProfileView[]> =>
    views.map((view) => {
      const fresh = structuredClone(view);
      overlayQuota(fresh, {
        snapshot: quota.book.latest(view.name),
        history: quota.book.history(view.name),
        forecast: quota.book.forecast(view.name, now),
      });
      return fresh;
    });
  return Object.assign(operations, { routerUrl: null, freshViews });
}

/**
 * The token manager a command uses on `context`'s home (the one that refreshes, under the
 * cross-process lock), loaded when a command first needs it.
 */
export async function cliTokenManager(
  context: CliContext,
  parts: Pick<TokenManagerOptions, 'store' | 'health' | 'logger'>,
): Promise<TokenManager> {
  const { TokenManager, tokenSettings } = await import('../auth/token-manager.ts');
  return new TokenManager({
    paths: context.paths,
    ...tokenSettings(context.config),
    clock: systemClock,
    ...parts,
    // A refresh failure thrown to the command reaches the user as the failure it says ("work
    // needs a new sign-in …"); a warning line beside it would say it twice.
    // CODEX_LAB_LOG_LEVEL=debug shows it. What the command never hears stays a warning.
    rethrownFailureLevel: 'debug',
  });
}

/** The value of a successful result; a failure becomes the `LabError` `runCli` prints. */
export function valueOf<T>(result: ContractResult<T>): T {
  if (!result.ok) {
    throw new LabError(result.code as ErrorCode, result.message, {
      ...(result.fix ? { fix: result.fix } : {}),
    });
  }
  return result.value;
}
