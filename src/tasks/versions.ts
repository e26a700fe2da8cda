import type { GraphQLError } from 'graphql';
import type { ViewerContext } from '../context.js';
import { conflict, notFound } from '../schema/errors.js';

// expectedVersion, as every write of a task takes it: the write carries the condition itself (so
// that nothing changes when the task moved on), and this tells the client which way it failed.

/** CONFLICT naming the version the task is at now. */
export function staleVersion(expected: number, current: number): GraphQLError {
  return conflict(`Task changed since version ${expected}: it is now at version ${current}`, { currentVersion: current });
}

/** Why a write conditioned on `expected` found no row: the task is gone (NOT_FOUND) or at another version. */
export async function versionProblem(context: ViewerContext, id: string, expected: number | undefined): Promise<GraphQLError> {
  if (expected === undefined) return notFound('Task');
  context.services.reads.forget(context);
  const row = await context.services.reads.rowById(context, 'tasks', id);
  if (!row) return notFound('Task');
  return staleVersion(expected, row.version as number);
}

/** Refuses at once when the task read for a write is not at the version the client expects. */
export function checkVersion(expected: number | undefined, current: number): void {
  if (expected !== undefined && expected !== current) throw staleVersion(expected, current);
}
