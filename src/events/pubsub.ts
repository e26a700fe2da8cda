import { createPubSub } from 'graphql-yoga';
import type { TypedEventTarget } from '@graphql-yoga/typed-event-target';

// Reminder events, keyed by the owner's user id so a subscriber can only ever hear its own topic.
export interface ReminderEvent {
  taskId: string;
  reminderId: string;
}

export type PubSubChannels = {
  reminderDue: [userId: string, event: ReminderEvent];
  /** A write of the user committed: their change feed has something new (src/sync/follow-changes.ts). */
  changed: [userId: string, notice: true];
};

export function createEventPubSub(eventTarget?: TypedEventTarget<CustomEvent>) {
  return createPubSub<PubSubChannels>(eventTarget ? { eventTarget } : undefined);
}

export type PubSub = ReturnType<typeof createEventPubSub>;
