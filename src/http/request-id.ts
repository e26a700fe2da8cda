import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';

// Every request gets an id: the caller's X-Request-Id when it is sane, else a new one. It is echoed
// in the response header, put in every log line and in masked errors, so a user's report can be
// matched with the log.

const requestIds = new WeakMap<Request, string>();
export const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

export function requestIdOf(request: Request): string {
  let id = requestIds.get(request);
  if (!id) {
    const offered = request.headers.get('x-request-id');
    id = offered && SANE_REQUEST_ID.test(offered) ? offered : randomUUID();
    requestIds.set(request, id);
  }
  return id;
}

/** A request rebuilt from another (e.g. with its body buffered) keeps the original's id. */
export function adoptRequestId(original: Request, rebuilt: Request): void {
  requestIds.set(rebuilt, requestIdOf(original));
}

export function useRequestId(): Plugin {
  return {
    onResponse({ request, response }) {
      response.headers.set('x-request-id', requestIdOf(request));
    },
  };
}
