import { isObjectType, type GraphQLSchema } from 'graphql';
import { sql, type AliasedExpression, type Expression } from 'kysely';
import { readOf, tableOf, type FieldRead, type ValueRead } from './declarations.js';
import { rowId, type Alias, type ReadEnv, type Table } from './sources.js';

// What the schema declares about each table's rows: the GraphQL type they are read as, and the value
// fields that need no arguments. When graphql-js executes, a row carries all of those under their
// field names (plus its id), so that each such field resolves by reading its own name.

export interface ReadModel {
  typenameOf(table: Table): string;
  /** The declaration of a field of the type read from `table`. */
  fieldRead(table: Table, field: string): FieldRead;
  /** The SELECT list of a row of `alias` as graphql-js resolvers read it. */
  rowSelections(env: ReadEnv, alias: Alias): AliasedExpression<unknown, string>[];
}

export const aliased = (value: Expression<unknown>, name: string) => sql`${value}`.as(name);

export function readModel(schema: GraphQLSchema): ReadModel {
  const types = new Map<Table, { typename: string; values: Array<[string, ValueRead]>; reads: Map<string, FieldRead> }>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type)) continue;
    const table = tableOf(type.extensions);
    if (!table) continue;
    if (types.has(table)) throw new Error(`two types read from ${table}: ${types.get(table)!.typename} and ${type.name}`);
    const values: Array<[string, ValueRead]> = [];
    const reads = new Map<string, FieldRead>();
    for (const field of Object.values(type.getFields())) {
      const read = readOf(field.extensions);
      if (read) reads.set(field.name, read);
      if (read?.kind === 'value' && !read.input && field.args.length === 0) values.push([field.name, read]);
    }
    types.set(table, { typename: type.name, values, reads });
  }
  const typeOf = (table: Table) => {
    const type = types.get(table);
    if (!type) throw new Error(`no GraphQL type is read from ${table}`);
    return type;
  };
  return {
    typenameOf: (table) => typeOf(table).typename,
    fieldRead: (table, field) => {
      const read = typeOf(table).reads.get(field);
      if (!read) throw new Error(`${typeOf(table).typename}.${field} declares no read`);
      return read;
    },
    rowSelections: (env, alias) => [
      aliased(rowId(alias), 'id'),
      ...typeOf(alias.table).values.map(([name, read]) => aliased(read.value(env, alias, undefined as never), name)),
    ],
  };
}
