import { complexityFromQuery } from '@pothos/plugin-complexity';
import { getArgumentValues, getVariableValues, type DocumentNode, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { COMPLEXITY_LIMIT } from '../schema/complexity.js';
import { decodeId } from '../schema/global-id.js';
import { readTask, readTaskPage, taskConnection, type TaskListArgs } from '../schema/task-connection.js';
import { planTaskRead, type RootPlan, type TaskReadPlan } from './task-read-plan.js';

// Executes the documents src/execution/task-read-plan.ts has a plan for: the arguments and the rows
// come from the same code the resolvers use (plugin-prisma's paging, the compiled SQL, the viewer's
// scope), only graphql-js' walk over the result is replaced. Anything out of the ordinary — no viewer,
// a variable or argument graphql-js or a resolver would refuse, a query over the complexity limit,
// a database error — is handed to graphql-js, which answers it exactly as it would have: these are
// reads, so running one again changes nothing.

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
        onOutcome(data ? 'direct' : 'graphql');
        return data ? { data } : executeFn(executionArgs);
      });
    },
  };
}

/** The response's data, or null to let graphql-js answer. */
async function executePlan(schema: GraphQLSchema, plan: TaskReadPlan, args: ExecutionArgs): Promise<Record<string, unknown> | null> {
  const context = args.contextValue as Context;
  if (!context.viewer) return null;
  const rawVariables = args.variableValues ?? {};
  const variables = getVariableValues(schema, plan.operation.variableDefinitions ?? [], rawVariables);
  if (variables.errors) return null;
  const { complexity, depth, breadth } = complexityFromQuery(args.document, { schema, variables: rawVariables, ctx: context });
  if (complexity > COMPLEXITY_LIMIT.complexity || depth > COMPLEXITY_LIMIT.depth || breadth > COMPLEXITY_LIMIT.breadth) return null;

  const values = await Promise.all(plan.roots.map((root) => resolveRoot(root, context, variables.coerced)));
  const data: Record<string, unknown> = {};
  plan.roots.forEach((root, index) => {
    data[root.key] = values[index];
  });
  return data;
}

async function resolveRoot(root: RootPlan, context: Context, variables: Record<string, unknown>): Promise<unknown> {
  if (root.kind === 'typename') return root.build(undefined as never);
  const args = getArgumentValues(root.field!, root.node, variables);
  if (root.kind === 'task') {
    const row = await readTask(context, { select: root.select }, decodeId(args.id as string, 'Task', 'id'));
    return row === null ? null : root.build(row as never);
  }
  // Backward pages (last/before) keep plugin-prisma's own reading of them: graphql-js.
  if (args.last != null || args.before != null) throw new Error('backward page');
  const connection = taskConnection();
  const query = connection.getQuery(args, context, () => ({ select: root.select }));
  const rows = await readTaskPage(context, query, args as TaskListArgs);
  return root.build(connection.resolve(rows, args, context) as never);
}
