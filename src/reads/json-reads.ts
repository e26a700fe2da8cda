import { sql, type AliasedExpression, type Expression } from 'kysely';
import type { ConnectionEntry, DocumentPlan, FieldPlan, ObjectPlan, PageInfoField } from './document-plan.js';
import { pageInfoRule, type PageFlag } from './connections.js';
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
 * A task connection. The page is read as `limit` rows (one more than it shows) numbered in the order
 * they are read; an aggregate over them yields each `edges` selection, the cursors at either end and
 * how many rows came back, and the connection object is written from that one row.
 */
function connectionJson(env: ReadEnv, field: Extract<FieldPlan, { kind: 'connection' }>, parent: Alias | null, inputs: Inputs): JsonText {
  const list = inputs[field.input] as Shaped<TaskListInput>;
  const { entries } = field.connection;
  let facts: { name: string; edges: Map<ConnectionEntry, string> } | null = null;
  let aggregate: AnySelect | null = null;
  const rule = pageInfoRule(list.page);
  const infos = entries.flatMap((entry) => (entry.kind === 'pageInfo' ? entry.fields : []));
  // Whether more rows follow is asked only by a flag the arguments leave open; without one, the page
  // reads no row beyond the ones it shows.
  const asksMore = infos.some((info) => (info.kind === 'hasNextPage' || info.kind === 'hasPreviousPage') && rule[info.kind] === 'more');
  const asks = (kind: PageInfoField['kind']) => infos.some((info) => info.kind === kind);
  // The rows are read only for what needs them: edges, a cursor, or whether more follow.
  const needsPage = asksMore || asks('startCursor') || asks('endCursor') || entries.some((entry) => entry.kind === 'edges');
  if (needsPage) {
    const t = env.alias('tasks');
    const page = taskPage(env, t, list, field.read.within(env, parent, t), asksMore);
    const edges = new Map<ConnectionEntry, string>();
    const rowColumns: AliasedExpression<unknown, string>[] = [];
    for (const [index, entry] of entries.entries()) {
      if (entry.kind !== 'edges') continue;
      const name = `e${index}`;
      edges.set(entry, name);
      const edge = jsonObject(
        entry.fields.map((edgeField) => {
          if (edgeField.kind === 'typename') return [edgeField.key, jsonString(edgeField.typename)] as const;
          if (edgeField.kind === 'cursor') return [edgeField.key, jsonValue(cursorOf(col(t, 'id')))] as const;
          return [edgeField.key, objectJson(env, edgeField.object, t, inputs)] as const;
        }),
      );
      rowColumns.push(edge.as(name));
    }
    const cursors = asks('startCursor') || asks('endCursor') ? [cursorOf(col(t, 'id')).as('cursor')] : [];
    const rows = page.rows.select([...rowColumns, ...cursors, sql<number>`row_number() OVER (ORDER BY ${sql.join(page.orderBy)})`.as('n')]);
    const p = env.name('p');
    const n = sql.ref(`${p}.n`);
    const shown = asksMore ? sql`${n} <= ${list.page.size}` : undefined;
    const filtered = shown ? sql` FILTER (WHERE ${shown})` : sql``;
    // Edges are in the list's order: the order rows were read in, or its reverse when paging backward.
    const listOrder = list.page.backward ? sql`${n} DESC` : sql`${n} ASC`;
    const reversed = list.page.backward ? sql`${n} ASC` : sql`${n} DESC`;
    const cursor = sql.ref(`${p}.cursor`);
    aggregate = env.q.selectFrom(rows.as(p)).select([
      ...[...edges.values()].map((name) => jsonArrayAgg(sql`${sql.ref(`${p}.${name}`)}`, [listOrder], shown).as(name)),
      ...(asksMore ? [sql<number>`count(*)`.as('rows')] : []),
      ...(asks('startCursor') ? [sql<string>`(array_agg(${cursor} ORDER BY ${listOrder})${filtered})[1]`.as('start_cursor')] : []),
      ...(asks('endCursor') ? [sql<string>`(array_agg(${cursor} ORDER BY ${reversed})${filtered})[1]`.as('end_cursor')] : []),
    ]) as unknown as AnySelect;
    facts = { name: env.name('a'), edges };
  }
  const flag = (value: PageFlag) => (value === 'more' ? jsonValue(sql<boolean>`${sql.ref(`${facts!.name}.rows`)} > ${list.page.size}`) : sql<string>`${sql.lit(String(value))}`);
  const pageInfoValue = (info: PageInfoField): JsonText => {
    switch (info.kind) {
      case 'typename':
        return jsonString(info.typename);
      case 'hasNextPage':
      case 'hasPreviousPage':
        return flag(rule[info.kind]);
      case 'startCursor':
        return jsonValue(sql.ref(`${facts!.name}.start_cursor`));
      case 'endCursor':
        return jsonValue(sql.ref(`${facts!.name}.end_cursor`));
    }
  };
  const connection = jsonObject(
    entries.map((entry) => {
      switch (entry.kind) {
        case 'typename':
          return [entry.key, jsonString(entry.typename)] as const;
        case 'totalCount': {
          const t = env.alias('tasks');
          return [entry.key, jsonValue(sql`(${taskCount(env, t, list, field.read.within(env, parent, t))})`)] as const;
        }
        case 'pageInfo':
          return [entry.key, jsonObject(entry.fields.map((info) => [info.key, pageInfoValue(info)] as const))] as const;
        case 'edges':
          return [entry.key, sql<string>`${sql.ref(`${facts!.name}.${facts!.edges.get(entry)}`)}`] as const;
      }
    }),
  );
  if (!aggregate || !facts) return connection;
  return sql<string>`(${env.q.selectFrom(aggregate.as(facts.name)).select(connection.as('json'))})`;
}

/** The statement answering a planned document: one text column per root field that reads data. */
export function documentStatement(env: ReadEnv, plan: DocumentPlan, inputs: Inputs): AnySelect | null {
  const columns = plan.roots.flatMap((root, index) => (root.kind === 'typename' ? [] : [fieldJson(env, root, null, inputs).as(String(index))]));
  return columns.length === 0 ? null : (env.q.selectNoFrom(columns) as unknown as AnySelect);
}
