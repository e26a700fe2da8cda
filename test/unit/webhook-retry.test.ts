import { describe, expect, it } from 'vitest';
import { nextAttemptAt } from '../../src/webhooks/retry.js';

const policy = { baseMs: 10_000, maxDelayMs: 3_600_000, windowMs: 86_400_000 };
const occurred = new Date('2026-12-05T00:00:00Z');
const at = (ms: number) => new Date(occurred.getTime() + ms);

describe('nextAttemptAt', () => {
  it('doubles the wait after each failure, from the base up to the cap', () => {
    const waits = [1, 2, 3, 4, 10, 12, 30].map((failures) => nextAttemptAt(policy, occurred, failures, at(0))!.getTime() - occurred.getTime());
    expect(waits).toEqual([10_000, 20_000, 40_000, 80_000, 3_600_000, 3_600_000, 3_600_000]);
  });

  it('makes the last attempt when the window closes, and gives up after it', () => {
    expect(nextAttemptAt(policy, occurred, 30, at(86_000_000))).toEqual(at(86_400_000));
    expect(nextAttemptAt(policy, occurred, 31, at(86_400_000))).toBeNull();
    expect(nextAttemptAt(policy, occurred, 31, at(90_000_000))).toBeNull();
  });

  it('keeps 24 hours of retries to a few dozen attempts', () => {
    let now = occurred;
    let attempts = 1;
    for (let next = nextAttemptAt(policy, occurred, attempts, now); next; next = nextAttemptAt(policy, occurred, attempts, now)) {
      now = next;
      attempts += 1;
    }
    expect(attempts).toBeGreaterThan(20);
    expect(attempts).toBeLessThan(40);
    expect(now).toEqual(at(86_400_000));
  });
});
