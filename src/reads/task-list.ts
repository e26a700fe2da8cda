import { sql, type AliasedExpression, type Expression, type SqlBool } from 'kysely';
import { badInput } from '../schema/errors.js';
import { decodeId, decodeIds } from '../schema/global-id.js';
import { pageInput, type PageArgs, type PageInput } from './connections.js';
import { bound, type Bound, type Shaped } from './parameters.js';
import { dayStartsAt, dueKey, isTimed, localToday, viewerZone } from './calendar.js';
import { col, from, rowId, type Alias, type AnySelect, type ReadEnv } from './sources.js';

// The one implementation of a task list: which tasks a TaskFilter keeps, how a [TaskOrder] orders
// them (always ending with id, so the order is total and cursors never skip or repeat a task), the
// keyset condition that pages after or before a cursor, and the count behind totalCount. Every task
// list (Query.tasks, User.tasks, Tag.tasks) and both ways of reading it (PostgreSQL writing the JSON,
// or rows for graphql-js) are built from these functions.

export type Priority = 'NONE' | 'LOW' | 'MEDIUM' | 'HIGH' | 'URGENT';
export type TaskOrderField = 'DUE_AT' | 'PRIORITY' | 'CREATED_AT' | 'UPDATED_AT' | 'TITLE' | 'POSITION';
export type OrderDirection = 'ASC' | 'DESC';

/** TaskFilter as GraphQL coerced it (ids still global, instants as Dates). */
export interface TaskFilterArgs {
  completed?: boolean | null;
  priorityIn?: readonly Priority[] | null;
  tagIds?: readonly string[] | null;
  dueBefore?: Date | null;
  dueAfter?: Date | null;
  dueOn?: { from?: string | null; to?: string | null } | null;
  overdue?: boolean | null;
  hasDueDate?: boolean | null;
  recurring?: boolean | null;
  search?: string | null;
  listIds?: readonly string[] | null;
  parentId?: string | null;
  topLevel?: boolean | null;
}

export interface TaskOrder {
  field: TaskOrderField;
  direction: OrderDirection;
}

export interface TaskListArgs extends PageArgs {
  filter?: TaskFilterArgs | null;
  orderBy?: readonly TaskOrder[] | null;
}

/** A filter as the statement takes it: booleans shape the SQL, everything else is a parameter. */
export interface TaskFilterInput {
  completed?: boolean;
  priorityIn?: Bound<readonly Priority[]>;
  tagIds?: Bound<readonly string[]>;
  dueBefore?: Bound<string>;
  dueAfter?: Bound<string>;
  /** Calendar days, inclusive. */
  dueFrom?: Bound<string>;
  dueTo?: Bound<string>;
  overdue?: boolean;
  hasDueDate?: boolean;
  recurring?: boolean;
  /** An ILIKE pattern. */
  search?: Bound<string>;
  listIds?: Bound<readonly string[]>;
  parentId?: Bound<string>;
  topLevel?: boolean;
}

export interface TaskListInput {
  filter: TaskFilterInput;
  order: readonly TaskOrder[];
  page: PageInput;
}

export const DEFAULT_ORDER: readonly TaskOrder[] = [{ field: 'CREATED_AT', direction: 'DESC' }];
/** The order of a list's tasks and of subtasks: the user's own. */
export const POSITION_ORDER: readonly TaskOrder[] = [{ field: 'POSITION', direction: 'ASC' }];
const MAX_ORDER_KEYS = 5;
const MAX_SEARCH_LENGTH = 200;

