import { sql, type Expression, type RawBuilder } from 'kysely';

// PostgreSQL writes a planned read's response as JSON text with exactly the bytes graphql-js and
// JSON.stringify would: objects and arrays are concatenated as text with their keys in order and no
// spaces, and each scalar goes through to_json, which escapes strings as JSON.stringify does. Text is
// also cheaper for PostgreSQL than nesting json values through row subqueries.

/** JSON as text, written by PostgreSQL. */
export type JsonText = RawBuilder<string>;

/** A scalar (a column or an expression) as JSON text: null when it is NULL. */
export const jsonValue = (value: Expression<unknown>): JsonText => sql<string>`coalesce(to_json(${value})::text, 'null')`;

/** A string known to the server (a type name) as JSON text. */
export const jsonString = (value: string): JsonText => sql<string>`${sql.lit(JSON.stringify(value))}`;

/** An object with these keys, in this order. Keys are GraphQL names: they need no escaping. */
export function jsonObject(entries: ReadonlyArray<readonly [key: string, value: JsonText]>): JsonText {
  if (entries.length === 0) return sql<string>`'{}'`;
  const parts = entries.map(([key, value], index) => sql`${sql.lit(`${index === 0 ? '{' : ','}${JSON.stringify(key)}:`)} || ${value}`);
  return sql<string>`(${sql.join(parts, sql` || `)} || '}')`;
}

/** The array of `element` over the rows of the query it is selected in, in `orderBy` order; [] for none. */
export function jsonArrayAgg(element: JsonText, orderBy: readonly Expression<unknown>[], filter?: Expression<unknown>): JsonText {
  const ordered = orderBy.length > 0 ? sql` ORDER BY ${sql.join(orderBy)}` : sql``;
  const filtered = filter ? sql` FILTER (WHERE ${filter})` : sql``;
  return sql<string>`coalesce('[' || string_agg(${element}, ','${ordered})${filtered} || ']', '[]')`;
}

/** What the DateTime scalar writes: ISO 8601 in UTC with milliseconds (to_char truncates, as node-postgres does). */
export const isoTimestamp = (value: Expression<unknown>) => sql<string>`to_char(${value} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

// base64 of "<prefix><uuid>" is 56 characters here, under the 76 at which encode() breaks lines.
const base64Of = (prefix: string, id: Expression<unknown>) => sql<string>`encode(convert_to(${sql.lit(prefix)} || ${id}::text, 'UTF8'), 'base64')`;

/** The Relay global ID of a row of `typename` (base64 of "Typename:id", as @pothos/plugin-relay encodes it). */
export const globalIdOf = (typename: string, id: Expression<unknown>) => base64Of(`${typename}:`, id);

export const CURSOR_PREFIX = 'GPC:S:';

/** A cursor on a row by its id: base64 of "GPC:S:<id>", the format task list cursors have always had. */
export const cursorOf = (id: Expression<unknown>) => base64Of(CURSOR_PREFIX, id);
