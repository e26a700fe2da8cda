import pg from 'pg';
import { statementNames } from '../db/statement-names.js';
import { bind, bound, shape, type Bound, type Shaped, type Template, TemplateCache } from './parameters.js';
import { compile, queriesOf } from './query-builder.js';
import type { Compilable } from 'kysely';
import { readEnv, type ReadEnv } from './sources.js';

// Runs the compiler's statements on the pool under Prisma. A statement is named (prepared once per
// connection, as Prisma's are) unless its plan depends on its values.

export type Row = Record<string, unknown>;

export interface StatementInput {
  text: string;
  values: unknown[];
  prepare: boolean;
}

export type StatementRunner = (statement: StatementInput) => Promise<Row[]>;

/** The pool, or one of its connections inside a transaction. */
export type Queryable = Pick<pg.PoolClient, 'query'>;

export function createStatementRunner(db: Queryable, preparedStatements: boolean, nameOf = statementNamer(preparedStatements)): StatementRunner {
  return async ({ text, values, prepare }) => {
    const name = prepare ? nameOf({ sql: text }) : '';
    const { rows } = await db.query<Row>(name ? { name, text, values } : { text, values });
    return rows;
  };
}

/**
 * Statements on the pool. pool.query closes a connection after any error; a statement the database
 * refused (a unique key taken by a concurrent writer, a constraint, a timeout) leaves its connection
 * sound, and opening a new one costs more than most requests (TLS, SCRAM). So the connection goes
 * back to the pool unless the error says the connection itself is gone.
 */
export function createPoolRunner(pool: pg.Pool, preparedStatements: boolean, nameOf = statementNamer(preparedStatements)): StatementRunner {
  return async ({ text, values, prepare }) => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      const name = prepare ? nameOf({ sql: text }) : '';
      const { rows } = await client.query<Row>(name ? { name, text, values } : { text, values });
      return rows;
    } catch (error) {
      if (!connectionSurvives(error)) broken = error as Error;
      throw error;
    } finally {
      client.release(broken);
    }
  };
}

/** An error PostgreSQL answered in a working session (not a lost connection or a server shutting down). */
const connectionSurvives = (error: unknown) => error instanceof pg.DatabaseError && !/^(08|57P)/.test(error.code ?? '');

export const statementNamer = (preparedStatements: boolean) => (preparedStatements ? statementNames(500, 'reads') : () => '');

/** Everything a statement is built from: its viewer, the time it is read at, and its own input. */
interface StatementShape<Input> {
  viewer: Bound<string>;
  now: Bound<string>;
  input: Input;
}

export interface Statements {
  /**
   * Builds (once per `owner` and shape of `input`) and runs a statement for `viewerId`. `build` may
   * branch on the shape of the input, never on its bound values (src/reads/parameters.ts); it
   * answers null when there is nothing to read.
   */
  run<Input>(owner: object, viewerId: string, input: Input, build: (env: ReadEnv, input: Shaped<Input>) => Compilable | null): Promise<Row[]>;
}

export function createStatements(run: StatementRunner, cache = new TemplateCache()): Statements {
  return {
    async run(owner, viewerId, input, build) {
      const { key, shaped, values } = shape<StatementShape<typeof input>>({ viewer: bound(viewerId), now: bound(new Date().toISOString()), input });
      const template: Template | null = cache.get(owner, key, () => {
        const { env, prepare } = readEnv(queriesOf(shaped.viewer), shaped.now, shaped.viewer as never);
        const query = build(env, shaped.input as Shaped<typeof input>);
        return query ? compile(query, prepare()) : NOTHING;
      });
      if (template === NOTHING) return [];
      return run({ text: template.text, values: bind(template, values), prepare: template.prepare });
    },
  };
}

/** A statement that reads nothing (a document of only __typename), remembered like any other. */
const NOTHING: Template = { text: '', parameters: [], prepare: false };
