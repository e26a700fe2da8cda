import type { TypedEventTarget } from '@graphql-yoga/typed-event-target';
import { createEventPubSub, type PubSub, type ReminderEvent } from '../../src/events/pubsub.js';

export interface PublishedReminder extends ReminderEvent {
  userId: string;
}

/**
 * An in-process pubsub that records what is published and knows which topics have listeners, so a test
 * can wait until a subscription is really listening before the worker publishes.
 */
export class RecordingEventTarget extends EventTarget {
  readonly published: PublishedReminder[] = [];
  private readonly listeners = new Map<string, number>();
  private readonly waiters = new Map<string, (() => void)[]>();

  override addEventListener(type: string, callback: EventListenerOrEventListenerObject | null, options?: AddEventListenerOptions | boolean): void {
    super.addEventListener(type, callback, options);
    this.listeners.set(type, (this.listeners.get(type) ?? 0) + 1);
    for (const wake of this.waiters.get(type) ?? []) wake();
    this.waiters.delete(type);
  }

  override removeEventListener(type: string, callback: EventListenerOrEventListenerObject | null, options?: EventListenerOptions | boolean): void {
    super.removeEventListener(type, callback, options);
    this.listeners.set(type, Math.max(0, (this.listeners.get(type) ?? 0) - 1));
  }

  override dispatchEvent(event: Event): boolean {
    const [, userId = ''] = /^reminderDue:(.*)$/.exec(event.type) ?? [];
    if (userId) this.published.push({ userId, ...((event as CustomEvent<ReminderEvent>).detail) });
    return super.dispatchEvent(event);
  }

  listenerCount(topic: string): number {
    return this.listeners.get(topic) ?? 0;
  }

  /** Resolves once `topic` has a listener. */
  listening(topic: string): Promise<void> {
    if (this.listenerCount(topic) > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(topic, [...(this.waiters.get(topic) ?? []), resolve]));
  }
}

export function recordingPubSub(): { pubsub: PubSub; target: RecordingEventTarget } {
  const target = new RecordingEventTarget();
  return { pubsub: createEventPubSub(target as unknown as TypedEventTarget<CustomEvent>), target };
}

export const reminderTopic = (userUuid: string) => `reminderDue:${userUuid}`;

/** The database id inside a global ID ("Task:<uuid>" in base64). */
export function uuidOf(globalId: string): string {
  return Buffer.from(globalId, 'base64').toString().replace(/^[A-Za-z]+:/, '');
}
