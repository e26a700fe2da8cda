import type { Plugin } from 'graphql-yoga';
import { adoptRequestId } from './request-id.js';

// Requests refused before anything executes them.

export const MAX_BODY_BYTES = 1_000_000;

function refusal(fetchAPI: { Response: typeof Response }, status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** The body, or null as soon as it grows past `maxBytes` (the rest is never read). */
async function readAtMost(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array | null> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/**
 * A body over `maxBytes` is refused with 413: by its declared length before reading it, or, for a
 * body without one (streamed), as soon as that many bytes have arrived.
 */
export function useBodyLimit(maxBytes = MAX_BODY_BYTES): Plugin {
  const tooLarge = (fetchAPI: { Response: typeof Response }, headers?: Record<string, string>) =>
    refusal(fetchAPI, 413, 'BAD_REQUEST', `Request body over ${maxBytes} bytes`, headers);
  return {
    async onRequest({ request, setRequest, endResponse, fetchAPI }) {
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        if (Number(declared) > maxBytes) endResponse(tooLarge(fetchAPI));
        return;
      }
      if (!request.body) return;
      const body = await readAtMost(request.body, maxBytes);
      // Cancelling the unread rest of the body resets the connection after this answer. Said so, a
      // client opens a new one; unsaid, it sends its next request on this one and sees it fail.
      if (body === null) return endResponse(tooLarge(fetchAPI, { connection: 'close' }));
      const buffered = new fetchAPI.Request(request.url, { method: request.method, headers: request.headers, body: body as unknown as BodyInit });
      adoptRequestId(request, buffered);
      setRequest(buffered);
    },
  };
}

const ANSWERABLE = /(^|[\s,])(\*\/\*|application\/\*|application\/json|application\/graphql-response\+json|text\/event-stream|multipart\/mixed|text\/html)/i;

/**
 * An Accept header we cannot answer: refused before execution. yoga would otherwise run a mutation
 * and only then find it has no acceptable format, leaving the client with a 406 and a write it
 * never heard of.
 */
export function useAcceptableResponse(): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      const accept = request.headers.get('accept');
      if (accept && accept.trim() !== '' && !ANSWERABLE.test(accept)) {
        endResponse(refusal(fetchAPI, 406, 'BAD_REQUEST', 'Accept one of application/json, application/graphql-response+json, text/event-stream'));
      }
    },
  };
}