export function taskFilterInput(filter: TaskFilterArgs | null | undefined): TaskFilterInput {
  if (!filter) return {};
  const input: TaskFilterInput = {};
  if (filter.completed != null) input.completed = filter.completed;
  if (filter.priorityIn != null) input.priorityIn = bound([...filter.priorityIn]);
  if (filter.tagIds != null) input.tagIds = bound(decodeIds(filter.tagIds, 'Tag', 'filter.tagIds'));
  if (filter.dueBefore != null) input.dueBefore = bound(filter.dueBefore.toISOString());
  if (filter.dueAfter != null) input.dueAfter = bound(filter.dueAfter.toISOString());
  if (filter.dueOn?.from != null) input.dueFrom = bound(filter.dueOn.from);
  if (filter.dueOn?.to != null) input.dueTo = bound(filter.dueOn.to);
  if (filter.dueOn?.from != null && filter.dueOn.to != null && filter.dueOn.from > filter.dueOn.to) {
    throw badInput([{ path: 'filter.dueOn.to', message: 'must not be before from' }]);
  }
  if (filter.overdue != null) input.overdue = filter.overdue;
  if (filter.hasDueDate != null) input.hasDueDate = filter.hasDueDate;
  if (filter.recurring != null) input.recurring = filter.recurring;
  if (filter.listIds != null) input.listIds = bound(decodeIds(filter.listIds, 'List', 'filter.listIds'));
  if (filter.parentId != null) input.parentId = bound(decodeId(filter.parentId, 'Task', 'filter.parentId'));
  if (filter.topLevel != null) input.topLevel = filter.topLevel;
  const search = filter.search?.trim();
  if (search && search.length > MAX_SEARCH_LENGTH) throw badInput([{ path: 'filter.search', message: `at most ${MAX_SEARCH_LENGTH} characters` }]);
  // No stored text holds NUL, and PostgreSQL refuses it in a parameter: nothing to search for.
  if (search?.includes('\u0000')) throw badInput([{ path: 'filter.search', message: 'must not contain NUL (\\u0000) characters' }]);
  // ILIKE's wildcards in the term match themselves: "100%" means "100%".
  if (search) input.search = bound(`%${search.replace(/[\\%_]/g, (character) => `\\${character}`)}%`);
  return input;
}

export function taskOrder(orderBy: readonly TaskOrder[] | null | undefined, defaultOrder = DEFAULT_ORDER): readonly TaskOrder[] {
  if (orderBy && orderBy.length > MAX_ORDER_KEYS) throw badInput([{ path: 'orderBy', message: `at most ${MAX_ORDER_KEYS} keys` }]);
  const keys = orderBy && orderBy.length > 0 ? orderBy : defaultOrder;
  // A field given twice orders by its first direction only.
  const seen = new Set<TaskOrderField>();
  return keys.filter(({ field }) => !seen.has(field) && seen.add(field)).map(({ field, direction }) => ({ field, direction }));
}

/** Checks and decodes a task list's arguments; bad input is a BAD_USER_INPUT naming the argument. */
export function taskListInput(args: TaskListArgs, defaultOrder = DEFAULT_ORDER): TaskListInput {
  return { page: pageInput(args), filter: taskFilterInput(args.filter), order: taskOrder(args.orderBy, defaultOrder) };
}

/** The conditions of a filter on the task row `t`. */
export function taskFilterConditions(env: ReadEnv, t: Alias<'tasks'>, filter: Shaped<TaskFilterInput>): Expression<SqlBool>[] {
  const conditions: Expression<SqlBool>[] = [];
  const completed = col(t, 'completed');
  const due = dueKey(t);
  if (filter.completed !== undefined) conditions.push(filter.completed ? sql`${completed}` : sql`NOT ${completed}`);
  if (filter.priorityIn) conditions.push(sql`${col(t, 'priority')} = ANY(${filter.priorityIn}::"Priority"[])`);
  if (filter.tagIds) {
    const link = env.alias('task_tags');
    const carried = from(env.q, link).select(sql.lit(1).as('one')).where(col(link, 'task_id'), '=', col(t, 'id')).where(sql<SqlBool>`${col(link, 'tag_id')} = ANY(${filter.tagIds}::uuid[])`);
    conditions.push(sql`EXISTS (${carried})`);
  }
  // Half-open window [dueAfter, dueBefore): adjacent windows neither overlap nor leave a gap. An all-day
  // task stands at the start of its day.
  if (filter.dueAfter) conditions.push(sql`${due} >= ${filter.dueAfter}::timestamptz`);
  if (filter.dueBefore) conditions.push(sql`${due} < ${filter.dueBefore}::timestamptz`);
  // Days in the viewer's calendar: an all-day task by its date, a timed one by its local date.
  if (filter.dueFrom) conditions.push(sql`${due} >= ${dayStartsAt(sql`${filter.dueFrom}::date`, viewerZone(env))}`);
  if (filter.dueTo) conditions.push(sql`${due} < ${dayStartsAt(sql`${filter.dueTo}::date + 1`, viewerZone(env))}`);
  if (filter.hasDueDate !== undefined) conditions.push(filter.hasDueDate ? sql`${due} IS NOT NULL` : sql`${due} IS NULL`);
  if (filter.recurring !== undefined) conditions.push(filter.recurring ? sql`${col(t, 'recurrence')} IS NOT NULL` : sql`${col(t, 'recurrence')} IS NULL`);
  if (filter.overdue !== undefined) conditions.push(filter.overdue ? overdue(env, t) : sql`(${overdue(env, t)} IS NOT TRUE)`);
  if (filter.listIds) conditions.push(sql`${col(t, 'list_id')} = ANY(${filter.listIds}::uuid[])`);
  if (filter.parentId) conditions.push(sql`${col(t, 'parent_id')} = ${filter.parentId}::uuid`);
  if (filter.topLevel !== undefined) conditions.push(filter.topLevel ? sql`${col(t, 'parent_id')} IS NULL` : sql`${col(t, 'parent_id')} IS NOT NULL`);
  if (filter.search) env.planPerValue();
  if (filter.search) conditions.push(sql`(${col(t, 'title')} ILIKE ${filter.search}::text OR ${col(t, 'description')} ILIKE ${filter.search}::text)`);
  return conditions;
}

