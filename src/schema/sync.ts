import { brandWithType } from '@pothos/core';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { ViewerContext } from '../context.js';
import type { Table } from '../reads/sources.js';
import { DEFAULT_CHANGES, MAX_CHANGES, readChanges, type Change, type ChangePage } from '../sync/change-feed.js';
import { followChanges } from '../sync/follow-changes.js';
import { decodeSyncToken } from '../sync/sync-token.js';
import { builder } from './builder.js';
import { badInput } from './errors.js';

const TABLE_OF: Record<Change['typename'], Table> = { Task: 'tasks', List: 'lists', Tag: 'tags' };

/** Per request (or subscription): the feed read whose objects its row loaders hold. */
const loadedFor = new WeakMap<object, object>();

const ChangeKindEnum = builder.enumType('ChangeKind', {
  description: 'What happened to an object.',
  values: {
    UPSERT: { description: 'Created or changed (restored from the trash too): `node` is its current state.' },
    DELETE: { description: 'Moved to the trash or deleted: drop it.' },
  } as const,
});

const ChangeRef = builder.objectRef<Change>('Change').implement({
  description: 'The latest change to one task, list or tag.',
  fields: (t) => ({
    kind: t.field({ type: ChangeKindEnum, description: 'UPSERT or DELETE.', resolve: (change) => change.kind }),
    typename: t.string({ description: 'Task, List or Tag.', resolve: (change) => change.typename }),
    id: t.id({ description: 'Global ID of the object.', resolve: (change) => encodeGlobalID(change.typename, change.objectId) }),
    node: t.field({
      type: builder.nodeInterfaceRef(),
      nullable: true,
      description: 'Its current state; null for DELETE (and for an UPSERT whose object was deleted since: a DELETE follows).',
      resolve: async (change, _args, context) => {
        if (change.kind === 'DELETE') return null;
        // Rows loaded for an earlier read of a live stream (same context) may be older than this change.
        if (loadedFor.get(context) !== change.read) {
          context.services.reads.forget(context);
          loadedFor.set(context, change.read);
        }
        const [row] = await context.services.reads.rowsByIds(context, TABLE_OF[change.typename], [change.objectId]);
        if (!row) return null;
        brandWithType(row, change.typename as never);
        return row as never;
      },
    }),
    at: t.field({ type: 'DateTime', description: 'When it committed.', resolve: (change) => change.at }),
  }),
});

const ChangePageRef = builder.objectRef<ChangePage>('ChangePage').implement({
  description: 'A page of changes.',
  fields: (t) => ({
    changes: t.field({ type: [ChangeRef], description: 'In commit order.', resolve: (page) => page.changes }),
    syncToken: t.string({ description: 'Pass it as syncToken to read on from here; keep the last one.', resolve: (page) => page.syncToken }),
    hasMore: t.boolean({ description: 'Whether more changes follow now: ask again with syncToken.', resolve: (page) => page.hasMore }),
  }),
});

const ChangeEventRef = builder.objectRef<Change>('ChangeEvent').implement({
  description: 'One change, live.',
  fields: (t) => ({
    change: t.field({ type: ChangeRef, description: 'The change.', resolve: (change) => change }),
    syncToken: t.string({ description: 'Resumes right after this change (changes query or subscription).', resolve: (change) => change.syncToken }),
  }),
});

function positionOf(syncToken: string | null | undefined) {
  return syncToken == null ? null : decodeSyncToken(syncToken, 'syncToken');
}

builder.queryField('changes', (t) =>
  t.withAuth({ loggedIn: true }).field({
    type: ChangePageRef,
    description:
      "What changed in the viewer's tasks, lists and tags: without syncToken, everything there is (a full sync); with one, each object created, changed, trashed, restored or deleted since, once, in its latest state, in commit order. Page until hasMore is false and keep the last syncToken. SYNC_TOKEN_EXPIRED: sync again without one.",
    args: {
      syncToken: t.arg.string({ description: 'The syncToken of the last page or event you read; none for a full sync.' }),
      first: t.arg.int({ description: `Page size (default ${DEFAULT_CHANGES}, at most ${MAX_CHANGES}).` }),
    },
    resolve: (_root, args, context) => {
      const first = args.first ?? DEFAULT_CHANGES;
      if (first < 1 || first > MAX_CHANGES) throw badInput([{ path: 'first', message: `between 1 and ${MAX_CHANGES}` }]);
      return readChanges(context as ViewerContext, positionOf(args.syncToken), first);
    },
  }),
);

builder.subscriptionField('changes', (t) =>
  t.withAuth({ loggedIn: true }).field({
    type: ChangeEventRef,
    description:
      'The changes after syncToken (without one: a full sync), then each new one as it commits, with no gap and no repeat in between. Reconnect with the last event’s syncToken to continue exactly.',
    args: { syncToken: t.arg.string({ description: 'Where to start: the syncToken of the last page or event you read.' }) },
    subscribe: (_root, args, context) => followChanges(context as ViewerContext, positionOf(args.syncToken)),
    resolve: (change) => change,
  }),
);
