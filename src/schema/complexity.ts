import { getNullableType, GraphQLError, isListType, type GraphQLField } from 'graphql';
import type { ComplexityErrorFn } from '@pothos/plugin-complexity';

// A query's cost is the rows it could make us load: a connection costs its page size times what
// each node selects, so tasks(first: 100) { tags { tasks(first: 100) ... } } is refused while a
// realistic client screen (a page of tasks with their tags and counts) is not.

export const COMPLEXITY_LIMIT = { complexity: 250_000, depth: 16, breadth: 400 };
const DEFAULT_PAGE = 20;
const MAX_PAGE = 100;
const LIST_MULTIPLIER = 5;

export function fieldComplexity<Context>(args: Record<string, unknown>, _context: Context, field: GraphQLField<unknown, Context, Record<string, unknown>>) {
  if (field.args.some((arg) => arg.name === 'first' || arg.name === 'last')) {
    const requested = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : DEFAULT_PAGE;
    return { field: 1, multiplier: Math.max(1, Math.min(requested, MAX_PAGE)) };
  }
  if (Array.isArray(args.ids)) return { field: 1, multiplier: Math.max(1, args.ids.length) };
  // A connection's edges are already counted by its page size.
  if (field.name === 'edges') return { field: 0, multiplier: 1 };
  return isListType(getNullableType(field.type)) ? { field: 1, multiplier: LIST_MULTIPLIER } : 1;
}

export const complexityError: ComplexityErrorFn = (kind, result) => {
  const key = String(kind).toLowerCase() as 'depth' | 'breadth' | 'complexity';
  const max = { depth: result.maxDepth, breadth: result.maxBreadth, complexity: result.maxComplexity }[key];
  return new GraphQLError(`Query ${key} of ${result[key]} is over the limit of ${max}: ask for smaller pages or fewer nested lists`, {
    extensions: { code: 'QUERY_TOO_COMPLEX', [key]: result[key], limit: max },
  });
};