/**
 * Open and past due: a timed task from its instant on, an all-day task from the day after its date in
 * the viewer's zone. Null where a task has no due date; in WHERE, that keeps it out.
 */
function overdue(env: ReadEnv, t: Alias<'tasks'>): Expression<SqlBool> {
  return sql`(NOT ${col(t, 'completed')} AND ${dueKey(t)} < ${env.now}::timestamptz AND (${isTimed(t)} OR ${col(t, 'due_date')} < ${localToday(env, viewerZone(env))}))`;
}

/** What `Task.overdue` answers, and what `overdue: true` keeps. */
export const isOverdue = (env: ReadEnv, t: Alias<'tasks'>) => sql<boolean>`(${overdue(env, t)} IS TRUE)`;

interface OrderValue {
  /** Its name beside the cursor's row. */
  name: string;
  value(t: Alias<'tasks'>): Expression<unknown>;
  /** Only the due key is nullable; tasks without a due date come last in either direction when paging forward. */
  nullable?: boolean;
}

const ORDER_VALUES: Record<TaskOrderField | 'ID', readonly OrderValue[]> = {
  DUE_AT: [{ name: 'due', value: dueKey, nullable: true }, { name: 'timed', value: isTimed }],
  PRIORITY: [{ name: 'priority', value: (t) => col(t, 'priority') }],
  CREATED_AT: [{ name: 'created_at', value: (t) => col(t, 'created_at') }],
  UPDATED_AT: [{ name: 'updated_at', value: (t) => col(t, 'updated_at') }],
  TITLE: [{ name: 'title', value: (t) => col(t, 'title') }],
  POSITION: [{ name: 'position', value: (t) => col(t, 'position') }],
  ID: [{ name: 'id', value: rowId }],
};

interface OrderKey extends OrderValue {
  descending: boolean;
  nullable: boolean;
  nullsLast: boolean;
}

/** The keys in the order rows are read: the list's order, or its reverse when paging backward. */
function orderKeys(order: readonly TaskOrder[], backward: boolean): OrderKey[] {
  const keys: OrderKey[] = [...order, { field: 'ID' as const, direction: 'ASC' as const }].flatMap(({ field, direction }) =>
    ORDER_VALUES[field].map((value) => ({ ...value, descending: direction === 'DESC', nullable: value.nullable ?? false, nullsLast: true })),
  );
  return backward ? keys.map((key) => ({ ...key, descending: !key.descending, nullsLast: !key.nullsLast })) : keys;
}

const orderTerm = (value: Expression<unknown>, key: OrderKey) =>
  sql`${value} ${sql.raw(key.descending ? 'DESC' : 'ASC')}${sql.raw(key.nullable ? (key.nullsLast ? ' NULLS LAST' : ' NULLS FIRST') : '')}`;

/** Rows of `t` strictly beyond the cursor row `c` (its keys selected by name) in the order of `keys`. */
function beyondCursor(t: Alias<'tasks'>, c: Alias<'tasks'>, keys: OrderKey[]): Expression<SqlBool> {
  const at = (key: OrderKey) => sql.ref(`${c.name}.${key.name}`);
  const equal = (key: OrderKey) => (key.nullable ? sql`${key.value(t)} IS NOT DISTINCT FROM ${at(key)}` : sql`${key.value(t)} = ${at(key)}`);
  const beyond = (key: OrderKey) => {
    const strictly = sql`${key.value(t)} ${sql.raw(key.descending ? '<' : '>')} ${at(key)}`;
    if (!key.nullable) return strictly;
    return key.nullsLast
      ? sql`(${strictly} OR (${key.value(t)} IS NULL AND ${at(key)} IS NOT NULL))`
      : sql`(${strictly} OR (${key.value(t)} IS NOT NULL AND ${at(key)} IS NULL))`;
  };
  const branches = keys.map((key, index) => sql`(${sql.join([...keys.slice(0, index).map(equal), beyond(key)], sql` AND `)})`);
  return sql<SqlBool>`(${sql.join(branches, sql` OR `)})`;
}

