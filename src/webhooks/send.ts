import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { guardedLookup, isPublicAddress, RefusedAddressError, type Resolve } from './address-guard.js';

// One delivery attempt: a POST that counts as delivered on a 2xx answer within the timeout. Redirects
// are answers like any other (a 3xx is a failure, never followed), and the answer's body is read
// and thrown away, never stored.

export interface Attempt {
  /** The HTTP status, or null when there was no answer (refused address, connection error, timeout). */
  status: number | null;
  delivered: boolean;
  /** Why there was no answer. */
  error?: string;
}

export interface Sender {
  send(url: string, headers: Record<string, string>, body: string): Promise<Attempt>;
  close(): void;
}

export function createSender(options: { allowPrivate: boolean; timeoutMs: number; resolve?: Resolve }): Sender {
  const lookup = guardedLookup(options);
  // Kept-alive connections: a backlog to one receiver does not pay a handshake per delivery.
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 4, lookup }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 4, lookup }),
  };

  function send(raw: string, headers: Record<string, string>, body: string): Promise<Attempt> {
    const url = new URL(raw);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    // An IP literal is connected to without a lookup: checked here instead.
    if (isIP(host) && !options.allowPrivate && !isPublicAddress(host)) {
      return Promise.resolve({ status: null, delivered: false, error: new RefusedAddressError(`webhook address ${host} is not public`).message });
    }
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      const request = transport.request(url, {
        method: 'POST',
        agent: agents[url.protocol as 'http:' | 'https:'],
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'tasks-api-webhooks', ...headers },
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        resolve({ status, delivered: status >= 200 && status < 300 });
        // Drained so that the connection can be kept; a body still streaming at the timeout is cut off.
        response.on('error', () => {});
        response.resume();
      });
      request.on('error', (error) =>
        resolve({ status: null, delivered: false, error: error.name === 'AbortError' ? `no answer within ${options.timeoutMs} ms` : error.message }),
      );
      request.end(body);
    });
  }

  return {
    send,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
