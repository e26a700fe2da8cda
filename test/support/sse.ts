import { print, type ExecutionResult } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';

// A GraphQL subscription over Server-Sent Events, as a browser's EventSource-style client sends it:
// POST /graphql with Accept: text/event-stream, then one `event: next` per result on the open body.

export interface SseSubscription<Result> {
  status: number;
  /** Every result received so far. */
  readonly results: ExecutionResult<Result>[];
  /** The next result not yet taken by next(); rejects after timeoutMs. */
  next(timeoutMs?: number): Promise<ExecutionResult<Result>>;
  /** Resolves when the server ends the stream (`event: complete`). */
  readonly completed: Promise<void>;
  close(): Promise<void>;
}

export async function subscribeOverSse<Result, Variables>(
  app: { fetch(path: string, init?: RequestInit): Promise<Response> },
  document: TypedDocumentNode<Result, Variables>,
  options: { token?: string; headers?: Record<string, string>; variables?: Variables } = {},
): Promise<SseSubscription<Result>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream', ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await app.fetch('/graphql', {
    method: 'POST',
    headers,
    body: JSON.stringify({ query: print(document), variables: options.variables }),
  });

  const results: ExecutionResult<Result>[] = [];
  let taken = 0;
  let waiting: (() => void)[] = [];
  const notify = () => {
    for (const wake of waiting) wake();
    waiting = [];
  };
  let markCompleted = () => {};
  const completed = new Promise<void>((resolve) => (markCompleted = resolve));

  const contentType = response.headers.get('content-type') ?? '';
  const reader = contentType.includes('text/event-stream') ? response.body?.getReader() : undefined;
  if (!reader) {
    // An error before the stream started comes back as one plain result.
    results.push((await response.json()) as ExecutionResult<Result>);
    markCompleted();
  } else {
    void readEvents(reader, (event, data) => {
      if (event === 'next') results.push(JSON.parse(data) as ExecutionResult<Result>);
      if (event === 'complete') markCompleted();
      notify();
    }).finally(() => {
      markCompleted();
      notify();
    });
  }

  return {
    status: response.status,
    results,
    completed,
    async next(timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (results.length <= taken) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new Error(`no subscription result within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, remaining);
          waiting.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return results[taken++]!;
    },
    async close() {
      // Cancelling the body ends the server's iterator, which unsubscribes from the pubsub.
      await reader?.cancel().catch(() => {});
    },
  };
}

async function readEvents(reader: ReadableStreamDefaultReader<Uint8Array>, onEvent: (event: string, data: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        // Lines starting with ':' are keep-alive comments.
        const lines = block.split('\n').filter((line) => !line.startsWith(':'));
        const event = lines.find((line) => line.startsWith('event:'))?.slice(6).trim();
        const data = lines
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n');
        if (event) onEvent(event, data);
      }
    }
  } catch {
    // Cancelled by close().
  }
}
