import { sql, type AliasedExpression, type Expression } from 'kysely';
import type { ConnectionEntry, DocumentPlan, FieldPlan, ObjectPlan, PageInfoField } from './document-plan.js';
import { pageInfoRule } from './connections.js';
import { cursorOf, globalIdOf, isoTimestamp, jsonArrayAgg, jsonObject, jsonString, jsonValue, type JsonText } from './json.js';
import type { Shaped } from './parameters.js';
import { col, rowId, type Alias, type AnySelect, type ReadEnv } from './sources.js';
import { taskCount, taskPage, type TaskListInput } from './task-list.js';

// A planned document as one statement in which PostgreSQL writes each root field's response JSON:
// SELECT <json of root 1> AS "0", ... The text is built once per document and shape
// (src/reads/parameters.ts); every field is written from its declaration.

type Inputs = readonly unknown[];

function valueJson(env: ReadEnv, field: Extract<FieldPlan, { kind: 'value' }>, row: Alias, inputs: Inputs): JsonText {
  const value = field.read.value(env, row, (field.input === undefined ? undefined : inputs[field.input]) as never);
  return jsonValue(field.format === 'timestamp' ? isoTimestamp(value) : value);
}

/** A field's JSON; for an object field, SQL NULL when there is no row (the caller decides what that means). */
function fieldJson(env: ReadEnv, field: FieldPlan, parent: Alias | null, inputs: Inputs): JsonText {
  const input = ('input' in field && field.input !== undefined ? inputs[field.input] : undefined) as never;
  switch (field.kind) {
    case 'typename':
      return jsonString(field.typename);
    case 'id':
      return jsonValue(globalIdOf(field.typename, rowId(parent!)));
    case 'value':
      return valueJson(env, field, parent!, inputs);
    case 'list': {
      const child = env.alias(field.read.table);
      const element = objectJson(env, field.object, child, inputs);
      const order = field.read.order(child);
      const rows = field.read.rows(env, parent, child, input);
      if (field.read.limit === undefined) return sql<string>`(${rows.select(jsonArrayAgg(element, order).as('json'))})`;
      // The first rows in order, as a derived table under the child's own name.
      let first = rows.selectAll(child.name);
      for (const term of order) first = first.orderBy(term);
      return sql<string>`(${env.q.selectFrom(first.limit(field.read.limit).as(child.name)).select(jsonArrayAgg(element, order).as('json'))})`;
    }
    case 'object': {
      const child = env.alias(field.read.table);
      const row = sql<string>`(${field.read.row(env, parent, child, input).select(objectJson(env, field.object, child, inputs).as('json'))})`;
      return parent ? sql<string>`coalesce(${row}, 'null')` : row;
    }
    case 'connection':
      return connectionJson(env, field, parent, inputs);
  }
}

export function objectJson(env: ReadEnv, object: ObjectPlan, row: Alias, inputs: Inputs): JsonText {
  return jsonObject(object.fields.map((field) => [field.key, fieldJson(env, field, row, inputs)] as const));
}

/**
 * A task connection: the page's rows in a derived table, each with its edges' JSON and the values
 * the list is ordered by, and one aggregate over them that writes the connection object. Only what
 * the selection asks for is read: no row beyond the page unless a pageInfo flag the arguments leave
 * open asks whether more follow (the rows are then numbered as read, to leave the extra one out),
 * no cursors unless selected, and no rows at all for a selection of only totalCount or flags.
 */
