import type { IncomingMessage, Server } from 'node:http';
import type { ExecutionArgs } from 'graphql';
import { GraphQLError } from 'graphql';
import type { OperationResult } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { App } from '../app.js';

// GraphQL over WebSocket (the graphql-ws protocol) on the same path as HTTP, for clients that prefer it
// to Server-Sent Events. Operations run through yoga's envelop, so plugins, error masking and auth
// behave exactly as over HTTP.

export interface WebSocketTransport {
  /** Closes every socket (1001 Going Away) and stops accepting upgrades. */
  close(): Promise<void>;
}

// yoga's enveloped execute and subscribe, handed from onSubscribe to execute/subscribe via rootValue.
interface ExecutorRoot {
  execute(args: ExecutionArgs): OperationResult;
  subscribe(args: ExecutionArgs): OperationResult;
}

/**
 * The context factory authenticates a Fetch Request. A browser cannot set headers on a WebSocket, so
 * its token comes in connection_init's payload (`{ authorization: "Bearer …" }`); this request carries
 * it, or else the upgrade request's own Authorization header (non-browser clients).
 */
export function requestForSocket(upgrade: IncomingMessage, connectionParams: Readonly<Record<string, unknown>> | undefined, path: string): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(upgrade.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) headers.set(name, value.join(', '));
  }
  const authorization = connectionParams?.authorization ?? connectionParams?.Authorization;
  if (typeof authorization === 'string') headers.set('authorization', authorization);
  return new Request(new URL(path, `http://${headers.get('host') ?? 'localhost'}`), { headers });
}

export function attachWebSocket(server: Server, yoga: App): WebSocketTransport {
  const path = yoga.graphqlEndpoint;
  const webSocketServer = new WebSocketServer({ server, path });
  const graphqlWs = useServer(
    {
      execute: (args) => (args.rootValue as ExecutorRoot).execute(args),
      subscribe: (args) => (args.rootValue as ExecutorRoot).subscribe(args),
      onSubscribe: async (context, _id, payload) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...context,
          req: context.extra.request,
          socket: context.extra.socket,
          request: requestForSocket(context.extra.request, context.connectionParams, path),
          params: payload,
        });
        let args: ExecutionArgs;
        try {
          args = {
            schema,
            operationName: payload.operationName,
            document: parse(payload.query),
            variableValues: payload.variables,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe } as ExecutorRoot,
          };
        } catch (error) {
          // A syntax error or a bad token (UNAUTHENTICATED): an error for this operation, as over HTTP,
          // rather than a closed socket.
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const errors = validate(args.schema, args.document);
        return errors.length > 0 ? errors : args;
      },
    },
    webSocketServer,
  );
  return {
    async close() {
      await graphqlWs.dispose();
    },
  };
}
