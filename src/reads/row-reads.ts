import DataLoader from 'dataloader';
import type { GraphQLResolveInfo } from 'graphql';
import { sql } from 'kysely';
import type { Context } from '../context.js';
import { pageInfoRule, type PageFlag } from './connections.js';
import { tableOf, type ConnectionRead, type FieldRead, type ListRead, type ObjectRead, type ValueRead } from './declarations.js';
import { cursorOf } from './json.js';
import type { Shaped } from './parameters.js';
import { aliased, type ReadModel } from './read-model.js';
import { boundIds, col, from, idIn, rowId, type Alias, type AnySelect, type IdsInput, type ReadEnv, type Table } from './sources.js';
import { readAlias } from './viewer-scope.js';
import type { Row, Statements } from './statements.js';
import { taskCount, taskPage, type TaskListInput } from './task-list.js';

// The declared fields as graphql-js resolvers: rows for the resolvers below them, read with the same
// builders the compiled documents use. A field under a list of parents (each task's tags, each tag's
// count) is loaded for all of them at once, per request and per place in the query, so that the
// statements of a request do not grow with the size of its pages.

/** Reads nothing: the viewer of a request without one (its resolvers are refused before they read). */
const NOBODY = '00000000-0000-0000-0000-000000000000';

export interface Connection {
  edges: Array<{ cursor: string; node: Row }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: () => Promise<number>;
}

export interface RowReads {
  resolve(read: FieldRead, parent: Row | undefined, args: Record<string, unknown>, context: Context, info: GraphQLResolveInfo): unknown;
  /** The viewer's rows of `table` by id, null for one that is not theirs; batched per request. */
  rowsByIds(context: Context, table: Table, ids: readonly string[]): Promise<Array<Row | null>>;
  rowById(context: Context, table: Table, id: string): Promise<Row | null>;
  /**
   * A row as a write left it: what the request has read so far is forgotten first, since a mutation
   * (or an earlier one in the same document) may have changed it and its relations.
   */
  written(context: Context, table: Table, id: string): Promise<Row>;
  /** Tells the request what a field without arguments of a row already holds (a new task's empty tag list). */
  prime(context: Context, table: Table, field: string, id: string, value: unknown): void;
  /** Forgets what the context has read: a subscription reads each event afresh. */
  forget(context: Context): void;
}

/** A stable identity per declaration, for the keys of a request's loaders. */
function identities() {
  const ids = new WeakMap<object, number>();
  let next = 0;
  return (value: object) => {
    let id = ids.get(value);
    if (id === undefined) ids.set(value, (id = ++next));
    return id;
  };
}

/** One owner per declaration and way of reading it: the statement cache keeps their templates apart. */
function owners() {
  const byRead = new WeakMap<object, Map<string, object>>();
  return (read: object, purpose: string) => {
    let byPurpose = byRead.get(read);
    if (!byPurpose) byRead.set(read, (byPurpose = new Map()));
    let owner = byPurpose.get(purpose);
    if (!owner) byPurpose.set(purpose, (owner = {}));
    return owner;
  };
}

const parentRows = (env: ReadEnv, parentTable: Table, ids: Shaped<IdsInput>) => {
  // The parents were read already: a task in the trash (the trash query) has its list and tags too.
  const p = parentTable === 'tasks' ? { table: parentTable, name: readAlias(env.name('p')) } : env.alias(parentTable);
  return { p, rows: from(env.q, p).where(idIn(rowId(p), ids)) };
};

