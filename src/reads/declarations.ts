import type { Expression, SqlBool } from 'kysely';
import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../context.js';
import type { Shaped } from './parameters.js';
import type { Alias, AnySelect, ColumnOf, ReadEnv, Table } from './sources.js';
import { col } from './sources.js';
import { taskListInput, type TaskListArgs, type TaskListInput, type TaskOrder } from './task-list.js';

// How a field is read, declared next to its Pothos definition (in the field's `extensions`), once.
// The same declaration serves both ways a document is answered: compiled into one statement in which
// PostgreSQL writes the response (src/reads/json-reads.ts), or as the field's resolver when
// graphql-js executes (src/reads/row-reads.ts). A field without a declaration is simply not compiled:
// documents that select it are executed by graphql-js with its own resolver.

export const READ = 'read';
export const READ_TABLE = 'readTable';

/** A scalar: a column or an expression over the row (and the field's arguments, when it has some). */
export interface ValueRead<Input = unknown> {
  kind: 'value';
  value(env: ReadEnv, row: Alias, input: Shaped<Input>): Expression<unknown>;
  /** Checks and decodes the field's arguments; absent for a field without arguments. */
  input?(args: Record<string, unknown>): Input;
}

/** A list of rows of `table`, related to the parent row (or to nothing, at the root). */
export interface ListRead<Input = unknown> {
  kind: 'list';
  table: Table;
  /** FROM the child table (as `child`), joined and filtered to the parent's rows. */
  rows(env: ReadEnv, parent: Alias | null, child: Alias, input: Shaped<Input>): AnySelect;
  order(child: Alias): Expression<unknown>[];
  /** At most this many rows (the first in order). */
  limit?: number;
  input?(args: Record<string, unknown>): Input;
}

/** At most one row of `table`. */
export interface ObjectRead<Input = unknown> {
  kind: 'object';
  table: Table;
  row(env: ReadEnv, parent: Alias | null, child: Alias, input: Shaped<Input>): AnySelect;
  input?(args: Record<string, unknown>): Input;
}

/** A task list connection (filter, orderBy, first/after/last/before), within the parent's tasks. */
export interface ConnectionRead {
  kind: 'connection';
  table: 'tasks';
  within(env: ReadEnv, parent: Alias | null, t: Alias<'tasks'>): Expression<SqlBool> | null;
  /** Checks and decodes the list's arguments (src/reads/task-list.ts), with the list's default order. */
  input(args: Record<string, unknown>): TaskListInput;
}

export type FieldRead = ValueRead | ListRead | ObjectRead | ConnectionRead;

type Resolver = (parent: never, args: never, context: Context, info: GraphQLResolveInfo) => unknown;

/** A value already in the row the parent was read as (rows carry every argument-less value field). */
const fromRow = (row: Record<string, unknown>, _args: unknown, _context: Context, info: GraphQLResolveInfo) => row[info.fieldName];

const resolveThrough = (read: FieldRead) => (parent: unknown, args: Record<string, unknown>, context: Context, info: GraphQLResolveInfo) =>
  context.services.reads.resolve(read, parent as Record<string, unknown> | undefined, args, context, info);

/** The options a Pothos field spreads in: its declaration and the resolver that follows from it. */
function declared(read: FieldRead): { extensions: Record<string, unknown>; resolve: never } {
  const argumentless = read.kind === 'value' && !read.input;
  return { extensions: { [READ]: read }, resolve: (argumentless ? fromRow : resolveThrough(read)) as Resolver as never };
}

/** Fields of an object type read from `table`. */
export function readFrom<T extends Table>(table: T) {
  return {
    /** The object type's own options: where its rows live. */
    type: { extensions: { [READ_TABLE]: table } },
    column: (column: ColumnOf<T>) => declared({ kind: 'value', value: (_env, row) => col(row as Alias<T>, column) }),
    value: <Input = undefined>(read: Omit<ValueRead<Input>, 'kind' | 'value'> & { value(env: ReadEnv, row: Alias<T>, input: Shaped<Input>): Expression<unknown> }) =>
      declared({ kind: 'value', ...read } as ValueRead),
  };
}

export const readList = <T extends Table, Input = undefined>(read: {
  table: T;
  rows(env: ReadEnv, parent: Alias | null, child: Alias<T>, input: Shaped<Input>): AnySelect;
  order(child: Alias<T>): Expression<unknown>[];
  limit?: number;
  input?(args: Record<string, unknown>): Input;
}) => declared({ kind: 'list', ...read } as unknown as ListRead);

export const readObject = <T extends Table, Input = undefined>(read: {
  table: T;
  row(env: ReadEnv, parent: Alias | null, child: Alias<T>, input: Shaped<Input>): AnySelect;
  input?(args: Record<string, unknown>): Input;
}) => declared({ kind: 'object', ...read } as unknown as ObjectRead);
export const readConnection = ({ within, defaultOrder }: Pick<ConnectionRead, 'within'> & { defaultOrder?: readonly TaskOrder[] }) =>
  declared({ kind: 'connection', table: 'tasks', within, input: (args) => taskListInput(args as TaskListArgs, defaultOrder) });

export function readOf(extensions: Readonly<Record<string, unknown>> | null | undefined): FieldRead | undefined {
  return extensions?.[READ] as FieldRead | undefined;
}

export function tableOf(extensions: Readonly<Record<string, unknown>> | null | undefined): Table | undefined {
  return extensions?.[READ_TABLE] as Table | undefined;
}
