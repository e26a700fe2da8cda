import { createCounter, createHistogram, usePrometheus } from '@graphql-yoga/plugin-prometheus';
import type { Plugin } from 'graphql-yoga';
import type pg from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { DirectReadOutcome } from '../execution/direct-reads.js';

/** Operation names a process labels its metrics with; later ones are counted as "other". */
const MAX_OPERATION_NAMES = 100;

/**
 * Operation names are chosen by clients, and every label value is a series kept for the life of the
 * process: without a bound, a client sending a new name per request grows the server's memory
 * without end. The first names seen are kept (an app's operations are a small fixed set).
 */
function boundedOperationNames(limit: number): (name: string | undefined) => string {
  const seen = new Set<string>();
  return (name) => {
    if (!name) return 'Anonymous';
    if (seen.has(name)) return name;
    if (seen.size >= limit) return 'other';
    seen.add(name);
    return name;
  };
}

/**
 * Prometheus metrics at GET /metrics: request counts and durations per operation and status,
 * errors per operation and phase, the database pool, the direct task reads' outcomes, and the process
 * (CPU, memory, event loop).
 * One registry per app instance, so several apps in one process (tests) do not collide.
 */
export interface Metrics {
  plugin: Plugin;
  countDirectRead(outcome: DirectReadOutcome, via?: 'yoga' | 'http'): void;
  /** What the plugin observes for a request yoga answers, for one answered before yoga (src/http/direct-read-requests.ts). */
  observeRequest(labels: { operationName: string | undefined; operationType: string; method: string; statusCode: number }, seconds: number): void;
}

export function createMetrics(pool: pg.Pool, statementCount: () => number): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'tasks_api_db_pool_connections',
    help: 'Connections of the database pool by state (total, idle, waiting requests)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
  new Counter({
    name: 'tasks_api_db_statements_total',
    help: 'SQL statements sent to the database (including BEGIN/COMMIT)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(statementCount());
    },
  });
  const directReads = new Counter({
    name: 'tasks_api_direct_reads_total',
    help: 'Task reads with a direct plan: answered by it (direct) or handed to graphql-js (graphql: bad input, a backward page, no viewer); via http when answered before yoga\'s pipeline',
    labelNames: ['outcome', 'via'],
    registers: [registry],
  });
  const operationName = boundedOperationNames(MAX_OPERATION_NAMES);
  const httpDuration = createHistogram({
    registry,
    histogram: {
      name: 'graphql_yoga_http_duration',
      help: 'Requests and their duration in seconds, by operation and HTTP status',
      labelNames: ['operationName', 'operationType', 'method', 'statusCode'],
    },
    fillLabelsFn: (params, { request, response }: { request: Request; response: Response }) => ({
      operationName: operationName(params.operationName),
      operationType: params.operationType ?? 'unknown',
      method: request.method,
      statusCode: response.status,
    }),
    phases: ['request'] as ['request'],
  });
  const plugin = usePrometheus({
    endpoint: '/metrics',
    registry,
    // Every metric is named: the plugin's defaults switch on per-phase histograms, a t-digest summary
    // and a walk of each document for deprecated fields, which together are a visible share of a
    // small request's CPU in a profile (npm run bench -- --profile). One histogram of requests (its _count
    // is the request count) and one counter of errors answer the operational questions; the plugin's
    // own request counter and duration histogram measured the same requests again.
    // Labels are bounded: no URL (query strings are the client's), no error path (aliases are).
    metrics: {
      graphql_yoga_http_duration: httpDuration,
      graphql_envelop_error_result: createCounter({
        registry,
        counter: {
          name: 'graphql_envelop_error_result',
          help: 'Errors in results, by operation and phase',
          labelNames: ['operationName', 'operationType', 'phase'],
        },
        fillLabelsFn: (params) => ({
          operationName: operationName(params.operationName),
          operationType: params.operationType ?? 'unknown',
          phase: params.errorPhase ?? 'unknown',
        }),
        phases: ['parse', 'validate', 'context', 'execute', 'subscribe'],
      }),
      graphql_envelop_request: false,
      graphql_envelop_request_duration: false,
      graphql_envelop_deprecated_field: false,
      graphql_envelop_request_time_summary: false,
      graphql_envelop_phase_parse: false,
      graphql_envelop_phase_validate: false,
      graphql_envelop_phase_context: false,
      graphql_envelop_phase_execute: false,
      graphql_envelop_phase_subscribe: false,
      graphql_envelop_schema_change: false,
      graphql_envelop_execute_resolver: false,
    },
  });
  return {
    plugin,
    countDirectRead: (outcome, via = 'yoga') => directReads.inc({ outcome, via }),
    observeRequest: (labels, seconds) => httpDuration.histogram.observe({ ...labels, operationName: operationName(labels.operationName) }, seconds),
  };
}
