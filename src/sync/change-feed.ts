import { sql, type SqlBool } from 'kysely';
import type { ViewerContext } from '../context.js';
import { bound } from '../reads/parameters.js';
import { col, from, param } from '../reads/sources.js';
import { GraphQLError } from 'graphql';
import { FULL_SYNC, encodeSyncToken, type SyncPosition } from './sync-token.js';

export const DEFAULT_CHANGES = 100;
export const MAX_CHANGES = 500;

export interface Change {
  kind: 'UPSERT' | 'DELETE';
  typename: 'Task' | 'List' | 'Tag';
  /** The object's database id. */
  objectId: string;
  at: Date;
  /** The token that resumes right after this change. */
  syncToken: string;
  /** The read it came from: objects are loaded as they are after it (see Change.node). */
  read: object;
}

export interface ChangePage {
  changes: Change[];
  syncToken: string;
  hasMore: boolean;
}

interface FeedRow {
  head: string;
  purged: string;
  page: { typename: Change['typename']; object_id: string; seq: number | string; deleted: boolean; changed_at: string }[];
}

const READ = {};

/**
 * The viewer's changes after `position` (none: a full sync), oldest first, at most `first`: one
 * statement, which also reads the viewer's last change number (`head`) in the same snapshot. Every
 * change numbered up to `head` has committed (numbers are given at commit, in commit order), so a
 * page that is the last one moves the token to `head`.
 */
export async function readChanges(context: ViewerContext, position: SyncPosition | null, first: number): Promise<ChangePage> {
  const from_ = position ?? FULL_SYNC;
  const input = {
    seq: bound(from_.seq.toString()),
    typename: bound(from_.typename),
    objectId: bound(from_.objectId),
    fullUntil: bound(from_.fullUntil.toString()),
    limit: bound(first + 1),
  };
  const [row] = await context.services.reads.statements.run(READ, context.viewer.id, input, (env, shaped) => {
    const c = env.alias('changes');
    const s = env.alias('sync_counters');
    const seq = sql`${col(c, 'seq')}`;
    const page = from(env.q, c)
      .select((['typename', 'object_id', 'seq', 'deleted', 'changed_at'] as const).map((column) => sql`${col(c, column)}`.as(column)) as never)
      .where(sql<SqlBool>`${seq} >= ${param(shaped.seq)}::bigint`)
      .where(sql<SqlBool>`(${seq} > ${param(shaped.seq)}::bigint OR (${col(c, 'typename')}, ${col(c, 'object_id')}) > (${param(shaped.typename)}::text, ${param(shaped.objectId)}::uuid))`)
      .where(sql<SqlBool>`NOT (${col(c, 'deleted')} AND ${seq} <= ${param(shaped.fullUntil)}::bigint)`)
      .orderBy(seq)
      .orderBy(col(c, 'typename'))
      .orderBy(col(c, 'object_id'))
      .limit(param<number>(shaped.limit) as never);
    const counter = (column: 'seq' | 'purged_through') => from(env.q, s).select(sql`${col(s, column)}`.as('value') as never);
    return env.q.selectNoFrom([
      sql`coalesce((${counter('seq')}), 0)::text`.as('head'),
      sql`coalesce((${counter('purged_through')}), 0)::text`.as('purged'),
      sql`coalesce((SELECT json_agg(p) FROM (${page}) p), '[]')`.as('page'),
    ] as never);
  });
  const { head, purged, page } = row as unknown as FeedRow;
  if (position && missedDeletions(position, BigInt(purged))) {
    throw new GraphQLError('This sync token is older than the deletions the server keeps: sync again without a token', {
      extensions: { code: 'SYNC_TOKEN_EXPIRED' },
    });
  }
  const fullUntil = position ? from_.fullUntil : BigInt(head);
  const hasMore = page.length > first;
  const rows = hasMore ? page.slice(0, first) : page;
  const read = {};
  const changes = rows.map((change) => ({
    read,
    kind: change.deleted ? ('DELETE' as const) : ('UPSERT' as const),
    typename: change.typename,
    objectId: change.object_id,
    at: new Date(change.changed_at),
    syncToken: encodeSyncToken({ seq: BigInt(change.seq), typename: change.typename, objectId: change.object_id, fullUntil }),
  }));
  const end: SyncPosition = hasMore ? { ...from_, fullUntil } : { seq: BigInt(head), typename: null, objectId: null, fullUntil };
  const syncToken = hasMore ? changes.at(-1)!.syncToken : encodeSyncToken(end);
  return { changes, syncToken, hasMore };
}

/** Whether a deletion the reader still needed was purged: one numbered after its full sync and not yet read. */
function missedDeletions(position: SyncPosition, purgedThrough: bigint): boolean {
  if (purgedThrough <= position.fullUntil) return false;
  return position.seq < purgedThrough || (position.seq === purgedThrough && position.typename !== null);
}
