import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

// A webhook receiver on loopback: it keeps every request it gets, checks each signature against the
// secret it is given, and answers as the test tells it to.

export interface ReceivedDelivery {
  id: string;
  event: string;
  occurredAt: string;
  data: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
  /** Whether X-Tasks-Signature is the HMAC of timestamp + "." + body with the secret. */
  signed: boolean;
  /** The status the receiver answered; 0 for a request it held open without answering. */
  answered: number;
}

export interface Receiver {
  url: string;
  received: ReceivedDelivery[];
  /** Deliveries answered 2xx, in the order they arrived. */
  accepted(): ReceivedDelivery[];
  setSecret(secret: string): void;
  /** How the next request is answered: a status (after an optional delay), or never (the request hangs). */
  answerWith(answer: (request: number) => { status: number; delayMs?: number; location?: string } | 'hang'): void;
  /** Resolves once `predicate` holds for what was received, or rejects after `timeoutMs`. */
  waitFor(predicate: (received: ReceivedDelivery[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Resolves when a request arrives that is held open ('hang'). */
  hanging(): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  let secret = '';
  let answer: Parameters<Receiver['answerWith']>[0] = () => ({ status: 200 });
  const received: ReceivedDelivery[] = [];
  const waiters = new Set<() => void>();
  let onHang: (() => void) | undefined;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const expected = `sha256=${createHmac('sha256', secret).update(`${request.headers['x-tasks-timestamp']}.${body}`).digest('hex')}`;
      const given = String(request.headers['x-tasks-signature'] ?? '');
      const signed = given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
      const decided = answer(received.length);
      const parsed = JSON.parse(body) as Omit<ReceivedDelivery, 'headers' | 'signed' | 'answered'>;
      if (decided === 'hang') {
        received.push({ ...parsed, headers: request.headers, signed, answered: 0 });
        onHang?.();
        return;
      }
      const reply = () => {
        received.push({ ...parsed, headers: request.headers, signed, answered: decided.status });
        response.writeHead(decided.status, decided.location ? { location: decided.location } : {});
        response.end('a body the server must not keep');
        for (const wake of waiters) wake();
      };
      if (decided.delayMs) setTimeout(reply, decided.delayMs);
      else reply();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    accepted: () => received.filter((delivery) => delivery.answered >= 200 && delivery.answered < 300),
    setSecret: (value) => (secret = value),
    answerWith: (next) => (answer = next),
    waitFor(predicate, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(received)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms with ${received.length} deliveries: ${received.map((d) => `${d.event}:${d.answered}`).join(', ')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    hanging: () => new Promise<void>((resolve) => (onHang = resolve)),
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => {});
    },
  };
}
