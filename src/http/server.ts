import { createServer, type RequestListener, type Server } from 'node:http';
import type { App } from '../app.js';
import { attachWebSocket, type WebSocketTransport } from './websocket.js';

// The listener `npm start` serves: node:http with the direct-read seam in front of yoga, and
// graphql-ws on the same path. The tests start this very server on a loopback port.

export interface HttpServer {
  server: Server;
  webSocket: WebSocketTransport;
}

/** `listener` is the app's own unless the caller wraps it (the tests attribute statements to requests). */
export function createHttpServer(app: App, listener: RequestListener = app.httpListener): HttpServer {
  const server = createServer(listener);
  return { server, webSocket: attachWebSocket(server, app) };
}
