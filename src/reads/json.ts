import { sql, type Expression, type RawBuilder } from 'kysely';

// PostgreSQL writes a direct read's response as JSON text with exactly the bytes graphql-js and
// JSON.stringify would: to_json of a row writes its columns in order, compactly, and escapes strings
// as JSON.stringify does; json_agg would add ", " and newlines between elements, so arrays are
// array_to_json(array_agg(...)). A json value nested in another is copied as it is, so every json
// value here is itself built compactly.

export type Json = { readonly __json: unique symbol };

/** PostgreSQL keeps column names (the response keys here) up to this many bytes. */
export const MAX_KEY_BYTES = 63;

/** An object with these keys, in this order. */
export function jsonObject(entries: ReadonlyArray<readonly [key: string, value: Expression<unknown>]>): RawBuilder<Json> {
  if (entries.length === 0) return sql<Json>`'{}'::json`;
  const columns = entries.map(([key, value]) => sql`${value} AS ${sql.id(key)}`);
  // o.* is the row even when a key is itself "o".
  return sql<Json>`(SELECT to_json(o.*) FROM (SELECT ${sql.join(columns)}) AS o)`;
}

/** The array of `element` over the rows of the query it is selected in, in `orderBy` order; [] for none. */
export function jsonArrayAgg(element: Expression<unknown>, orderBy: readonly Expression<unknown>[], filter?: Expression<unknown>): RawBuilder<Json> {
  const ordered = orderBy.length > 0 ? sql` ORDER BY ${sql.join(orderBy)}` : sql``;
  const filtered = filter ? sql` FILTER (WHERE ${filter})` : sql``;
  return sql<Json>`coalesce(array_to_json(array_agg(${element}${ordered})${filtered}), '[]')`;
}

/** What the DateTime scalar writes: ISO 8601 in UTC with milliseconds (to_char truncates, as node-postgres does). */
export const isoTimestamp = (value: Expression<unknown>) => sql<string>`to_char(${value} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

// base64 of "<prefix><uuid>" is 56 characters here, under the 76 at which encode() breaks lines.
const base64Of = (prefix: string, id: Expression<unknown>) => sql<string>`encode(convert_to(${sql.lit(prefix)} || ${id}::text, 'UTF8'), 'base64')`;

/** The Relay global ID of a row of `typename` (base64 of "Typename:id", as @pothos/plugin-relay encodes it). */
export const globalIdOf = (typename: string, id: Expression<unknown>) => base64Of(`${typename}:`, id);

/** A cursor on a row by its id: base64 of "GPC:S:<id>", the format task list cursors have always had. */
export const cursorOf = (id: Expression<unknown>) => base64Of('GPC:S:', id);

export const CURSOR_PREFIX = 'GPC:S:';
