/**
 * The settings page: header, accounts, sessions, activity and the Codex setup snippet.
 */
import { useEffect, useState } from 'react';
import { useLabStore } from '../stores/use-lab-store.ts';
import { showsList } from '../stores/accounts-view.ts';
import type { AccountsView } from '../stores/types.ts';
import { AccountList, cardIdOf, closeCard } from './account-list.tsx';
import { ActivityLog } from './activity-log.tsx';
import { AddAccount } from './add-account.tsx';
import { CodexSetup } from './codex-setup.tsx';
import { DesktopSection } from './desktop-section.tsx';
import { PoolBanner } from './pool-banner.tsx';
import { PinsPanel } from './pins-panel.tsx';
import { ProfileCard } from './profile-card.tsx';
import { RequestsPanel } from './requests-panel.tsx';
import { SegmentedChoice, type SegmentedOption } from './segmented-choice.tsx';
import { SessionsPanel } from './sessions-panel.tsx';
import { ThemeToggle } from './theme-toggle.tsx';
import { TokenPaste } from './token-paste.tsx';
import { isWebDashboard } from '../bridge/lab-api.ts';
import { isTokenRefusal } from '../bridge/web-bridge.ts';
import { fixPointer, problemFixText, sessionMarks } from '../format.ts';
import {
  humanizeTimes,
  hasNoAccounts,
  noAccountsLabel,
  noNewSessionTarget,
  refreshOutcomeText,
} from '../../core/format.ts';

/**
 * The cure of a profile folder the registry does not list, on the page: Add account with the
 * folder's name filled (signing in under it lists the folder again), rather than the command the
 * terminal is told.
 */
function AddAccountFix({
  name,
  email,
  disabled,
}: {
  name: string;
  email: string | null;
  disabled: boolean;
}) {
  const addAs = () => {
    const { openSignIn, updateSignIn } = useLabStore.getState();
    openSignIn();
    updateSignIn({ name });
  };
  return (
    <>
      {` To list it again, sign in as ${email ?? 'the same account'} under this name: `}
      <button type="button" className="button small-button" disabled={disabled} onClick={addAs}>
        Add account as {name}…
      </button>
    </>
  );
}

const accountsViews: readonly SegmentedOption<AccountsView>[] = [
  { value: 'auto', label: 'Auto', description: 'Cards for up to three accounts, a list for more' },
  { value: 'list', label: 'List', description: 'One row per account, every quota in sight' },
  { value: 'cards', label: 'Cards', description: 'Every account’s full card' },
];

