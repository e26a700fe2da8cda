import { DEFAULT_ORDER, type Priority, type TaskFilter, type TaskOrder, type TaskOrderField } from './task-query.js';

// Task reads, and createTask's insert, as one hand-written SQL statement each, for the selections
// clients ask for most: Task columns, and tags with Tag columns. Prisma answers everything else (its query
// engine costs ~40 % of a list request's CPU: npm run bench:layers), so `compile*` returns null for
// any selection, paging or shape it does not know, and the caller falls back to Prisma.
//
// The rows come out in Prisma's shape (camelCase keys, taskTags: [{ tag }]) because plugin-prisma's
// resolvers read them as if Prisma had answered the same selection. Every statement is scoped to the
// viewer by construction: $1 is the viewer's id and the first condition on every table it reads.

/**
 * The tags of task `t`. task_tags' primary key is (user_id, task_id, tag_id): led by the owner, so a
 * page's links are read from one or two index pages (an index-only scan), where a key led by random
 * task ids costs a page per task, which at 10M tasks no longer stays in PostgreSQL's buffers.
 */
const TAG_LINKS = 'FROM task_tags tt JOIN tags g ON g.id = tt.tag_id AND g.user_id = $1 WHERE tt.user_id = $1 AND tt.task_id = t.id';

export interface SqlStatement {
  text: string;
  values: unknown[];
  /** Keys of each tag (inside taskTags' JSON) that hold timestamps, to turn into Dates. */
  tagDates: readonly string[];
  /**
   * False when the best plan depends on the values (a search term): a prepared statement may be
   * given one generic plan for every term, and for the search page at 200k tasks that plan made
   * the page 3x slower (npm run bench, S5). Such a statement is planned on every run instead.
   */
  prepare?: boolean;
}

/** What plugin-prisma's `query` holds for a task list or a task: its selection, and paging for lists. */
export interface PrismaTaskQuery {
  select?: Record<string, unknown>;
  include?: unknown;
  take?: number;
  skip?: number;
  cursor?: { id?: unknown };
}

export interface TaskPageRequest {
  viewerId: string;
  query: PrismaTaskQuery;
  filter?: TaskFilter;
  order?: readonly TaskOrder[];
  /** Only tasks carrying this tag (Tag.tasks). */
  tagId?: string;
  now: Date;
  /** Instead of the rows `query.select` asks for: each task's id and its response JSON (see compileTaskJson). */
  json?: readonly TaskJsonField[];
}

const TASK_COLUMNS: Record<string, string> = {
  id: 'id',
  userId: 'user_id',
  title: 'title',
  description: 'description',
  completed: 'completed',
  completedAt: 'completed_at',
  priority: 'priority',
  dueAt: 'due_at',
  remindAt: 'remind_at',
  reminderSentAt: 'reminder_sent_at',
  recurrence: 'recurrence',
  seriesId: 'series_id',
  generatedFromId: 'generated_from_id',
  idempotencyKey: 'idempotency_key',
  version: 'version',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
};

const TAG_COLUMNS: Record<string, string> = { id: 'id', userId: 'user_id', name: 'name', color: 'color', idempotencyKey: 'idempotency_key', createdAt: 'created_at' };
const TAG_TIMESTAMPS = new Set(['createdAt']);

const ORDER_COLUMNS: Record<TaskOrderField, string> = {
  DUE_AT: 'due_at',
  PRIORITY: 'priority',
  CREATED_AT: 'created_at',
  UPDATED_AT: 'updated_at',
  TITLE: 'title',
};

/** Statement parameters; $1 is always the viewer. */
class Parameters {
  readonly values: unknown[];
  constructor(viewerId: string) {
    this.values = [viewerId];
  }
  add(value: unknown, cast: string): string {
    this.values.push(value);
    return `$${this.values.length}::${cast}`;
  }
}

