// The results table (console and markdown), the targets it is held against, and the files in
// bench/results/: latest.md and latest.json, overwritten by each run (git history keeps the earlier ones).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SCENARIO_TITLES, type ScenarioName, type TargetKind } from './scenarios.js';

export interface Row {
  scenario: ScenarioName;
  target: TargetKind;
  connections: number;
  /** Paced runs (S6): the requested rate. */
  rate?: number;
  seconds: number;
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  errorDetail: { non2xx: number; socket: number; timeouts: number; body: number; statusCodes: Record<string, number> };
  sqlPerRequest: number | null;
  sqlSource: 'metric' | 'pg counter' | 'by construction' | null;
  /** Target process CPU, % of one core, averaged over the window. */
  cpuPercent: number | null;
  peakRssMb: number | null;
  /** The embedded PostgreSQL (postmaster and backends), % of one core; null with DATABASE_URL. */
  dbCpuPercent: number | null;
  /** The runner itself (load generator), % of one core. */
  loadgenCpuPercent: number;
  throughputRatio?: number;
  p95Ratio?: number;
  notes?: string[];
}

export interface Check {
  name: string;
  ok: boolean | null;
  detail: string;
}

export interface Report {
  startedAt: string;
  finishedAt: string;
  mode: 'quick' | 'full' | 'custom';
  environment: Record<string, string | number>;
  rows: Row[];
  checks: Check[];
  notes: string[];
  profile?: { file: string; summary: string };
}

const fixed = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);

const ms = (value: number) => fixed(value, value < 10 ? 2 : 1);

export function addRatios(rows: Row[]): void {
  for (const row of rows) {
    if (row.target !== 'api') continue;
    const floor = rows.find((other) => other.scenario === row.scenario && other.target === 'floor');
    if (!floor) continue;
    if (floor.rps > 0) row.throughputRatio = row.rps / floor.rps;
    if (floor.p95 > 0) row.p95Ratio = row.p95 / floor.p95;
  }
}

const HEADER = ['scenario', 'target', 'load', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'SQL stmts/req', 'server CPU %', 'peak RSS MB', 'db CPU %', 'req/s api/floor', 'p95 api/floor'];

function cells(row: Row): string[] {
  return [
    row.scenario,
    row.target,
    row.rate ? `${row.connections} conn @ ${row.rate}/s` : `${row.connections} conn`,
    fixed(row.rps, 0),
    ms(row.p50),
    ms(row.p95),
    ms(row.p99),
    String(row.errors),
    row.sqlSource === 'by construction' ? '1' : fixed(row.sqlPerRequest, 2),
    fixed(row.cpuPercent, 0),
    fixed(row.peakRssMb, 0),
    fixed(row.dbCpuPercent, 0),
    row.target === 'api' ? (row.throughputRatio === undefined ? '–' : `${row.throughputRatio.toFixed(2)}×`) : '',
    row.target === 'api' ? (row.p95Ratio === undefined ? '–' : `${row.p95Ratio.toFixed(2)}×`) : '',
  ];
}

/** A markdown table with padded columns, readable as plain text too. */
export function table(rows: Row[]): string {
  const body = rows.map(cells);
  const widths = HEADER.map((title, column) => Math.max(title.length, ...body.map((line) => line[column]!.length)));
  const numeric = (column: number) => column >= 3;
  const line = (values: string[]) =>
    `| ${values.map((value, column) => (numeric(column) ? value.padStart(widths[column]!) : value.padEnd(widths[column]!))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (numeric(column) ? `${'-'.repeat(width + 1)}:` : '-'.repeat(width + 2))).join('|')}|`;
  return [line(HEADER), rule, ...body.map(line)].join('\n');
}

