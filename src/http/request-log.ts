import { getOperationAST, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import type { Logger } from '../logger.js';
import { clientCodeOf } from './errors.js';
import { requestIdOf } from './request-id.js';

const codesOf = (result: ExecutionResult) => (result.errors ?? []).map(clientCodeOf);
const isStream = (result: object): result is AsyncIterable<unknown> => Symbol.asyncIterator in result;

/**
 * One log line per GraphQL operation: request id, operation, duration and the error codes it answered.
 * An operation that never executed (a document that does not parse or validate) and a request refused
 * before it had operations (a body that is not JSON, no CSRF header) get one 'graphql request refused'
 * line instead, at info: they are the client's mistakes.
 */
export function useRequestLog(logger: Logger): Plugin<Context> {
  const executed = new WeakSet<object>();
  const logged = new WeakSet<Request>();
  const refused = (request: Request, errorCodes: string[]) => {
    logged.add(request);
    logger.info({ requestId: requestIdOf(request), errorCodes }, 'graphql request refused');
  };
  return {
    onExecute({ args }) {
      const started = performance.now();
      executed.add(args.contextValue);
      return {
        onExecuteDone({ result }) {
          const context = args.contextValue;
          context.logger.info(
            {
              // Clients need not send operationName; the document names the operation anyway.
              operationName: args.operationName ?? getOperationAST(args.document, args.operationName)?.name?.value ?? null,
              durationMs: Math.round((performance.now() - started) * 10) / 10,
              viewerId: context.viewer?.id ?? null,
              errorCodes: 'errors' in result ? codesOf(result) : [],
            },
            'graphql operation',
          );
        },
      };
    },
    onExecutionResult({ request, result, context }) {
      logged.add(request);
      if (executed.has(context) || !result || isStream(result) || !result.errors?.length) return;
      refused(request, codesOf(result));
    },
    onResultProcess({ request, result }) {
      if (logged.has(request) || isStream(result)) return;
      const errorCodes = (Array.isArray(result) ? result : [result]).flatMap(codesOf);
      if (errorCodes.length > 0) refused(request, errorCodes);
    },
  };
}
