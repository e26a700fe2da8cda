import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { createContext, type AppServices, type Context } from '../context.js';
import { answerPlan, type DirectReads } from '../execution/direct-reads.js';
import type { Metrics } from './metrics.js';
import { MAX_BODY_BYTES } from './request-guards.js';
import { SANE_REQUEST_ID } from './request-id.js';

// yoga wraps every request in Fetch API objects and runs its plugins' hooks around execution: for
// the task list, more CPU than the read itself (npm run bench -- --profile). A POST /graphql whose
// query text yoga has already parsed, validated and planned as a direct read is answered here with
// what yoga would send: the same body, status and headers, the same metric, log line and request id.
// Any request that is not plainly such a read (another path or method, CORS, an unusual Accept, a
// body yoga would refuse, bad input, no viewer) goes to yoga unchanged, its body already read.

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface DirectReadRequestOptions {
  schema: GraphQLSchema;
  reads: DirectReads;
  services: AppServices;
  metrics: Metrics;
  /** With CORS on, a request with an Origin gets yoga (its CORS headers). */
  corsEnabled: boolean;
  yoga: NodeHandler;
}

/** yoga's choice for a result that is not a stream: the last of its two JSON types matched by the earliest Accept entry. */
export function jsonMediaType(accept: string | undefined): string | null {
  let chosen: string | null = null;
  const entries = (accept || '*/*').replace(/\s/g, '').toLowerCase().split(',').reverse();
  for (const entry of entries) {
    const [mediaType = '', ...parameters] = entry.split(';');
    const charset = parameters.find((parameter) => parameter.includes('charset=')) ?? 'charset=utf-8';
    if (charset !== 'charset=utf-8') continue;
    const [type, subtype] = mediaType.split('/');
    for (const candidate of ['application/graphql-response+json', 'application/json']) {
      const [candidateType, candidateSubtype] = candidate.split('/');
      if ((type === '*' || type === candidateType) && (subtype === '*' || subtype === candidateSubtype)) chosen = candidate;
    }
  }
  return chosen;
}

interface Params {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
}

const PARAM_KEYS = new Set(['query', 'variables', 'operationName']);

/** The body as yoga would accept it without complaint, or null (yoga then answers, refusals included). */
function paramsOf(body: Buffer): Params | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const params = parsed as Record<string, unknown>;
  if (Object.keys(params).some((key) => !PARAM_KEYS.has(key)) || typeof params.query !== 'string') return null;
  const { variables, operationName } = params;
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return null;
  if (operationName != null && typeof operationName !== 'string') return null;
  return params as unknown as Params;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The Fetch API view of the request that the context reads: its headers. */
function headersOf(req: IncomingMessage): Request {
  const get = (name: string) => {
    const value = req.headers[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  };
  return { method: req.method, url: req.url, headers: { get, has: (name: string) => get(name) !== null } } as unknown as Request;
}

export function createDirectReadRequests(options: DirectReadRequestOptions): NodeHandler {
  const { schema, reads, services, metrics, corsEnabled, yoga } = options;

  const isCandidate = (req: IncomingMessage): string | null => {
    if (req.method !== 'POST' || req.url !== '/graphql') return null;
    const { headers } = req;
    if (corsEnabled && headers.origin !== undefined) return null;
    if (headers['content-type'] !== 'application/json' || headers['transfer-encoding'] !== undefined) return null;
    const length = Number(headers['content-length']);
    if (!Number.isInteger(length) || length <= 0 || length > MAX_BODY_BYTES) return null;
    return jsonMediaType(headers.accept);
  };

  const toYoga = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    // whatwg-node reads a body already consumed from req.body (as behind Express' body parsers).
    (req as IncomingMessage & { body?: Buffer }).body = body;
    yoga(req, res);
  };

  async function answer(req: IncomingMessage, res: ServerResponse, mediaType: string, body: Buffer): Promise<void> {
    const started = Date.now();
    const params = paramsOf(body);
    const known = params && reads.knownRead(params.query);
    if (!params || !known) return toYoga(req, res, body);
    const operationName = known.plan.operation.name?.value;
    if (params.operationName != null && params.operationName !== operationName) return toYoga(req, res, body);

    const offeredId = req.headers['x-request-id'];
    const requestId = typeof offeredId === 'string' && SANE_REQUEST_ID.test(offeredId) ? offeredId : randomUUID();
    let context: Context;
    try {
      context = await createContext({ request: headersOf(req), requestId, req, params } as never, services);
    } catch {
      return toYoga(req, res, body); // a token that does not verify: yoga answers UNAUTHENTICATED
    }
    if (!context.viewer) return toYoga(req, res, body);

    const executing = performance.now();
    const answered = await answerPlan(schema, services.reads, known.plan, {
      schema,
      document: known.document,
      contextValue: context,
      variableValues: params.variables ?? undefined,
      operationName: params.operationName ?? undefined,
    });
    if (answered === null) return toYoga(req, res, body);
    if (!('dataJson' in answered)) {
      // A database failure: yoga reports it (masking, status) from this result, without reading again.
      reads.settle(req, answered);
      return toYoga(req, res, body);
    }
    const durationMs = Math.round((performance.now() - executing) * 10) / 10;
    const response = `{"data":${answered.dataJson}}`;
    res.writeHead(200, {
      'content-type': `${mediaType}; charset=utf-8`,
      'content-length': Buffer.byteLength(response),
      'x-request-id': requestId,
    });
    res.end(response);
    metrics.countDirectRead('direct', 'http');
    metrics.observeRequest({ operationName, operationType: 'query', method: 'POST', statusCode: 200 }, (Date.now() - started) / 1000);
    context.logger.info(
      { operationName: params.operationName ?? operationName ?? null, durationMs, viewerId: context.viewer.id, errorCodes: [] },
      'graphql operation',
    );
  }

  return (req, res) => {
    const mediaType = isCandidate(req);
    if (mediaType === null) return yoga(req, res);
    readBody(req)
      .then((body) =>
        answer(req, res, mediaType, body).catch((error: unknown) => {
          services.logger.error({ err: error }, 'direct read request failed');
          if (!res.headersSent) toYoga(req, res, body);
        }),
      )
      .catch(() => req.destroy());
  };
}
