import { createPubSub } from 'graphql-yoga';
import type { TypedEventTarget } from '@graphql-yoga/typed-event-target';

// Reminder events, keyed by the owner's user id so a subscriber can only ever hear its own topic.
export interface ReminderEvent {
  taskId: string;
  reminderId: string;
}

export type PubSubChannels = {
  reminderDue: [userId: string, event: ReminderEvent];
};

export function createEventPubSub(eventTarget?: TypedEventTarget<CustomEvent>) {
  return createPubSub<PubSubChannels>(eventTarget ? { eventTarget } : undefined);
}

export type PubSub = ReturnType<typeof createEventPubSub>;
