// The events a webhook can ask for. What each change was is decided by the change feed's triggers
// (changes.event) and matched against a webhook's list when its deliveries are queued, at commit
// (prisma/migrations/20261205100000_webhooks): "task.created", "task.*" or "*".

export const WEBHOOK_EVENTS = [
  'task.created',
  'task.updated',
  'task.completed',
  'task.deleted',
  'list.created',
  'list.updated',
  'list.deleted',
  'tag.created',
  'tag.updated',
  'tag.deleted',
] as const;

const PATTERNS = new Set<string>([...WEBHOOK_EVENTS, 'task.*', 'list.*', 'tag.*', '*']);

/** A webhook subscribes to at most this many patterns (the migration checks it too). */
export const MAX_EVENT_PATTERNS = 20;

/** What is wrong with a webhook's event list, with the index of each bad entry; empty when it is valid. */
export function eventProblems(events: readonly string[], path: string): { path: string; message: string }[] {
  if (events.length === 0) return [{ path, message: 'name at least one event, or "*" for all' }];
  if (events.length > MAX_EVENT_PATTERNS) return [{ path, message: `at most ${MAX_EVENT_PATTERNS} events` }];
  return events.flatMap((event, index) =>
    PATTERNS.has(event) ? [] : [{ path: `${path}.${index}`, message: `unknown event; one of ${[...PATTERNS].join(', ')}` }],
  );
}
