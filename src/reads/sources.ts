import { sql, type Expression, type RawBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { DB } from '../generated/kysely/types.js';
import { bound, type Bound, type Shaped, type Slot } from './parameters.js';
import type { QueryCreator } from './query-builder.js';

// How the read compiler names rows. A nested read refers to its parent row by alias, so every row in
// a statement gets an alias of its own (t1, g2, ...): a subtask list under a task, for one, must not
// shadow the task it belongs to. Column names are checked against the generated table types.

export type Table = keyof DB;
export type ColumnOf<T extends Table> = keyof DB[T] & string;

/** A row of `table` as a statement names it. */
export interface Alias<T extends Table = Table> {
  readonly table: T;
  readonly name: string;
}

/** What every part of a statement is built with: the viewer-scoped builder, and "now" as a parameter. */
export interface ReadEnv {
  readonly q: QueryCreator;
  readonly now: Slot;
  /** The viewer's id, for what is not a table reference (the scope adds it to those). */
  readonly viewer: Slot;
  /** Aliases for the rows of nested reads. */
  alias<T extends Table>(table: T): Alias<T>;
  /** A name for a derived table. */
  name(prefix: string): string;
  /**
   * Marks the statement as one whose best plan depends on its values (a search term): it is planned
   * on every run instead of being prepared once, where one generic plan would serve every term badly.
   */
  planPerValue(): void;
}

/** A select of any shape: aliases are chosen at run time, so Kysely cannot track them in types. */
export type AnySelect = SelectQueryBuilder<any, any, any>;

/** A fresh environment for building one statement; `prepare` says afterwards whether it may be prepared. */
export function readEnv(q: QueryCreator, now: Slot, viewer: Slot): { env: ReadEnv; prepare(): boolean } {
  let next = 0;
  let prepare = true;
  const env: ReadEnv = {
    q,
    now,
    viewer,
    alias: (table) => ({ table, name: `${table.charAt(0)}${++next}` }),
    name: (prefix) => `${prefix}${++next}`,
    planPerValue: () => {
      prepare = false;
    },
  };
  return { env, prepare: () => prepare };
}

/** A column of the row `alias`. */
export function col<T extends Table>(alias: Alias<T>, column: ColumnOf<T>): Expression<unknown> {
  return sql.ref(`${alias.name}.${column}`);
}

/** The id of the row `alias` (every table but the link table has one). */
export function rowId(alias: Alias): Expression<string> {
  return sql.ref(`${alias.name}.id`);
}

/** SELECT ... FROM the table of `alias` AS its name: a TableNode, so the viewer scope sees and scopes it. */
export function from(q: QueryCreator, alias: Alias): AnySelect {
  return q.selectFrom(`${alias.table} as ${alias.name}` as 'tasks') as unknown as AnySelect;
}

/** ... JOIN the table of `alias` AS its name ON `on`. */
export function join(query: AnySelect, alias: Alias, on: Expression<SqlBool>): AnySelect {
  return query.innerJoin(`${alias.table} as ${alias.name}` as 'tasks', (joined) => joined.on(on));
}

/** A statement parameter from the input's shape (src/reads/parameters.ts). */
export const param = <T = string>(slot: Slot) => sql<T>`${slot}`;

/**
 * Ids a statement matches, bound so that one id is matched with `=`. PostgreSQL costs
 * `= ANY(<array parameter>)` in a generic plan as ten rows, so a prepared statement matching a single
 * id through an array never settles on its generic plan and is planned again on every run.
 */
export type IdsInput = { one: Bound<string> } | { many: Bound<readonly string[]> };

export const boundIds = (ids: readonly string[]): IdsInput => (ids.length === 1 ? { one: bound(ids[0]!) } : { many: bound(ids) });

/** `column` is one of `ids` (bound by boundIds). */
export function idIn(column: Expression<unknown>, ids: Shaped<IdsInput>): RawBuilder<SqlBool> {
  return 'one' in ids ? sql<SqlBool>`${column} = ${ids.one}::uuid` : sql<SqlBool>`${column} = ANY(${ids.many}::uuid[])`;
}