function connectionOf(rows: Row[], list: TaskListInput, totalCount: () => Promise<number>): Connection {
  const size = list.page.size.value;
  const shown = rows.slice(0, size);
  if (list.page.backward) shown.reverse();
  const more = rows.length > size;
  const rule = pageInfoRule(list.page as unknown as Shaped<TaskListInput['page']>);
  const flag = (value: PageFlag) => (value === 'more' ? more : value);
  const edges = shown.map((node) => ({ cursor: node.__cursor as string, node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: flag(rule.hasNextPage),
      hasPreviousPage: flag(rule.hasPreviousPage),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount,
  };
}

export function createRowReads(model: ReadModel, statements: Statements): RowReads {
  const idOf = identities();
  const ownerOf = owners();
  const loaders = new WeakMap<Context, Map<string, DataLoader<string, unknown>>>();
  const viewerOf = (context: Context) => context.viewer?.id ?? NOBODY;

  function loader<Value>(context: Context, key: string, batch: (ids: readonly string[]) => Promise<Value[]>): DataLoader<string, Value> {
    let byKey = loaders.get(context);
    if (!byKey) loaders.set(context, (byKey = new Map()));
    let found = byKey.get(key);
    if (!found) byKey.set(key, (found = new DataLoader<string, unknown>(batch as (ids: readonly string[]) => Promise<unknown[]>)));
    return found as DataLoader<string, Value>;
  }

  /** Rows grouped by their `__parent`, in `__n` order, one group per id. */
  const grouped = (ids: readonly string[], rows: Row[]) => {
    const groups = new Map<string, Row[]>(ids.map((id) => [id, []]));
    for (const row of rows.sort((a, b) => Number(a.__n) - Number(b.__n))) groups.get(row.__parent as string)?.push(row);
    return ids.map((id) => groups.get(id)!);
  };

  // Reads from the root (no parent row).

  const rootList = (context: Context, read: ListRead, input: unknown) =>
    statements.run(read, viewerOf(context), input, (env, shaped) => {
      const child = env.alias(read.table);
      let query = read.rows(env, null, child, shaped as never).select(model.rowSelections(env, child));
      for (const term of read.order(child)) query = query.orderBy(term);
      return read.limit === undefined ? query : query.limit(read.limit);
    });

  const rootObject = async (context: Context, read: ObjectRead, input: unknown) => {
    const rows = await statements.run(read, viewerOf(context), input, (env, shaped) => {
      const child = env.alias(read.table);
      return read.row(env, null, child, shaped as never).select(model.rowSelections(env, child));
    });
    return rows[0] ?? null;
  };

  /** A page's rows with their cursors, numbered in the order they are read when they come from several parents. */
  const pageRows = (env: ReadEnv, read: ConnectionRead, parent: Alias | null, list: Shaped<TaskListInput>): AnySelect => {
    const t = env.alias('tasks');
    const page = taskPage(env, t, list, read.within(env, parent, t));
    const numbered = parent ? [sql<number>`row_number() OVER (ORDER BY ${sql.join(page.orderBy)})`.as('__n')] : [];
    return page.rows.select([...model.rowSelections(env, t), cursorOf(col(t, 'id')).as('__cursor'), ...numbered]);
  };
  const countOf = (env: ReadEnv, read: ConnectionRead, parent: Alias | null, list: Shaped<TaskListInput>): AnySelect => {
    const t = env.alias('tasks');
    return taskCount(env, t, list, read.within(env, parent, t));
  };

  async function rootConnection(context: Context, read: ConnectionRead, list: TaskListInput): Promise<Connection> {
    const rows = await statements.run(read, viewerOf(context), list, (env, shaped) => pageRows(env, read, null, shaped));
    const totalCount = async () => {
      const [row] = await statements.run(ownerOf(read, 'count'), viewerOf(context), list, (env, shaped) => countOf(env, read, null, shaped));
      return Number(row?.count ?? 0);
    };
    return connectionOf(rows, list, totalCount);
  }

  // Reads under parent rows, batched over the parents' ids.

  /** SELECT p.id AS __parent, x.* FROM parents p CROSS JOIN LATERAL (<child rows of p>) x. */
  const lateral = (parentTable: Table, child: (env: ReadEnv, p: Alias, input: never) => AnySelect) => (env: ReadEnv, shaped: { ids: Shaped<IdsInput>; input: unknown }) => {
    const { p, rows } = parentRows(env, parentTable, shaped.ids);
    const x = env.name('x');
    return rows.crossJoinLateral(child(env, p, shaped.input as never).as(x)).select([aliased(rowId(p), '__parent'), sql`${sql.ref(x)}.*` as never]) as AnySelect;
  };

  function nested(context: Context, read: FieldRead, parentTable: Table, args: Record<string, unknown>, input: unknown): DataLoader<string, unknown> {
    const viewerId = viewerOf(context);
    const owner = ownerOf(read, 'nested');
    const key = `${idOf(read)}:${parentTable}:${JSON.stringify(args)}`;
    switch (read.kind) {
      case 'value':
        return loader(context, key, async (ids) => {
          const rows = await statements.run(owner, viewerId, { ids: boundIds(ids), input }, (env, shaped) => {
            const { p, rows: parents } = parentRows(env, parentTable, shaped.ids);
            return parents.select([aliased(rowId(p), '__parent'), aliased(read.value(env, p, shaped.input as never), 'value')]);
          });
          const values = new Map(rows.map((row) => [row.__parent as string, row.value]));
          return ids.map((id) => values.get(id) ?? null);
        });
      case 'list':
        return loader(context, key, async (ids) => {
          const build = lateral(parentTable, (env, p, shaped) => {
            const child = env.alias(read.table);
            const order = read.order(child);
            let rows = read.rows(env, p, child, shaped).select([...model.rowSelections(env, child), sql<number>`row_number() OVER (ORDER BY ${sql.join(order)})`.as('__n')]);
            for (const term of order) rows = rows.orderBy(term);
            return read.limit === undefined ? rows : rows.limit(read.limit);
          });
          return grouped(ids, await statements.run(owner, viewerId, { ids: boundIds(ids), input }, build));
        });
      case 'object':
        return loader(context, key, async (ids) => {
          const build = lateral(parentTable, (env, p, shaped) => {
            const child = env.alias(read.table);
            return read.row(env, p, child, shaped).select([...model.rowSelections(env, child), sql.lit(1).as('__n')]);
          });
          return grouped(ids, await statements.run(owner, viewerId, { ids: boundIds(ids), input }, build)).map((rows) => rows[0] ?? null);
        });
      case 'connection': {
        const list = input as TaskListInput;
        const counts = loader(context, `${key}:count`, async (ids: readonly string[]) => {
          const rows = await statements.run(ownerOf(read, 'nested count'), viewerId, { ids: boundIds(ids), input }, (env, shaped) => {
            const { p, rows: parents } = parentRows(env, parentTable, shaped.ids);
            return parents.select([aliased(rowId(p), '__parent'), sql`(${countOf(env, read, p, shaped.input as Shaped<TaskListInput>)})`.as('count')]);
          });
          const values = new Map(rows.map((row) => [row.__parent as string, Number(row.count)]));
          return ids.map((id) => values.get(id) ?? 0);
        });
        return loader(context, key, async (ids) => {
          const build = lateral(parentTable, (env, p, shaped: Shaped<TaskListInput>) => pageRows(env, read, p, shaped));
          const pages = grouped(ids, await statements.run(owner, viewerId, { ids: boundIds(ids), input }, build));
          return pages.map((rows, index) => connectionOf(rows, list, () => counts.load(ids[index]!)));
        });
      }
    }
  }

  const byIds = (context: Context, table: Table) =>
    loader<Row | null>(context, `rows:${table}`, async (ids) => {
      const rows = await statements.run(model, viewerOf(context), { table, ids: boundIds(ids) }, (env, shaped) => {
        const alias = env.alias(shaped.table as Table);
        return from(env.q, alias).select(model.rowSelections(env, alias)).where(idIn(rowId(alias), shaped.ids));
      });
      const found = new Map(rows.map((row) => [row.id as string, row]));
      return ids.map((id) => found.get(id) ?? null);
    });

  return {
    resolve(read, parent, args, context, info) {
      const input = read.input?.(args);
      const parentTable = tableOf(info.parentType.extensions);
      if (parentTable && parent) return nested(context, read, parentTable, args, input).load(parent.id as string);
      switch (read.kind) {
        case 'list':
          return rootList(context, read, input);
        case 'object':
          return rootObject(context, read, input);
        case 'connection':
          return rootConnection(context, read, input as TaskListInput);
        case 'value':
          throw new Error(`${info.parentType.name}.${info.fieldName} reads a value but its type has no table`);
      }
    },
    async rowsByIds(context, table, ids) {
      const rows = await byIds(context, table).loadMany(ids);
      const failed = rows.find((row) => row instanceof Error);
      if (failed) throw failed;
      return rows as Array<Row | null>;
    },
    rowById: (context, table, id) => byIds(context, table).load(id),
    async written(context, table, id) {
      loaders.delete(context);
      const row = await byIds(context, table).load(id);
      if (!row) throw new Error(`the ${table} row ${id} just written is not the viewer's to read`);
      return row;
    },
    prime(context, table, field, id, value) {
      const read = model.fieldRead(table, field);
      nested(context, read, table, {}, read.input?.({})).prime(id, value);
    },
    forget(context) {
      loaders.delete(context);
    },
  };
}
