import { sql, type SqlBool } from 'kysely';
import type { ViewerContext } from '../context.js';
import type { Row } from '../reads/index.js';
import { viewerZone } from '../reads/calendar.js';
import { bound } from '../reads/parameters.js';
import { col, from, param } from '../reads/sources.js';
import { createTask } from '../tasks/task-writes.js';
import { parseQuickAdd, type QuickAddReading } from './parse-quick-add.js';

// Quick add on the server: the text is read in the viewer's zone, then its #List and @tags are
// matched against the viewer's own lists and tags (ignoring case). A #Name that names no list is text
// the reading did not understand, so it stays in the title; an @tag that names no tag is created.

/** Tag names longer than a tag may be are left in the title. */
const MAX_TAG_NAME = 64;

export interface QuickAddPlan {
  title: string;
  dueAt: Date | null;
  dueDate: string | null;
  recurrence: string | null;
  priority: QuickAddReading['priority'];
  /** The list #Name matched; null when the text names none (or none that exists). */
  listId: string | null;
  /** The viewer's tags the text names. */
  tagIds: string[];
  /** Names of tags quickAddTask would create. */
  newTagNames: string[];
}

const ZONE = {};
const MATCHES = {};
const NEW_TAGS = {};

async function zoneOf(context: ViewerContext): Promise<string> {
  const [row] = await context.services.reads.statements.run(ZONE, context.viewer.id, {}, (env) => env.q.selectNoFrom([sql`${viewerZone(env)}`.as('zone')] as never));
  return (row?.zone as string | undefined) ?? 'UTC';
}

/** Reads `text` as quickAddTask would, writing nothing: two statements (the zone, then the names). */
export async function planQuickAdd(context: ViewerContext, text: string): Promise<QuickAddPlan> {
  const reading = parseQuickAdd(text, { timeZone: await zoneOf(context), now: new Date() });
  const names = reading.tagNames.filter((name) => name.length <= MAX_TAG_NAME);
  const input = { list: bound(reading.listName ?? ''), names: bound(names) };
  const [row] = await context.services.reads.statements.run(MATCHES, context.viewer.id, input, (env, values) => {
    const l = env.alias('lists');
    // An active list before an archived one of the same name, then the user's own order.
    const list = from(env.q, l)
      .select(sql`${col(l, 'id')}`.as('id'))
      .where(sql<SqlBool>`lower(${col(l, 'name')}) = lower(${param(values.list)})`)
      .orderBy(sql`${col(l, 'archived_at')} IS NOT NULL`)
      .orderBy(col(l, 'position') as never)
      .limit(1);
    const g = env.alias('tags');
    const tags = from(env.q, g)
      .select(sql`coalesce(json_agg(json_build_object('id', ${col(g, 'id')}, 'name', ${col(g, 'name')})), '[]')`.as('tags'))
      .where(sql<SqlBool>`${col(g, 'name')} = ANY(${param(values.names)}::citext[])`);
    return env.q.selectNoFrom([sql`(${list})`.as('list_id'), sql`(${tags})`.as('tags')] as never);
  });
  const listId = reading.listName ? ((row?.list_id as string | null) ?? null) : null;
  const known = (row?.tags ?? []) as { id: string; name: string }[];
  const knownNames = new Set(known.map((tag) => tag.name.toLowerCase()));
  const unread = [
    ...(reading.listName && !listId ? [`#${reading.listName}`] : []),
    ...reading.tagNames.filter((name) => name.length > MAX_TAG_NAME).map((name) => `@${name}`),
  ];
  return {
    // A text that was nothing but a #Name is its own title already.
    title: [reading.title, ...unread.filter((token) => !reading.title.includes(token))].join(' '),
    dueAt: reading.dueAt,
    dueDate: reading.dueDate,
    recurrence: reading.recurrence,
    priority: reading.priority,
    listId,
    tagIds: known.map((tag) => tag.id),
    newTagNames: names.filter((name) => !knownNames.has(name.toLowerCase())),
  };
}

/** The tags named, created where missing (another request creating one at the same time is fine). */
async function tagsNamed(context: ViewerContext, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const rows = await context.services.reads.statements.run(NEW_TAGS, context.viewer.id, { names: bound(names) }, (env, values) => {
    const g = env.alias('tags');
    return env.q
      .with('created', (db) =>
        db
          .insertInto('tags')
          .columns(['user_id', 'name'])
          .expression(env.q.selectNoFrom([sql`${env.viewer}::uuid`.as('user_id'), sql`unnest(${values.names}::text[])`.as('name')] as never) as never)
          .onConflict((conflict) => conflict.doNothing())
          .returning('id'),
      )
      .selectFrom('created')
      .select('id')
      .unionAll(from(env.q, g).select(sql`${col(g, 'id')}`.as('id')).where(sql<SqlBool>`${col(g, 'name')} = ANY(${values.names}::citext[])`) as never);
  });
  return [...new Set(rows.map((row) => row.id as string))];
}

/** Creates the task the text describes, in `listId` unless the text names a list. */
export async function quickAddTask(context: ViewerContext, input: { text: string; listId?: string; idempotencyKey?: string | null }): Promise<Row> {
  const plan = await planQuickAdd(context, input.text);
  const created = await tagsNamed(context, plan.newTagNames);
  return createTask(context, {
    title: plan.title,
    dueAt: plan.dueAt,
    dueDate: plan.dueDate,
    recurrence: plan.recurrence,
    priority: plan.priority,
    tagIds: [...plan.tagIds, ...created],
    listId: plan.listId ?? input.listId,
    idempotencyKey: input.idempotencyKey,
  });
}
