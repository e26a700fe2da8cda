import { GraphQLError } from 'graphql';
import type { Plugin, YogaLogger } from 'graphql-yoga';
import type { Context } from '../context.js';
import type { Logger } from '../logger.js';
import { isDatabaseUnavailable, isUnstorableText, violatedForeignKey } from '../db/errors.js';
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
const TOO_COMPLEX = /(depth|alias|directive|token|cost).*(limit|exceeded)|(limit|exceeded).*(depth|alias|directive|token|cost)/i;

/** A client-facing copy: our message and code, the HTTP status kept, nothing internal attached. */
function clientError(source: GraphQLError, code: string, message = source.message, http = source.extensions?.http): GraphQLError {
  return new GraphQLError(message, { nodes: source.nodes, path: source.path, extensions: { code, ...(http ? { http } : {}) } });
}

/** Errors about the request itself, raised by graphql-js, yoga or its plugins before execution. */
function requestErrorCode(message: string): string {
  if (TOO_COMPLEX.test(message)) return 'QUERY_TOO_COMPLEX';
  if (message.startsWith('Syntax Error')) return 'GRAPHQL_PARSE_FAILED';
  if (/CSRF/i.test(message)) return 'BAD_REQUEST';
  return 'GRAPHQL_VALIDATION_FAILED';
}

export function maskError(error: unknown): Error {
  const original = originalOf(error);
  const source = error instanceof GraphQLError ? error : undefined;
  if (hasCode(error) || hasCode(original)) {
    const coded = (hasCode(error) ? error : original) as GraphQLError;
    if (!coded.extensions.originalError) return coded;
    // yoga attaches the JSON parser's error (which quotes the body); the client needs only our words.
    // That attachment is also how yoga's result processor tells a body that is not JSON (its status for
    // every Accept) from GraphQL request errors, whose status (`http.spec`) application/json clients do
    // not get. Without it the copy must state its status plainly, or a bad body would answer 200.
    const { spec: _forGraphQLResponseOnly, ...http } = (coded.extensions.http ?? {}) as Record<string, unknown>;
    return clientError(coded, coded.extensions.code as string, coded.message, http);
  }
  if (source) {
    // Input problems reported without a code: a variable that does not fit its type, or (below) a
    // connection argument Pothos refuses (first: -1, first together with before).
    if (VARIABLE_COERCION.test(source.message)) return clientError(source, 'BAD_USER_INPUT');
    // Before the next test, which an error without an originalError also passes (it is its own original).
    if (!source.originalError) return clientError(source, requestErrorCode(source.message));
    if (original instanceof GraphQLError || (original as Error | undefined)?.name === 'PothosValidationError') {
      return clientError(source, 'BAD_USER_INPUT', (original as Error).message);
    }
  }
  if (original instanceof SyntaxError) {
    return new GraphQLError(`Malformed request: ${original.message}`, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
  }
  if (isDatabaseUnavailable(original)) return serviceUnavailable();
  if (isDeletedAccountWrite(original)) return unauthenticated('This account no longer exists');
  if (isUnstorableText(original)) {
    return new GraphQLError('Text must not contain NUL (\\u0000) characters', { extensions: { code: 'BAD_USER_INPUT' } });
  }
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
            if (hasCode(error) || hasCode(original) || isDeletedAccountWrite(original) || isUnstorableText(original) || original instanceof GraphQLError) continue;
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

/** The code a client is told for an error, whether or not it has been masked yet. */
export function clientCodeOf(error: unknown): string {
  const code = error instanceof GraphQLError ? error.extensions?.code : undefined;
  return typeof code === 'string' ? code : ((maskError(error) as GraphQLError).extensions.code as string);
}

const SERVER_FAILURES = new Set(['INTERNAL_SERVER_ERROR', 'SERVICE_UNAVAILABLE']);

/**
 * yoga's logger on pino. yoga logs at error every error its masking replaced, a second time when the
 * error ended the request before execution, and with no request id. A client's mistake is already the
 * request log's line (src/http/request-log.ts), so yoga's copy goes to debug; a failure of ours that
 * useErrorReporting logged with its request id is not logged again.
 */
export function yogaLogger(logger: Logger): YogaLogger {
  const logged = new WeakSet<object>();
  return {
    debug: (...args) => logger.debug({ args }, 'yoga'),
    info: (...args) => logger.info({ args }, 'yoga'),
    warn: (...args) => logger.warn({ args }, 'yoga'),
    error: (...args) => {
      const [error] = args;
      if (args.length !== 1 || !error || typeof error !== 'object') return logger.error({ args }, 'yoga');
      if (logged.has(error)) return;
      logged.add(error);
      if (!SERVER_FAILURES.has(clientCodeOf(error))) return logger.debug({ err: error }, 'yoga: client error');
      const original = originalOf(error);
      if (original && typeof original === 'object' && requestIdOfError.has(original)) return;
      logger.error({ err: error }, 'yoga');
    },
  };
}
