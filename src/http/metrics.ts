import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import type { Plugin } from 'graphql-yoga';
import type pg from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { DirectReadOutcome } from '../execution/direct-task-reads.js';

/**
 * Prometheus metrics at GET /metrics: HTTP and GraphQL request counts and durations per operation,
 * errors per operation and phase, the database pool, the direct task reads' outcomes, and the process
 * (CPU, memory, event loop).
 * One registry per app instance, so several apps in one process (tests) do not collide.
 */
export function createMetrics(pool: pg.Pool, statementCount: () => number): { plugin: Plugin; countDirectRead: (outcome: DirectReadOutcome) => void } {
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
    help: 'Task reads with a direct plan: answered by it (direct) or handed to graphql-js (graphql: bad input, a backward page, no viewer)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const plugin = usePrometheus({
    endpoint: '/metrics',
    registry,
    // Every metric is named: the plugin's defaults switch on per-phase histograms, a t-digest summary
    // and a walk of each document for deprecated fields, which together cost ~10% of a small
    // request's CPU (measured with npm run bench -- --profile). Request counts and durations per
    // operation and errors per phase answer the operational questions.
    metrics: {
      graphql_yoga_http_duration: true,
      graphql_envelop_request: true,
      graphql_envelop_request_duration: true,
      graphql_envelop_error_result: true,
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
  return { plugin, countDirectRead: (outcome) => directReads.inc({ outcome }) };
}
