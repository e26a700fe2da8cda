import { getArgumentValues, type DocumentNode, type GraphQLSchema } from 'graphql';
import type pg from 'pg';
import type { ViewerContext } from '../context.js';
import { planDocument, type DocumentPlan } from './document-plan.js';
import { documentStatement } from './json-reads.js';
import { readModel, type ReadModel } from './read-model.js';
import { createRowReads, type RowReads } from './row-reads.js';
import { createPoolRunner, createStatementRunner, createStatements, statementNamer, type StatementRunner, type Statements } from './statements.js';
import { TemplateCache } from './parameters.js';

// The read compiler: the only way the server reads tasks, tags and users. Fields declare how they
// are read (declarations.ts); a document whose fields all have declarations is answered by one
// statement in which PostgreSQL writes the JSON (document-plan.ts, json-reads.ts), any other is
// executed by graphql-js with resolvers that read through the same builders (row-reads.ts). Every
// statement is scoped to the viewer when it is compiled (viewer-scope.ts).

export interface Reads extends RowReads {
  model: ReadModel;
  /** Runs statements built with the scoped query builder: writes that answer with rows use it too. */
  statements: Statements;
  /**
   * Runs `work` in one transaction on one connection: committed when it resolves, rolled back when it
   * throws. For writes that must be all-or-nothing across statements (the bulk operations).
   */
  transaction<T>(work: (statements: Statements) => Promise<T>): Promise<T>;
  /** The plan of a document (remembered per document), or null: graphql-js executes it. */
  planOf(document: DocumentNode): DocumentPlan | null;
  /**
   * The response's `data` as JSON text for a planned document, or null when graphql-js should answer
   * it (a non-null root that read nothing). Bad arguments throw the resolvers' errors.
   */
  answer(context: ViewerContext, plan: DocumentPlan, variables: Record<string, unknown>): Promise<string | null>;
}

export interface ReadsOptions {
  schema: GraphQLSchema;
  pool: pg.Pool;
  preparedStatements: boolean;
  /** Runs the statements instead of `pool` (bench:layers serves rows from memory). */
  run?: StatementRunner;
}

export function createReads({ schema, pool, preparedStatements, run }: ReadsOptions): Reads {
  const model = readModel(schema);
  const nameOf = statementNamer(preparedStatements);
  const cache = new TemplateCache();
  const statements = createStatements(run ?? createPoolRunner(pool, preparedStatements, nameOf), cache);
  const plans = new WeakMap<DocumentNode, DocumentPlan | null>();
  return {
    ...createRowReads(model, statements),
    model,
    statements,
    async transaction(work) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await work(createStatements(createStatementRunner(client, preparedStatements, nameOf), cache));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        // A connection that cannot even roll back is not given to the next request.
        await client.query('ROLLBACK').catch((lost: Error) => (broken = lost));
        throw error;
      } finally {
        client.release(broken);
      }
    },
    planOf(document) {
      let plan = plans.get(document);
      if (plan === undefined) plans.set(document, (plan = planDocument(schema, document)));
      return plan;
    },
    async answer(context, plan, variables) {
      const inputs = plan.argumentFields.map(({ field, node, read }) => read.input?.(getArgumentValues(field, node, variables)));
      const [row] = await statements.run(plan, context.viewer.id, inputs, (env, shaped) => documentStatement(env, plan, shaped));
      const values: string[] = [];
      for (const [index, root] of plan.roots.entries()) {
        if (root.kind === 'typename') {
          values.push(`${JSON.stringify(root.key)}:${JSON.stringify(root.typename)}`);
          continue;
        }
        const json = (row?.[String(index)] as string | null | undefined) ?? null;
        if (json === null && plan.nonNullRoots.has(root.key)) return null;
        values.push(`${JSON.stringify(root.key)}:${json ?? 'null'}`);
      }
      return `{${values.join(',')}}`;
    },
  };
}

export type { DocumentPlan } from './document-plan.js';
export type { Row } from './statements.js';