/** Which tasks a list holds: `within` (the list's owner: a tag, or none), then the filter. */
function listed(env: ReadEnv, t: Alias<'tasks'>, list: Shaped<TaskListInput>, within: Expression<SqlBool> | null): AnySelect {
  let rows = from(env.q, t);
  for (const condition of [...(within ? [within] : []), ...taskFilterConditions(env, t, list.filter)]) rows = rows.where(condition);
  return rows;
}

export interface TaskPage {
  /** The page's rows of `t`, in the order they are read (reversed when paging backward). */
  rows: AnySelect;
  /** The order the rows are read in, for row_number(). */
  orderBy: Expression<unknown>[];
  /** The values the list is ordered by, to select beside each row as k0, k1, ... */
  keys: AliasedExpression<unknown, string>[];
  /** The list's own order (whichever way the page was read) over those values, in the derived table `rows`. */
  listOrder(rows: string): Expression<unknown>[];
  /** Its reverse. */
  reverseOrder(rows: string): Expression<unknown>[];
}

/**
 * A page of a task list: the tasks after or before the cursor, in order; one more than the page
 * shows when `extraRow` asks whether more follow.
 */
export function taskPage(env: ReadEnv, t: Alias<'tasks'>, list: Shaped<TaskListInput>, within: Expression<SqlBool> | null, extraRow = true): TaskPage {
  const keys = orderKeys(list.order, list.page.backward);
  let rows = listed(env, t, list, within);
  if (list.page.cursor) {
    // The cursor's task, if it is one of the viewer's: another user's task, or a deleted one, is no
    // position in this list, and the page is empty.
    const c = env.alias('tasks');
    const position = from(env.q, c).select(keys.map((key) => sql`${key.value(c)}`.as(key.name))).where(col(c, 'id'), '=', list.page.cursor);
    rows = rows.crossJoin(position.as(c.name)).where(beyondCursor(t, c, keys));
  }
  const orderBy = keys.map((key) => orderTerm(key.value(t), key));
  for (const term of orderBy) rows = rows.orderBy(term);
  const listKeys = orderKeys(list.order, false);
  const keyOf = (rowsName: string, index: number) => sql.ref(`${rowsName}.k${index}`);
  return {
    rows: rows.limit((extraRow ? list.page.limit : list.page.size) as unknown as number),
    orderBy,
    keys: listKeys.map((key, index) => sql`${key.value(t)}`.as(`k${index}`)),
    listOrder: (rowsName) => listKeys.map((key, index) => orderTerm(keyOf(rowsName, index), key)),
    reverseOrder: (rowsName) =>
      listKeys.map((key, index) => orderTerm(keyOf(rowsName, index), { ...key, descending: !key.descending, nullsLast: !key.nullsLast })),
  };
}

/** How many tasks the list holds in all pages (totalCount). */
export function taskCount(env: ReadEnv, t: Alias<'tasks'>, list: Shaped<TaskListInput>, within: Expression<SqlBool> | null): AnySelect {
  return listed(env, t, list, within).select(sql<number>`count(*)::int`.as('count'));
}

/** The `completed` argument of a task count: only completed (true) or only open (false) tasks. */
export interface CompletedArg {
  completed?: boolean;
}

export const completedArg = (args: Record<string, unknown>): CompletedArg => (args.completed == null ? {} : { completed: args.completed as boolean });

/** How many tasks `column` of a task ties to the row `owner` (List.taskCount, Task.subtaskCount). */
export function tasksOf(env: ReadEnv, owner: Alias, column: 'list_id' | 'parent_id', input: Shaped<CompletedArg>): AnySelect {
  const t = env.alias('tasks');
  const held = from(env.q, t).select(sql<number>`count(*)::int`.as('count')).where(col(t, column), '=', rowId(owner));
  return input.completed === undefined ? held : held.where(col(t, 'completed'), '=', sql.lit(input.completed));
}