/** The whole page. */
export function App() {
  const lab = useLabStore((state) => state.lab);
  const now = useLabStore((state) => state.now);
  const connection = useLabStore((state) => state.connection);
  const connectionError = useLabStore((state) => state.connectionError);
  const notice = useLabStore((state) => state.notice);
  const cardKeys = useLabStore((state) => state.cardKeys);
  const accountsView = useLabStore((state) => state.accountsView);
  const openCards = useLabStore((state) => state.openCards);
  const { run, openSignIn, showNotice, setAccountsView } = useLabStore.getState();
  const isAuto = lab?.active === 'auto';
  const asList =
    lab !== null && lab.profiles.length > 0 && showsList(accountsView, lab.profiles.length);
  const keyOf = (name: string) => cardKeys[name] ?? name;
  // Under the list, only the cards its rows opened (in the list's order).
  const cardProfiles = asList
    ? lab.profiles.filter((profile) => openCards.includes(keyOf(profile.name)))
    : (lab?.profiles ?? []);
  // Nothing to add an account to until the service answers (no token yet, or it is down).
  const canAddAccount = connection === 'live';
  // While the page is offline its own banner says Codex Lab is not answering: an operation's
  // "not answering" would say it a second time.
  const shownNotice =
    connection === 'offline' && notice?.code === 'router_unavailable' ? null : notice;
  const [refresh, setRefresh] = useState<'idle' | 'busy' | 'done'>('idle');
  const [refreshed, setRefreshed] = useState('');
  useEffect(() => {
    if (refresh !== 'done') return;
    // Long enough to read the longer sentence of a refresh some accounts could not take.
    const timer = setTimeout(() => setRefresh('idle'), 6000);
    return () => clearTimeout(timer);
  }, [refresh]);
  const refreshQuota = async () => {
    setRefresh('busy');
    const result = await run('Refresh quota', (api) => api.refreshUsage({ profile: null }));
    // Accounts it could not read are not named here: their cards, rows and the problems box
    // say why already, in the one sentence each state has.
    if (result.ok) setRefreshed(refreshOutcomeText(result.value));
    setRefresh(result.ok ? 'done' : 'idle');
  };
  // With no account there is nothing to refresh and nobody to send sessions to: the newcomer's
  // card says what to do.
  const hasProfiles = lab !== null && lab.profiles.length > 0;

  return (
    <div className="page">
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true" />
          <div>
            <h1>Codex Lab</h1>
            <p className="muted small" aria-label="Router status">
              {connection === 'offline'
                ? 'Not connected'
                : lab
                  ? lab.router.stopping
                    ? `Router on ${lab.router.url} stopping…`
                    : lab.router.running
                      ? `Router on ${lab.router.url}`
                      : 'Router stopped'
                  : 'Connecting…'}
            </p>
          </div>
        </div>
        <div className="topbar-actions">
          <ThemeToggle />
          <button
            id="add-account"
            type="button"
            className="button primary"
            disabled={!canAddAccount}
            onClick={openSignIn}
          >
            Add account…
          </button>
        </div>
      </header>

      {shownNotice && (
        <div className={`notice notice-${shownNotice.tone}`} role="alert">
          <span>
            {shownNotice.text}
            {fixPointer(shownNotice.fix) && ` ${fixPointer(shownNotice.fix)}`}
          </span>
          <button
            type="button"
            className="icon-button"
            aria-label="Dismiss"
            onClick={() => showNotice(null)}
          >
            ×
          </button>
        </div>
      )}
      {connection === 'offline' && (
        <div className="notice notice-error" role="alert">
          {connectionError ?? 'Codex Lab is not answering.'}
          {/* A refused token is not retried: the one sentence says how to get a new link. */}
          {lab &&
            !isTokenRefusal(connectionError) &&
            ' What the page shows is its last answer; it reconnects by itself.'}
        </div>
      )}
      {connection === 'offline' && !lab && isWebDashboard() && <TokenPaste />}
      {lab && lab.problems.length > 0 && (
        <div className="notice notice-error" role="alert" aria-label="Files Codex Lab cannot read">
          <ul className="problems">
            {lab.problems.map((problem) => (
              <li key={problem.message}>
                {problem.message}
                {problemFixText(problem.fix) && ` ${problemFixText(problem.fix)}`}
                {problem.fix?.action === 'add_account' && (
                  <AddAccountFix
                    name={problem.fix.name}
                    email={problem.fix.email}
                    disabled={!canAddAccount}
                  />
                )}
              </li>
            ))}
          </ul>
        </div>
      )}

      <main>
        {lab && <PoolBanner pool={lab.pool} now={now} />}
        <section aria-labelledby="accounts-title" className="accounts">
          <div className="section-head">
            <div className="section-title">
              <h2 id="accounts-title">Accounts</h2>
              {lab && lab.profiles.length > 0 && (
                <SegmentedChoice
                  label="Accounts view"
                  className="small-segmented"
                  options={accountsViews}
                  value={accountsView}
                  onChange={setAccountsView}
                />
              )}
            </div>
            {lab && (
              <div className="routing" role="group" aria-label="Routing mode">
                <span className="muted small">New sessions:</span>
                <button
                  type="button"
                  className={isAuto ? 'chip chip-on' : 'chip'}
                  aria-pressed={isAuto}
                  onClick={() => void run('Auto', (api) => api.setActive({ profile: 'auto' }))}
                >
                  Auto (best account)
                </button>
                {!isAuto && lab.active && <span className="chip chip-on">{lab.active}</span>}
                {/* Where new sessions go is the pool's answer, not the choice: an active account
                    that is limited or needs a sign-in hands them to another, and the header says so. */}
                {hasProfiles && (isAuto || lab.pool.next.profile !== lab.active) && (
                  <span
                    className="small muted"
                    data-testid="sessions-next"
                    title={
                      lab.pool.next.profile
                        ? humanizeTimes(lab.pool.next.detail, { now })
                        : undefined
                    }
                  >
                    {lab.pool.next.profile
                      ? `→ ${lab.pool.next.profile} now`
                      : `→ ${noNewSessionTarget}`}
                  </span>
                )}
                {hasProfiles && (
                  <button
                    type="button"
                    className="button ghost small-button"
                    aria-busy={refresh === 'busy'}
                    disabled={refresh === 'busy'}
                    onClick={() => void refreshQuota()}
                  >
                    {refresh === 'busy' ? 'Refreshing…' : 'Refresh quota'}
                  </button>
                )}
                <span className="small muted" role="status" aria-label="Quota refresh">
                  {refresh === 'done' ? refreshed : ''}
                </span>
              </div>
            )}
          </div>
          {/* With an unreadable registry the list is empty for that reason, not for want of
              accounts: the banner above names the file (the tray follows the same rule). */}
          {lab && hasNoAccounts(lab) && (
            <div className="card empty">
              <p>
                {noAccountsLabel}. Add your first ChatGPT account to start routing Codex through
                Codex Lab.
              </p>
              <button
                type="button"
                className="button primary"
                disabled={!canAddAccount}
                onClick={openSignIn}
              >
                Add account…
              </button>
            </div>
          )}
          {asList && <AccountList lab={lab} now={now} offline={connection === 'offline'} />}
          <div className={asList ? 'cards cards-opened' : 'cards'}>
            {cardProfiles.map((profile) => {
              const marks = lab ? sessionMarks(lab, profile.name) : null;
              return (
                <ProfileCard
                  key={keyOf(profile.name)}
                  profile={profile}
                  isActive={marks?.active ?? false}
                  takesNewSessions={marks?.newSessions ?? false}
                  now={now}
                  offline={connection === 'offline'}
                  {...(asList
                    ? {
                        opened: {
                          id: cardIdOf(keyOf(profile.name)),
                          onClose: () => closeCard(keyOf(profile.name), profile.name),
                        },
                      }
                    : {})}
                />
              );
            })}
          </div>
        </section>

        {lab && (
          // Beside the activity log a sessions table is too narrow to read (its why wraps a word a
          // line, its pin menu is cut off): with sessions to show it takes the page's width.
          <div className={lab.sessions.length > 0 ? 'columns columns-stacked' : 'columns'}>
            <SessionsPanel lab={lab} now={now} />
            <ActivityLog activity={lab.activity} now={now} />
          </div>
        )}
        {lab && <RequestsPanel lab={lab} />}
        {lab && <PinsPanel lab={lab} now={now} />}
        {lab && <CodexSetup config={lab.codexConfig} />}
        {window.codexLabDesktop && <DesktopSection desktop={window.codexLabDesktop} />}
      </main>
      <AddAccount />
    </div>
  );
}