function connectionJson(env: ReadEnv, field: Extract<FieldPlan, { kind: 'connection' }>, parent: Alias | null, inputs: Inputs): JsonText {
  const list = inputs[field.input] as Shaped<TaskListInput>;
  const { entries } = field.connection;
  const rule = pageInfoRule(list.page);
  const infos = entries.flatMap((entry) => (entry.kind === 'pageInfo' ? entry.fields : []));
  const asksMore = infos.some((info) => (info.kind === 'hasNextPage' || info.kind === 'hasPreviousPage') && rule[info.kind] === 'more');
  const asksCursors = infos.some((info) => info.kind === 'startCursor' || info.kind === 'endCursor');
  const needsPage = asksMore || asksCursors || entries.some((entry) => entry.kind === 'edges');

  const totalCount = () => {
    const t = env.alias('tasks');
    return jsonValue(sql`(${taskCount(env, t, list, field.read.within(env, parent, t))})`);
  };
  if (!needsPage) {
    return jsonObject(
      entries.map((entry) => {
        if (entry.kind === 'typename') return [entry.key, jsonString(entry.typename)] as const;
        if (entry.kind === 'totalCount') return [entry.key, totalCount()] as const;
        if (entry.kind === 'pageInfo') return [entry.key, jsonObject(entry.fields.map((info) => [info.key, literalInfo(info, rule)] as const))] as const;
        throw new Error('edges without a page');
      }),
    );
  }

  const t = env.alias('tasks');
  const page = taskPage(env, t, list, field.read.within(env, parent, t), asksMore);
  const p = env.name('p');
  const column = (name: string) => sql.ref(`${p}.${name}`);
  const edgeColumns: AliasedExpression<unknown, string>[] = [];
  const edgeNames = new Map<ConnectionEntry, string>();
  for (const [index, entry] of entries.entries()) {
    if (entry.kind !== 'edges') continue;
    edgeNames.set(entry, `e${index}`);
    const edge = jsonObject(
      entry.fields.map((edgeField) => {
        if (edgeField.kind === 'typename') return [edgeField.key, jsonString(edgeField.typename)] as const;
        if (edgeField.kind === 'cursor') return [edgeField.key, jsonValue(cursorOf(col(t, 'id')))] as const;
        return [edgeField.key, objectJson(env, edgeField.object, t, inputs)] as const;
      }),
    );
    edgeColumns.push(edge.as(`e${index}`));
  }
  const rows = page.rows.select([
    ...edgeColumns,
    ...page.keys,
    ...(asksCursors ? [cursorOf(col(t, 'id')).as('cursor')] : []),
    ...(asksMore ? [sql<number>`row_number() OVER (ORDER BY ${sql.join(page.orderBy)})`.as('n')] : []),
  ]);
  // The rows reach the aggregate from the page's own ORDER BY ... LIMIT, in that order, and a plain
  // aggregate takes them as they come: sorting them again costs PostgreSQL more than the rest of the
  // aggregate. The edges are ordered explicitly when the page was read in reverse, and when a cursor
  // aggregate has an order of its own, which PostgreSQL may sort the whole input by.
  const edgeOrder = list.page.backward || asksCursors ? page.listOrder(p) : [];
  // With a row beyond the page, every aggregate leaves it out.
  const shown = asksMore ? sql`${column('n')} <= ${list.page.size}` : undefined;
  const filtered = shown ? sql` FILTER (WHERE ${shown})` : sql``;
  const cursorAt = (order: Expression<unknown>[]) => jsonValue(sql`(array_agg(${column('cursor')} ORDER BY ${sql.join(order)})${filtered})[1]`);
  const info = (field: PageInfoField): JsonText => {
    if (field.kind === 'startCursor') return cursorAt(page.listOrder(p));
    if (field.kind === 'endCursor') return cursorAt(page.reverseOrder(p));
    if ((field.kind === 'hasNextPage' || field.kind === 'hasPreviousPage') && rule[field.kind] === 'more') return sql<string>`(count(*) > ${list.page.size})::text`;
    return literalInfo(field, rule);
  };
  const connection = jsonObject(
    entries.map((entry) => {
      switch (entry.kind) {
        case 'typename':
          return [entry.key, jsonString(entry.typename)] as const;
        case 'totalCount':
          return [entry.key, totalCount()] as const;
        case 'pageInfo':
          return [entry.key, jsonObject(entry.fields.map((pageInfo) => [pageInfo.key, info(pageInfo)] as const))] as const;
        case 'edges':
          return [entry.key, jsonArrayAgg(sql`${column(edgeNames.get(entry)!)}`, edgeOrder, shown)] as const;
      }
    }),
  );
  return sql<string>`(${env.q.selectFrom(rows.as(p)).select(connection.as('json'))})`;
}

/** A pageInfo field the arguments alone settle (or __typename). */
function literalInfo(info: PageInfoField, rule: ReturnType<typeof pageInfoRule>): JsonText {
  if (info.kind === 'typename') return jsonString(info.typename);
  if ((info.kind === 'hasNextPage' || info.kind === 'hasPreviousPage') && rule[info.kind] !== 'more') return sql<string>`${sql.lit(String(rule[info.kind]))}`;
  throw new Error(`${info.kind} needs the page`);
}

/** The statement answering a planned document: one text column per root field that reads data. */
export function documentStatement(env: ReadEnv, plan: DocumentPlan, inputs: Inputs): AnySelect | null {
  const columns = plan.roots.flatMap((root, index) => (root.kind === 'typename' ? [] : [fieldJson(env, root, null, inputs).as(String(index))]));
  return columns.length === 0 ? null : (env.q.selectNoFrom(columns) as unknown as AnySelect);
}
