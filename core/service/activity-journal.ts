/**
 * Ties the activity log, the decision log and the per-request log to one bounded on-disk journal
 * (`state/activity.jsonl`), so all three survive a restart: on start the journal's lines are put
 * back into each log, and from then on every new entry is queued for the next batched write.
 */
import type { DecisionLog, DecisionRecord } from '../router/decision-log.ts';
import { requestsFromJournal, type RequestLog, type RequestRecord } from '../router/request-log.ts';
import type { Journal, JournalRecord } from '../state/journal.ts';
import type { ActivityEntry } from '../view-types.ts';
import type { ActivityLog } from './events.ts';

/** The logs a journal keeps. */
export interface JournaledLogs {
  activity: ActivityLog;
  decisions: DecisionLog;
  requests: RequestLog;
}

/**
 * Loads the journal into the logs (oldest first), then subscribes it to every new entry. Returns
 * the unsubscribe function, the journal's problem sentence (a damaged file), if any, and every
 * request the file holds (more than the in-memory log keeps), for the session table to restore.
 */
export async function connectJournal(
  journal: Journal,
  logs: JournaledLogs,
): Promise<{ disconnect: () => void; problem: string | null; requests: RequestRecord[] }> {
  const content = await journal.load();
  const activity: ActivityEntry[] = [];
  const decisions: DecisionRecord[] = [];
  for (const record of content.records) {
    const { type, ...rest } = record;
    if (type === 'activity') activity.push(rest as unknown as ActivityEntry);
    else if (type === 'decision') decisions.push(rest as unknown as DecisionRecord);
  }
  // Requests with the renames since applied (a rename is a line of its own, after them).
  const requests = requestsFromJournal(content.records);
  logs.activity.restore(activity);
  logs.decisions.restore(decisions);
  logs.requests.restore(requests);
  // One small object per entry; serialising waits for the batch write.
  const sink = (type: string) => (entry: object) =>
    journal.append({ type, ...entry } as JournalRecord);
  const unsubscribers = [
    logs.activity.subscribe(sink('activity')),
    logs.decisions.onRecord(sink('decision')),
    logs.requests.onRecord(sink('request')),
    logs.requests.onRename((rename) => journal.append({ ...rename })),
  ];
  return {
    disconnect: () => {
      for (const unsubscribe of unsubscribers) unsubscribe();
    },
    problem: content.problem,
    requests,
  };
}
