import { createServer, type Server } from 'node:http';
import type { App } from '../app.js';
import { attachWebSocket, type WebSocketTransport } from './websocket.js';

// The listener `npm start` serves: node:http with the direct-read seam in front of yoga, and
// graphql-ws on the same path. The tests start this very server on a loopback port.

export interface HttpServer {
  server: Server;
  webSocket: WebSocketTransport;
}

export function createHttpServer(app: App): HttpServer {
  const server = createServer(app.httpListener);
  return { server, webSocket: attachWebSocket(server, app) };
}
