import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';

/** One log line per GraphQL operation: request id, operation, duration and the error codes it answered. */
export function useRequestLog(): Plugin<Context> {
  return {
    onExecute({ args }) {
      const started = performance.now();
      return {
        onExecuteDone({ result }) {
          const context = args.contextValue;
          const errors = 'errors' in result && result.errors ? result.errors : [];
          context.logger.info(
            {
              // Clients need not send operationName; the document names the operation anyway.
              operationName: args.operationName ?? getOperationAST(args.document, args.operationName)?.name?.value ?? null,
              durationMs: Math.round((performance.now() - started) * 10) / 10,
              viewerId: context.viewer?.id ?? null,
              errorCodes: errors.map((error) => (error.extensions?.code as string | undefined) ?? 'INTERNAL_SERVER_ERROR'),
            },
            'graphql operation',
          );
        },
      };
    },
  };
}