interface Selection {
  columns: string[];
  tagDates: string[];
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The tag list Task.tags asks for: { orderBy: { tag: { name: 'asc' } }, select: { tag: { select: columns } } }. */
function tagsColumn(value: unknown): Selection | null {
  if (!isPlainObject(value) || Object.keys(value).some((key) => key !== 'select' && key !== 'orderBy')) return null;
  const { orderBy, select } = value;
  if (!isPlainObject(orderBy) || Object.keys(orderBy).length !== 1 || !isPlainObject(orderBy.tag)) return null;
  if (Object.keys(orderBy.tag).length !== 1 || orderBy.tag.name !== 'asc') return null;
  if (!isPlainObject(select) || Object.keys(select).length !== 1 || !isPlainObject(select.tag)) return null;
  const tagSelect = select.tag;
  if (Object.keys(tagSelect).length !== 1 || !isPlainObject(tagSelect.select)) return null;
  const fields: string[] = [];
  const tagDates: string[] = [];
  for (const [key, wanted] of Object.entries(tagSelect.select)) {
    if (wanted !== true || !Object.hasOwn(TAG_COLUMNS, key)) return null;
    fields.push(`'${key}', g.${TAG_COLUMNS[key]}`);
    if (TAG_TIMESTAMPS.has(key)) tagDates.push(key);
  }
  if (fields.length === 0) return null;
  const column = `COALESCE((SELECT json_agg(json_build_object('tag', json_build_object(${fields.join(', ')})) ORDER BY g.name)
      ${TAG_LINKS}), '[]'::json) AS "taskTags"`;
  return { columns: [column], tagDates };
}

/** The SELECT list for plugin-prisma's selection, or null when it asks for something else. */
function selection(query: PrismaTaskQuery, tags: (value: unknown) => Selection | null = tagsColumn): Selection | null {
  if (query.include !== undefined || !isPlainObject(query.select)) return null;
  const columns: string[] = [];
  let tagDates: string[] = [];
  for (const [key, wanted] of Object.entries(query.select)) {
    if (key === 'taskTags') {
      const tagList = tags(wanted);
      if (!tagList) return null;
      columns.push(...tagList.columns);
      tagDates = tagList.tagDates;
    } else if (wanted === true && Object.hasOwn(TASK_COLUMNS, key)) {
      columns.push(`t.${TASK_COLUMNS[key]} AS "${key}"`);
    } else {
      return null;
    }
  }
  return columns.length === 0 ? null : { columns, tagDates };
}

/** The filter's conditions (TaskFilter, see task-query.ts for the same rules in Prisma's terms). */
function filterConditions(filter: TaskFilter | undefined, now: Date, parameters: Parameters): string[] {
  if (!filter) return [];
  const conditions: string[] = [];
  if (filter.completed != null) conditions.push(filter.completed ? 't.completed' : 'NOT t.completed');
  if (filter.priorityIn) conditions.push(`t.priority = ANY(${parameters.add([...filter.priorityIn], '"Priority"[]')})`);
  if (filter.tagIds) {
    conditions.push(`EXISTS (SELECT FROM task_tags ft WHERE ft.task_id = t.id AND ft.user_id = $1 AND ft.tag_id = ANY(${parameters.add([...filter.tagIds], 'uuid[]')}))`);
  }
  if (filter.dueAfter) conditions.push(`t.due_at >= ${parameters.add(filter.dueAfter.toISOString(), 'timestamptz')}`);
  if (filter.dueBefore) conditions.push(`t.due_at < ${parameters.add(filter.dueBefore.toISOString(), 'timestamptz')}`);
  if (filter.hasDueDate != null) conditions.push(filter.hasDueDate ? 't.due_at IS NOT NULL' : 't.due_at IS NULL');
  if (filter.recurring != null) conditions.push(filter.recurring ? 't.recurrence IS NOT NULL' : 't.recurrence IS NULL');
  if (filter.overdue != null) {
    const at = parameters.add(now.toISOString(), 'timestamptz');
    conditions.push(filter.overdue ? `(NOT t.completed AND t.due_at < ${at})` : `(t.completed OR t.due_at IS NULL OR t.due_at >= ${at})`);
  }
  // ILIKE's wildcards in the term match themselves: "100%" means "100%".
  const search = filter.search?.trim().replace(/[\\%_]/g, (character) => `\\${character}`);
  if (search) {
    const pattern = parameters.add(`%${search}%`, 'text');
    conditions.push(`(t.title ILIKE ${pattern} OR t.description ILIKE ${pattern})`);
  }
  return conditions;
}

interface OrderKey {
  column: string;
  descending: boolean;
  /** due_at: tasks without a due date come last in either direction. */
  nullsLast: boolean;
}

/** The same keys as taskOrderBy: the first of each field, then id, so the order is total. */
function orderKeys(order: readonly TaskOrder[] | undefined): OrderKey[] {
  const fields = order && order.length > 0 ? order : DEFAULT_ORDER;
  const seen = new Set<TaskOrderField>();
  const keys: OrderKey[] = [];
  for (const { field, direction } of fields) {
    if (seen.has(field)) continue;
    seen.add(field);
    keys.push({ column: ORDER_COLUMNS[field], descending: direction === 'DESC', nullsLast: field === 'DUE_AT' });
  }
  keys.push({ column: 'id', descending: false, nullsLast: false });
  return keys;
}

const orderByClause = (keys: OrderKey[]) =>
  keys.map(({ column, descending, nullsLast }) => `t.${column} ${descending ? 'DESC' : 'ASC'}${nullsLast ? ' NULLS LAST' : ''}`).join(', ');

/** Rows strictly after the cursor row `c` in the order of `keys` (a keyset condition). */
function afterCursor(keys: OrderKey[]): string {
  const equal = ({ column, nullsLast }: OrderKey) => (nullsLast ? `t.${column} IS NOT DISTINCT FROM c.${column}` : `t.${column} = c.${column}`);
  const beyond = ({ column, descending, nullsLast }: OrderKey) => {
    const strictly = `t.${column} ${descending ? '<' : '>'} c.${column}`;
    return nullsLast ? `(${strictly} OR (t.${column} IS NULL AND c.${column} IS NOT NULL))` : strictly;
  };
  const branches = keys.map((key, index) => [...keys.slice(0, index).map(equal), beyond(key)].join(' AND '));
  return `(${branches.map((branch) => `(${branch})`).join(' OR ')})`;
}

/**
 * A field of a task's GraphQL response, for PostgreSQL to build as JSON (the direct task reads,
 * src/execution/): a column as it is, a timestamp as the DateTime scalar writes it, the Relay
 * global ID, whether the task is overdue, a constant (__typename), or the tag list.
 */
export type TaskJsonField =
  | { key: string; kind: 'column' | 'timestamp'; column: string }
  | { key: string; kind: 'globalId' | 'overdue' }
  | { key: string; kind: 'constant'; value: string }
  | { key: string; kind: 'tags'; fields: readonly TagJsonField[] };
export type TagJsonField = Exclude<TaskJsonField, { kind: 'overdue' | 'tags' }>;

/** A row of a JSON read: the task's id (for cursors) and its response object as JSON text. */
export interface TaskJsonRow {
  id: string;
  json: string;
}

/** Type names (__typename) are plain names, written into the text as JSON string literals. */
const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
const jsonName = (name: string) => {
  if (!NAME.test(name)) throw new Error(`not a GraphQL name: ${JSON.stringify(name)}`);
  return `'"${name}"'`;
};
// Date#toISOString's format, in UTC; to_char truncates to milliseconds as node-postgres does.
const isoTimestamp = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
// base64 of "Task:<uuid>" is 56 characters, under the 76 at which encode() would break the line.
const globalIdOf = (typename: 'Task' | 'Tag', alias: string) => `encode(convert_to('${typename}:' || ${alias}.id::text, 'UTF8'), 'base64')`;
/** A value as JSON text ('null' for NULL); to_json escapes strings exactly as JSON.stringify does. */
const jsonText = (value: string) => `COALESCE(to_json(${value})::text, 'null')`;

/**
 * A JSON object with these keys in this order, as compact text: the bytes JSON.stringify would write.
 * Each key (with its quotes, colon and separator) is a parameter, so client-chosen aliases never
 * reach the SQL text and documents that differ only in their aliases share one prepared statement.
 */
function jsonObject(entries: Array<[key: string, valueText: string]>, parameters: Parameters): string {
  if (entries.length === 0) return `'{}'`;
  const parts = entries.map(([key, value], index) => `${parameters.add(`${index === 0 ? '{' : ','}${JSON.stringify(key)}:`, 'text')} || ${value}`);
  return `(${parts.join(' || ')} || '}')`;
}

/** A field's value as JSON text. */
function jsonValue(field: TaskJsonField, alias: 't' | 'g', columns: Record<string, string>, now: () => string, parameters: Parameters): string {
  switch (field.kind) {
    case 'column':
    case 'timestamp': {
      const column = columns[field.column];
      if (!column) throw new Error(`no such column: ${field.column}`);
      return jsonText(field.kind === 'column' ? `${alias}.${column}` : isoTimestamp(`${alias}.${column}`));
    }
    case 'globalId':
      return jsonText(globalIdOf(alias === 't' ? 'Task' : 'Tag', alias));
    case 'constant':
      return jsonName(field.value);
    case 'overdue':
      return jsonText(`(NOT t.completed AND t.due_at IS NOT NULL AND t.due_at < ${now()})`);
    case 'tags': {
      const tag = jsonObject(
        field.fields.map((tagField) => [tagField.key, jsonValue(tagField, 'g', TAG_COLUMNS, now, parameters)]),
        parameters,
      );
      return `(SELECT COALESCE('[' || string_agg(${tag}, ',' ORDER BY g.name) || ']', '[]') ${TAG_LINKS})`;
    }
  }
}

/** The SELECT list of a JSON read: the task's id (for cursors) and its response object as text. */
function jsonColumns(fields: readonly TaskJsonField[], now: Date, parameters: Parameters): string[] {
  let at: string | undefined;
  const nowParameter = () => (at ??= parameters.add(now.toISOString(), 'timestamptz'));
  const object = jsonObject(
    fields.map((field) => [field.key, jsonValue(field, 't', TASK_COLUMNS, nowParameter, parameters)]),
    parameters,
  );
  return ['t.id AS "id"', `${object} AS "json"`];
}

/**
 * A page of the viewer's tasks: plugin-prisma's `take` (first + 1) rows, after its cursor when it
 * has one. Null for backward paging (negative take) and anything else Prisma should answer.
 */
export function compileTaskPage(request: TaskPageRequest): SqlStatement | null {
  const { query } = request;
  const select = request.json ? { columns: [], tagDates: [] } : selection(query);
  const take = query.take;
  if (!select || typeof take !== 'number' || !Number.isInteger(take) || take <= 0) return null;
  const cursorId = query.cursor?.id;
  if (query.cursor !== undefined && typeof cursorId !== 'string') return null;
  // With a cursor plugin-prisma skips the cursor's own row; the keyset condition leaves it out already.
  if ((query.skip ?? 0) !== (cursorId === undefined ? 0 : 1)) return null;

  const parameters = new Parameters(request.viewerId);
  const conditions = ['t.user_id = $1'];
  if (request.tagId !== undefined) {
    conditions.push(`EXISTS (SELECT FROM task_tags st WHERE st.task_id = t.id AND st.user_id = $1 AND st.tag_id = ${parameters.add(request.tagId, 'uuid')})`);
  }
  conditions.push(...filterConditions(request.filter, request.now, parameters));
  const keys = orderKeys(request.order);
  let from = 'tasks t';
  if (cursorId !== undefined) {
    // Another user's task, or none, is no position in this list: no cursor row, no rows.
    const columns = [...new Set(keys.map((key) => key.column))].join(', ');
    from += ` CROSS JOIN (SELECT ${columns} FROM tasks WHERE id = ${parameters.add(cursorId, 'uuid')} AND user_id = $1) c`;
    conditions.push(afterCursor(keys));
  }
  const columns = request.json ? jsonColumns(request.json, request.now, parameters) : select.columns;
  const text = `SELECT ${columns.join(', ')} FROM ${from} WHERE ${conditions.join(' AND ')} ORDER BY ${orderByClause(keys)} LIMIT ${parameters.add(take, 'int')}`;
  return { text, values: parameters.values, tagDates: select.tagDates, prepare: !request.filter?.search?.trim() };
}

/** One of the viewer's tasks by id (task(id:)); null for a selection Prisma should answer. */
export function compileTaskById(viewerId: string, id: string, query: PrismaTaskQuery): SqlStatement | null {
  const select = selection(query);
  if (!select || query.take !== undefined || query.cursor !== undefined || query.skip !== undefined) return null;
  const parameters = new Parameters(viewerId);
  const text = `SELECT ${select.columns.join(', ')} FROM tasks t WHERE t.user_id = $1 AND t.id = ${parameters.add(id, 'uuid')}`;
  return { text, values: parameters.values, tagDates: select.tagDates };
}

/** One of the viewer's tasks by id, as its id and response JSON (see compileTaskJson); no row when it is not the viewer's. */
export function compileTaskJsonById(viewerId: string, id: string, fields: readonly TaskJsonField[], now: Date): SqlStatement {
  const parameters = new Parameters(viewerId);
  const idParameter = parameters.add(id, 'uuid');
  const text = `SELECT ${jsonColumns(fields, now, parameters).join(', ')} FROM tasks t WHERE t.user_id = $1 AND t.id = ${idParameter}`;
  return { text, values: parameters.values, tagDates: [] };
}

/** The columns createTask writes; undefined ones are left to their defaults. */
export interface TaskInsert {
  id: string;
  title: string;
  description?: string;
  priority?: Priority;
  dueAt?: Date;
  remindAt?: Date;
  recurrence?: string;
  seriesId?: string;
  idempotencyKey?: string;
}

const INSERT_TYPES: Record<keyof TaskInsert, string> = {
  id: 'uuid',
  title: 'text',
  description: 'text',
  priority: '"Priority"',
  dueAt: 'timestamptz',
  remindAt: 'timestamptz',
  recurrence: 'text',
  seriesId: 'uuid',
  idempotencyKey: 'text',
};

/** A task created without tags has none: its tag list is known without reading. */
const noTags = (value: unknown): Selection | null => (tagsColumn(value) ? { columns: [`'[]'::json AS "taskTags"`], tagDates: [] } : null);

/** A new task of the viewer's, without tags, answered as the selection asks (INSERT ... RETURNING). */
export function compileTaskInsert(viewerId: string, data: TaskInsert, query: PrismaTaskQuery): SqlStatement | null {
  const select = selection(query, noTags);
  if (!select) return null;
  const parameters = new Parameters(viewerId);
  const columns = ['user_id'];
  const placeholders = ['$1'];
  for (const key of Object.keys(INSERT_TYPES) as (keyof TaskInsert)[]) {
    const value = data[key];
    if (value === undefined) continue;
    columns.push(TASK_COLUMNS[key]!);
    placeholders.push(parameters.add(value instanceof Date ? value.toISOString() : value, INSERT_TYPES[key]));
  }
  const text = `INSERT INTO tasks AS t (${columns.join(', ')}) VALUES (${placeholders.join(', ')}) RETURNING ${select.columns.join(', ')}`;
  return { text, values: parameters.values, tagDates: [] };
}
