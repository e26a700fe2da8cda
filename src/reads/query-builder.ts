import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, type Compilable } from 'kysely';
import type { DB } from '../generated/kysely/types.js';
import type { Template } from './parameters.js';
import { ViewerScope } from './viewer-scope.js';

// Kysely only builds and compiles here: statements run on the pool under Prisma
// (src/reads/statements.ts), named so PostgreSQL keeps their plans, and Kysely never holds a
// connection of its own.

const compiler = new Kysely<DB>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

export type QueryCreator = Kysely<DB>;

/**
 * The query builder for one viewer (an id, or the Slot the viewer's id is bound to): every statement
 * built with it is scoped to that viewer when it is compiled (src/reads/viewer-scope.ts).
 */
export function queriesOf(viewer: unknown): QueryCreator {
  return compiler.withPlugin(new ViewerScope(viewer));
}

export function compile(query: Compilable, prepare: boolean): Template {
  const { sql, parameters } = query.compile();
  return { text: sql, parameters, prepare };
}
