import { complexityFromQuery } from '@pothos/plugin-complexity';
import { getArgumentValues, getVariableValues, type DocumentNode, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context, ViewerContext } from '../context.js';
import { COMPLEXITY_LIMIT } from '../schema/complexity.js';
import { decodeId } from '../schema/global-id.js';
import { readTaskJsonPage, taskConnection, taskListQuery, type TaskListArgs } from '../schema/task-connection.js';
import { compileTaskJsonById } from '../tasks/task-sql.js';
import { planTaskRead, type RootPlan, type TaskJsonRow, type TaskReadPlan } from './task-read-plan.js';

// Executes the documents src/execution/task-read-plan.ts has a plan for. The arguments, paging and
// cursors come from the same code the resolvers use (plugin-prisma's connection helpers, the task
// list decoding, the compiler's scoping), and PostgreSQL writes each task's JSON; only graphql-js'
// walk over the result and its serialization are replaced. Anything out of the ordinary — no
// viewer, a variable or argument graphql-js or a resolver would refuse, a query over the
// complexity limit, a backward page, a database error — is handed to graphql-js, which answers it
// exactly as it would have: these are reads, so running one again changes nothing.

export type DirectReadOutcome = 'direct' | 'graphql';

/** Off (DIRECT_READS=off) every document goes through graphql-js; the tests compare the two. */
export function useDirectTaskReads(schema: GraphQLSchema, onOutcome: (outcome: DirectReadOutcome) => void = () => {}): Plugin {
  const plans = new WeakMap<DocumentNode, TaskReadPlan | null>();
  const planFor = (document: DocumentNode) => {
    let plan = plans.get(document);
    if (plan === undefined) {
      plan = planTaskRead(schema, document);
      plans.set(document, plan);
    }
    return plan;
  };
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const plan = planFor(args.document);
      if (!plan || (args.operationName && args.operationName !== plan.operation.name?.value)) return;
      setExecuteFn(async (executionArgs) => {
        const data = await executePlan(schema, plan, executionArgs).catch((error: unknown) => {
          (executionArgs.contextValue as Context).logger.debug({ err: error }, 'direct read handed to graphql-js');
          return null;
        });
        onOutcome(data === null ? 'graphql' : 'direct');
        return data === null ? executeFn(executionArgs) : resultOf(data);
      });
    },
  };
}

/**
 * The execution result around the response's data, already JSON. yoga writes a result with its own
 * `stringify` (as graphql-jit's are) with it; a plugin that reads `data` gets it parsed.
 */
function resultOf(dataJson: string) {
  let data: unknown;
  return {
    get data() {
      data ??= JSON.parse(dataJson);
      return data as Record<string, unknown>;
    },
    stringify: () => `{"data":${dataJson}}`,
  };
}

/** The response's data as JSON, or null to let graphql-js answer. */
async function executePlan(schema: GraphQLSchema, plan: TaskReadPlan, args: ExecutionArgs): Promise<string | null> {
  const context = args.contextValue as Context;
  if (!context.viewer) return null;
  const rawVariables = args.variableValues ?? {};
  const variables = getVariableValues(schema, plan.operation.variableDefinitions ?? [], rawVariables);
  if (variables.errors) return null;
  const { complexity, depth, breadth } = complexityFromQuery(args.document, { schema, variables: rawVariables, ctx: context });
  if (complexity > COMPLEXITY_LIMIT.complexity || depth > COMPLEXITY_LIMIT.depth || breadth > COMPLEXITY_LIMIT.breadth) return null;

  const values = await Promise.all(plan.roots.map((root) => writeRoot(root, context as ViewerContext, variables.coerced)));
  if (values.includes(null)) return null;
  return `{${plan.roots.map((root, index) => `${JSON.stringify(root.key)}:${values[index]}`).join(',')}}`;
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
  // totalCount as its resolver counts: the viewer's Prisma client, the list's own where.
  const [rows, totalCount] = await Promise.all([
    readTaskJsonPage(context, query, args as TaskListArgs, root.fields),
    root.counts ? context.db.task.count({ where: taskListQuery(args as TaskListArgs).where }) : undefined,
  ]);
  return rows && root.write({ ...connection.resolve(rows as never, args, context), totalCount } as never);
}
