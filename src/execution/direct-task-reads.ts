import { complexityFromQuery } from '@pothos/plugin-complexity';
import { getArgumentValues, getVariableValues, GraphQLError, locatedError, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context, ViewerContext } from '../context.js';
import { COMPLEXITY_LIMIT } from '../schema/complexity.js';
import { decodeId } from '../schema/global-id.js';
import { readTaskJsonPage, taskConnection, taskListQuery, type TaskListArgs } from '../schema/task-connection.js';
import { compileTaskJsonById, type TaskJsonRow } from '../tasks/task-sql.js';
import { planTaskRead, type RootPlan, type TaskReadPlan } from './task-read-plan.js';

// Executes the documents src/execution/task-read-plan.ts has a plan for. The arguments, paging and
// cursors come from the same code the resolvers use (plugin-prisma's connection helpers, the task
// list decoding, the compiler's scoping), and PostgreSQL writes each task's JSON; only graphql-js'
// walk over the result and its serialization are replaced. Anything out of the ordinary — no
// viewer, a variable or argument graphql-js or a resolver would refuse, a query over the
// complexity limit, a backward page — is handed to graphql-js, which answers it exactly as it
// would have. A database failure is reported as graphql-js reports a resolver's, not run twice.

export type DirectReadOutcome = 'direct' | 'graphql';

/** A query text yoga has parsed, validated and found a plan for: src/http/direct-read-requests.ts answers it again. */
export interface KnownRead {
  document: DocumentNode;
  plan: TaskReadPlan;
}

/** Texts are the client's: a process remembers this many, as it does operation names for metrics. */
const MAX_KNOWN_READS = 1_000;

export interface DirectTaskReads {
  plugin: Plugin;
  /** The planned read a query text was validated as, if yoga has seen it. */
  knownRead(query: string): KnownRead | undefined;
  /** A result already settled for this node request (a database failure seen before yoga): yoga answers with it. */
  settle(req: object, result: ExecutionResult): void;
}

/** Off (DIRECT_READS=off) every document goes through graphql-js; the tests compare the two. */
export function useDirectTaskReads(schema: GraphQLSchema, onOutcome: (outcome: DirectReadOutcome) => void = () => {}): DirectTaskReads {
  const plans = new WeakMap<DocumentNode, TaskReadPlan | null>();
  const known = new Map<string, KnownRead>();
  const settled = new WeakMap<object, ExecutionResult>();
  const planFor = (document: DocumentNode) => {
    let plan = plans.get(document);
    if (plan === undefined) {
      plan = planTaskRead(schema, document);
      plans.set(document, plan);
    }
    return plan;
  };
  const plugin: Plugin = {
    onExecute({ args, executeFn, setExecuteFn }) {
      const plan = planFor(args.document);
      if (!plan || (args.operationName != null && args.operationName !== plan.operation.name?.value)) return;
      const { params, req } = args.contextValue as { params?: { query?: unknown }; req?: object };
      if (typeof params?.query === 'string' && !known.has(params.query) && known.size < MAX_KNOWN_READS) {
        known.set(params.query, { document: args.document, plan });
      }
      setExecuteFn(async (executionArgs) => {
        const earlier = req && settled.get(req);
        const result = earlier ?? (await executePlan(schema, plan, executionArgs));
        onOutcome(result ? 'direct' : 'graphql');
        return result ?? executeFn(executionArgs);
      });
    },
  };
  return { plugin, knownRead: (query) => known.get(query), settle: (req, result) => settled.set(req, result) };
}

/**
 * What a resolver throws for bad input (a GraphQLError with its code, plugin-prisma's
 * PothosValidationError for a malformed cursor or page size): graphql-js answers those. Anything
 * else is a failure (the database) that running the read again would only repeat.
 */
const isRefusal = (error: unknown) => error instanceof GraphQLError || (error instanceof Error && error.name === 'PothosValidationError');

/** The execution result, or null to let graphql-js answer. */
async function executePlan(schema: GraphQLSchema, plan: TaskReadPlan, args: ExecutionArgs): Promise<ExecutionResult | null> {
  const answer = await answerPlan(schema, plan, args);
  return answer === null || !('dataJson' in answer) ? answer : resultOf(answer.dataJson);
}

