import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { isDatabaseUnavailable, violatedForeignKey } from '../db/errors.js';
import { serviceUnavailable, unauthenticated } from '../schema/errors.js';

// Expected failures (GraphQLErrors with extensions.code) reach the client as they are. The database
// being unreachable becomes SERVICE_UNAVAILABLE. Anything else is a bug: the client gets a generic
// INTERNAL_SERVER_ERROR with the request id, and the log gets the details under the same id.

const requestIdOfError = new WeakMap<object, string>();

function originalOf(error: unknown): unknown {
  return error instanceof GraphQLError && error.originalError ? error.originalError : error;
}

/** A write for a user that no longer exists: the token outlived its account. */
function isDeletedAccountWrite(error: unknown): boolean {
  return /^(tasks|tags)_user_id_fkey$/.test(violatedForeignKey(error) ?? '');
}

function hasCode(error: unknown): boolean {
  return error instanceof GraphQLError && typeof error.extensions?.code === 'string';
}

// graphql-js reports a variable that does not fit its type (a bad DateTime, an unknown enum value)
// with the scalar's own error as originalError; it is the client's mistake, not ours.
const VARIABLE_COERCION = /^Variable "\$[^"]+" (got invalid value|of required type|of non-null type)/;

export function maskError(error: unknown): Error {
  const original = originalOf(error);
  if (hasCode(error)) return error as GraphQLError;
  if (hasCode(original)) return original as GraphQLError;
  if (error instanceof GraphQLError && VARIABLE_COERCION.test(error.message)) {
    return new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT' } });
  }
  if (error instanceof GraphQLError && !error.originalError) return error;
  if (isDatabaseUnavailable(original)) return serviceUnavailable();
  if (isDeletedAccountWrite(original)) return unauthenticated('This account no longer exists');
  const requestId = (original && typeof original === 'object' && requestIdOfError.get(original)) || undefined;
  return new GraphQLError(`Unexpected error${requestId ? `; request id ${requestId}` : ''}`, {
    extensions: { code: 'INTERNAL_SERVER_ERROR', requestId },
  });
}

/** Logs every unexpected error with its request id before yoga masks it. */
export function useErrorReporting(): Plugin<Context> {
  return {
    onExecute({ args }) {
      return {
        onExecuteDone({ result }) {
          if (!('errors' in result) || !result.errors) return;
          const context = args.contextValue;
          for (const error of result.errors) {
            const original = originalOf(error);
            if (hasCode(error) || hasCode(original) || isDeletedAccountWrite(original)) continue;
            if (original && typeof original === 'object') requestIdOfError.set(original, context.requestId);
            if (isDatabaseUnavailable(original)) {
              context.logger.warn({ err: original, path: error.path }, 'database unavailable');
            } else {
              context.logger.error({ err: original, path: error.path }, 'unexpected error');
            }
          }
        },
      };
    },
  };
}