export function evaluate(rows: Row[], expectedConnections: number): Check[] {
  const checks: Check[] = [];
  const api = (scenario: ScenarioName) => rows.find((row) => row.scenario === scenario && row.target === 'api');
  // The targets of the issues that shaped each scenario: reads at the floor's pace, writes within reach.
  const throughput: Array<[ScenarioName, number]> = [['S1', 0.9], ['S2', 0.9], ['S3', 0.6], ['S4', 0.5], ['S5', 0.9], ['S7', 0.9], ['S8', 0.6]];
  for (const [scenario, target] of throughput) {
    const row = api(scenario);
    if (!row) continue;
    const ratio = row.throughputRatio;
    checks.push({
      name: `${scenario} throughput ≥ ${target}× floor`,
      ok: ratio === undefined ? null : ratio >= target,
      detail: ratio === undefined ? 'no floor row' : `${ratio.toFixed(2)}× (${fixed(row.rps, 0)} vs ${fixed(row.rps / ratio, 0)} req/s)`,
    });
  }
  for (const scenario of ['S1', 'S2', 'S5'] as const) {
    const row = api(scenario);
    if (!row) continue;
    const ratio = row.p95Ratio;
    const at = row.connections === expectedConnections ? '' : ` (measured at ${row.connections} connections, not ${expectedConnections})`;
    checks.push({
      name: `${scenario} p95 at ${expectedConnections} connections ≤ 1.2× floor`,
      ok: ratio === undefined ? null : ratio <= 1.2,
      detail: ratio === undefined ? 'no floor row' : `${ratio.toFixed(2)}× (${ms(row.p95)} vs ${ms(row.p95 / ratio)} ms)${at}`,
    });
  }
  const s6 = api('S6');
  if (s6) {
    checks.push({
      name: 'S6 p95 < 100 ms with 0 errors',
      ok: s6.p95 < 100 && s6.errors === 0,
      detail: `p95 ${ms(s6.p95)} ms, ${s6.errors} errors, ${fixed(s6.rps, 0)} req/s on ${s6.connections} connections${s6.rate ? ` at ${s6.rate}/s` : ''}`,
    });
  }
  const peaks = rows.filter((row) => row.target === 'api' && row.peakRssMb !== null).map((row) => row.peakRssMb!);
  if (peaks.length > 0) {
    const peak = Math.max(...peaks);
    checks.push({ name: 'API RSS < 250 MB', ok: peak < 250, detail: `peak ${peak.toFixed(0)} MB over the measured windows` });
  }
  return checks;
}

export function formatChecks(checks: Check[]): string {
  return checks.map((check) => `${check.ok === null ? '[ ?? ]' : check.ok ? '[ ok ]' : '[FAIL]'} ${check.name}: ${check.detail}`).join('\n');
}

export function markdown(report: Report): string {
  const scenarios = [...new Set(report.rows.map((row) => row.scenario))];
  const lines = [
    `# Benchmark ${report.startedAt} (${report.mode})`,
    '',
    table(report.rows),
    '',
    'Latencies are client-side response times of the measured window (after a warm-up); S6 (paced) counts from when each request was due, and its req/s is what was answered inside the window. errors = non-2xx + socket errors/timeouts + 2xx bodies with "errors".',
    'SQL stmts/req: the API\'s tasks_api_db_statements_total delta (BEGIN/COMMIT included) over requests; the floor sends 1 statement by construction.',
    'CPU: utime+stime of the target process from /proc, % of one core; db CPU: the embedded PostgreSQL (its postmaster and backends; – with DATABASE_URL). Peak RSS: VmRSS sampled every 250 ms in the window.',
    '',
    '## Scenarios',
    '',
    ...scenarios.map((scenario) => `- ${scenario}: ${SCENARIO_TITLES[scenario]}`),
    '',
    '## Targets',
    '',
    '```',
    formatChecks(report.checks),
    '```',
    '',
    '## Environment',
    '',
    ...Object.entries(report.environment).map(([key, value]) => `- ${key}: ${value}`),
  ];
  if (report.notes.length > 0) lines.push('', '## Notes', '', ...report.notes.map((note) => `- ${note}`));
  if (report.profile) lines.push('', '## CPU profile of the API', '', `File: ${report.profile.file}`, '', '```', report.profile.summary, '```');
  return `${lines.join('\n')}\n`;
}

export async function writeReport(directory: string, report: Report): Promise<{ markdownFile: string; jsonFile: string }> {
  await mkdir(directory, { recursive: true });
  const markdownFile = join(directory, 'latest.md');
  const jsonFile = join(directory, 'latest.json');
  await Promise.all([writeFile(markdownFile, markdown(report)), writeFile(jsonFile, `${JSON.stringify(report, null, 2)}\n`)]);
  return { markdownFile, jsonFile };
}
