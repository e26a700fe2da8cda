// When a failed delivery is tried again: exponential backoff from `baseMs`, doubling per failed
// attempt up to `maxDelayMs`, within `windowMs` of the change (24 hours by default). The last attempt
// is made when the window closes; a failure then gives up (the webhook is turned off).

export interface RetryPolicy {
  baseMs: number;
  maxDelayMs: number;
  windowMs: number;
}

/** The time of the next attempt after `failedAttempts` failures (1 or more), or null when it is time to give up. */
export function nextAttemptAt(policy: RetryPolicy, occurredAt: Date, failedAttempts: number, now: Date): Date | null {
  const windowEnds = occurredAt.getTime() + policy.windowMs;
  if (now.getTime() >= windowEnds) return null;
  const delay = Math.min(policy.baseMs * 2 ** Math.min(failedAttempts - 1, 40), policy.maxDelayMs);
  return new Date(Math.min(now.getTime() + delay, windowEnds));
}
