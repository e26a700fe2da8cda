import { complexityFromQuery } from '@pothos/plugin-complexity';
import { getVariableValues, GraphQLError, locatedError, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context, ViewerContext } from '../context.js';
import type { DocumentPlan, Reads } from '../reads/index.js';
import { COMPLEXITY_LIMIT } from '../schema/complexity.js';

// Executes the documents the read compiler has a plan for (src/reads/document-plan.ts): one
// statement in which PostgreSQL writes the response's data, instead of graphql-js' walk over
// resolvers. The arguments are checked by the same code the resolvers use. Anything out of the
// ordinary — no viewer, a variable or argument graphql-js or a resolver would refuse, a query over
// the complexity limit, a non-null root that read nothing — is handed to graphql-js, which answers it
// exactly as it would have. A database failure is reported as graphql-js reports a resolver's, not
// run twice.

export type DirectReadOutcome = 'direct' | 'graphql';

/** A query text yoga has parsed, validated and found a plan for: src/http/direct-read-requests.ts answers it again. */
export interface KnownRead {
  document: DocumentNode;
  plan: DocumentPlan;
}

/** Texts are the client's: a process remembers this many, as it does operation names for metrics. */
const MAX_KNOWN_READS = 1_000;

export interface DirectReads {
  plugin: Plugin;
  /** The planned read a query text was validated as, if yoga has seen it. */
  knownRead(query: string): KnownRead | undefined;
  /** A result already settled for this node request (a database failure seen before yoga): yoga answers with it. */
  settle(req: object, result: ExecutionResult): void;
}

/** Off (DIRECT_READS=off) every document goes through graphql-js; the tests compare the two. */
export function useDirectReads(schema: GraphQLSchema, reads: Reads, onOutcome: (outcome: DirectReadOutcome) => void = () => {}): DirectReads {
  const known = new Map<string, KnownRead>();
  const settled = new WeakMap<object, ExecutionResult>();
  const planFor = (document: DocumentNode) => reads.planOf(document);
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
        const result = earlier ?? (await executePlan(schema, reads, plan, executionArgs));
        onOutcome(result ? 'direct' : 'graphql');
        return result ?? executeFn(executionArgs);
      });
    },
  };
  return { plugin, knownRead: (query) => known.get(query), settle: (req, result) => settled.set(req, result) };
}

/**
 * What a resolver throws for bad input (a GraphQLError with its code): graphql-js answers those.
 * Anything else is a failure (the database) that running the read again would only repeat.
 */
const isRefusal = (error: unknown) => error instanceof GraphQLError;

/** The execution result, or null to let graphql-js answer. */
async function executePlan(schema: GraphQLSchema, reads: Reads, plan: DocumentPlan, args: ExecutionArgs): Promise<ExecutionResult | null> {
  const answer = await answerPlan(schema, reads, plan, args);
  return answer === null || !('dataJson' in answer) ? answer : resultOf(answer.dataJson);
}

/** The response's `data` as JSON, a result with errors (a database failure), or null to let graphql-js answer. */
export async function answerPlan(schema: GraphQLSchema, reads: Reads, plan: DocumentPlan, args: ExecutionArgs): Promise<{ dataJson: string } | ExecutionResult | null> {
  const context = args.contextValue as Context;
  if (!context.viewer) return null;
  const rawVariables = args.variableValues ?? {};
  const variables = getVariableValues(schema, plan.operation.variableDefinitions ?? [], rawVariables);
  if (variables.errors) return null;
  const { complexity, depth, breadth } = complexityFromQuery(args.document, { schema, variables: rawVariables, ctx: context });
  if (complexity > COMPLEXITY_LIMIT.complexity || depth > COMPLEXITY_LIMIT.depth || breadth > COMPLEXITY_LIMIT.breadth) return null;
  try {
    const dataJson = await reads.answer(context as ViewerContext, plan, variables.coerced);
    return dataJson === null ? null : { dataJson };
  } catch (error) {
    if (isRefusal(error)) {
      context.logger.debug({ err: error }, 'direct read handed to graphql-js');
      return null;
    }
    // As graphql-js reports a resolver's failure: at each root field that reads, and a null that
    // spreads to `data` when such a field cannot be null or stays at the field when it can.
    const errors: GraphQLError[] = [];
    const data: Record<string, unknown> = {};
    let dataIsNull = false;
    for (const [index, root] of plan.roots.entries()) {
      if (root.kind === 'typename') {
        data[root.key] = root.typename;
        continue;
      }
      errors.push(locatedError(error, [plan.rootNodes[index]!], [root.key]));
      if (plan.nonNullRoots.has(root.key)) dataIsNull = true;
      data[root.key] = null;
    }
    return { errors, data: dataIsNull ? null : data };
  }
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