/** The response's `data` as JSON, a result with errors (a database failure), or null to let graphql-js answer. */
export async function answerPlan(schema: GraphQLSchema, plan: TaskReadPlan, args: ExecutionArgs): Promise<{ dataJson: string } | ExecutionResult | null> {
  const context = args.contextValue as Context;
  if (!context.viewer) return null;
  const rawVariables = args.variableValues ?? {};
  const variables = getVariableValues(schema, plan.operation.variableDefinitions ?? [], rawVariables);
  if (variables.errors) return null;
  const { complexity, depth, breadth } = complexityFromQuery(args.document, { schema, variables: rawVariables, ctx: context });
  if (complexity > COMPLEXITY_LIMIT.complexity || depth > COMPLEXITY_LIMIT.depth || breadth > COMPLEXITY_LIMIT.breadth) return null;

  const settled = await Promise.allSettled(plan.roots.map((root) => writeRoot(root, context as ViewerContext, variables.coerced)));
  const values: string[] = [];
  const errors: GraphQLError[] = [];
  let dataIsNull = false;
  for (const [index, outcome] of settled.entries()) {
    const root = plan.roots[index]!;
    if (outcome.status === 'fulfilled') {
      if (outcome.value === null) return null;
      values.push(outcome.value);
      continue;
    }
    if (isRefusal(outcome.reason)) {
      context.logger.debug({ err: outcome.reason }, 'direct read handed to graphql-js');
      return null;
    }
    // As graphql-js reports a resolver's failure: at the field, and a null that spreads to `data`
    // when the field cannot be null (tasks) or stays at the field when it can (task).
    errors.push(locatedError(outcome.reason, root.kind === 'typename' ? [] : [root.node], [root.key]));
    if (root.kind !== 'task') dataIsNull = true;
    values.push('null');
  }
  const dataJson = dataIsNull ? 'null' : `{${plan.roots.map((root, index) => `${JSON.stringify(root.key)}:${values[index]}`).join(',')}}`;
  return errors.length > 0 ? { errors, data: JSON.parse(dataJson) as Record<string, unknown> | null } : { dataJson };
}

/**
 * The execution result around the response's data, already JSON. yoga writes a result with its own
 * `stringify` (as graphql-jit's are) with it; a plugin that reads `data` gets it parsed, and one that
 * replaces the result gets it written by JSON.stringify.
 */
function resultOf(dataJson: string): ExecutionResult {
  let data: Record<string, unknown> | undefined;
  const result = {
    get data() {
      data ??= JSON.parse(dataJson) as Record<string, unknown>;
      return data;
    },
    stringify: (written: unknown) => (written === result ? `{"data":${dataJson}}` : JSON.stringify(written)),
  };
  return result;
}

/** One root field's JSON, or null when graphql-js should answer the document. */
async function writeRoot(root: RootPlan, context: ViewerContext, variables: Record<string, unknown>): Promise<string | null> {
  if (root.kind === 'typename') return root.write();
  const args = getArgumentValues(root.field, root.node, variables);
  if (root.kind === 'task') {
    const statement = compileTaskJsonById(context.viewer.id, decodeId(args.id as string, 'Task', 'id'), root.fields, new Date());
    const [row] = (await context.services.runStatement(statement)) as unknown as TaskJsonRow[];
    return root.write((row ?? null) as never);
  }
  // Backward pages (last/before) keep plugin-prisma's own reading of them: graphql-js.
  if (args.last != null || args.before != null) return null;
  const connection = taskConnection();
  const query = connection.getQuery(args, context, () => null);
  // totalCount as its resolver counts: the viewer's Prisma client, the list's own where. Both reads
  // start as promises, so that bad input rejects both, and neither rejection goes unhandled.
  const count = async () => (root.counts ? context.db.task.count({ where: taskListQuery(args as TaskListArgs).where }) : undefined);
  const [rows, totalCount] = await Promise.all([readTaskJsonPage(context, query, args as TaskListArgs, root.fields), count()]);
  return rows && root.write({ ...connection.resolve(rows as never, args, context), totalCount } as never);
}
