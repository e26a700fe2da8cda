// What each scenario sends to each target. Requests are prepared up front (bodies as Buffers,
// one header object per user) so that the load generator spends its time sending, not building.
import { SignJWT } from 'jose';
import { BENCH_SEARCH_WORDS, BENCH_TAGS, benchTagId, benchTaskId, benchUserId } from './fixtures.js';

export const SCENARIOS = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
export type TargetKind = 'api' | 'floor';

export const SCENARIO_TITLES: Record<ScenarioName, string> = {
  S1: 'list: first 20 open tasks by dueAt, with tags',
  S2: 'one task by id, with tags',
  S3: 'createTask',
  S4: 'completeTask of a recurring task',
  S5: 'search + tag filter page',
  S6: '70/30 read/write mix at a fixed rate',
  S7: 'first 50 top-level tasks of a list by position, with tags and subtask counts',
  S8: 'moveTask to a random place in a list',
};

export const DOCUMENTS = {
  S1: 'query S1 { tasks(first: 20, filter: { completed: false }, orderBy: [{ field: DUE_AT, direction: ASC }]) { edges { node { id title dueAt tags { id name } } } } }',
  S2: 'query S2($id: ID!) { task(id: $id) { id title dueAt tags { id name } } }',
  S3: 'mutation S3($input: CreateTaskInput!) { createTask(input: $input) { id title } }',
  S4: 'mutation S4($id: ID!) { completeTask(id: $id) { task { id completed } nextOccurrence { id dueAt } } }',
  S7: 'query S7($list: ID!) { list(id: $list) { tasks(first: 50, filter: { topLevel: true }) { edges { node { id title position subtaskCount tags { id name } } } } } }',
  S8: 'mutation S8($input: MoveTaskInput!) { moveTask(input: $input) { id position } }',
  S5: 'query S5($filter: TaskFilter) { tasks(first: 20, filter: $filter, orderBy: [{ field: CREATED_AT, direction: DESC }]) { edges { node { id title dueAt tags { id name } } } } }',
} as const;

export const globalId = (type: 'Task' | 'Tag' | 'List', id: string) => Buffer.from(`${type}:${id}`).toString('base64');

export interface Outgoing {
  headers: Record<string, string>;
  body: Buffer;
  /** Handed back to onResponse with this request's response. */
  tag?: unknown;
}

export interface Workload {
  /** Request path on the target: /graphql or / (the floor). */
  path: string;
  next(): Outgoing;
  onResponse?(tag: unknown, status: number, body: string): void;
  /** Remarks for the report (e.g. the S4 queue ran dry). */
  notes(): string[];
}

export interface BenchContext {
  users: number;
  tasksPerUser: number;
  /** Users 1..K whose tokens rotate (K = min(users, 1000)). */
  rotated: number;
  /** headers[n - 1]: the headers of bench user n (1..K). */
  headers: Record<string, string>[];
  /** inboxes[n - 1]: the Inbox of bench user n (1..K), where the seeded tasks are. */
  inboxes: string[];
}

export const JWT_ISSUER = 'tasks-api';
export const JWT_AUDIENCE = 'tasks-api';

export async function mintTokens(secret: string, count: number): Promise<Record<string, string>[]> {
  const key = new TextEncoder().encode(secret);
  const headers: Record<string, string>[] = [];
  for (let n = 1; n <= count; n++) {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(benchUserId(n))
      .setIssuer(JWT_ISSUER)
      .setAudience(JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('12h')
      .sign(key);
    headers.push({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
  }
  return headers;
}

// A small deterministic PRNG (mulberry32) so that runs pick the same users, tasks and words.
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const VARIANTS = 8_192;
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** A fixed set of prepared requests, one picked at random per request. */
function fromVariants(path: string, variants: Outgoing[], seed: number): Workload {
  const next = random(seed);
  return { path, next: () => variants[Math.floor(next() * variants.length)]!, notes: () => [] };
}

function buildVariants(count: number, seed: number, make: (pick: () => number) => Outgoing): Outgoing[] {
  const pick = random(seed);
  return Array.from({ length: count }, () => make(pick));
}

const intIn = (pick: () => number, max: number) => 1 + Math.floor(pick() * max);

/** S1, S2, S3, S5, S7, S8 for either target. */
export function simpleWorkload(scenario: 'S1' | 'S2' | 'S3' | 'S5' | 'S7' | 'S8', kind: TargetKind, bench: BenchContext): Workload {
  const api = kind === 'api';
  const path = api ? '/graphql' : '/';
  const seed = Number(scenario.slice(1)) * 7_919;
  const body = (variables: Record<string, unknown>, apiVariables: Record<string, unknown>) =>
    api ? json({ query: DOCUMENTS[scenario], variables: apiVariables }) : json({ scenario, variables });
  switch (scenario) {
    case 'S1': {
      const shared = body({}, {});
      return fromVariants(path, bench.headers.map((headers) => ({ headers, body: shared })), seed);
    }
    case 'S2':
      return fromVariants(
        path,
        buildVariants(VARIANTS, seed, (pick) => {
          const n = intIn(pick, bench.rotated);
          const id = benchTaskId(n, intIn(pick, Math.max(1, bench.tasksPerUser)));
          return { headers: bench.headers[n - 1]!, body: body({ id }, { id: globalId('Task', id) }) };
        }),
        seed,
      );
    case 'S3':
      return fromVariants(
        path,
        buildVariants(VARIANTS, seed, (pick) => {
          const n = intIn(pick, bench.rotated);
          const title = `Bench task ${Math.floor(pick() * 1e9).toString(36)}`;
          return { headers: bench.headers[n - 1]!, body: body({ title }, { input: { title } }) };
        }),
        seed,
      );
    case 'S7':
      return fromVariants(
        path,
        bench.headers.map((headers, index) => ({ headers, body: body({ list: bench.inboxes[index] }, { list: globalId('List', bench.inboxes[index]!) }) })),
        seed,
      );
    case 'S8':
      // One seeded task of the user's Inbox dropped right after another.
      return fromVariants(
        path,
        buildVariants(VARIANTS, seed, (pick) => {
          const n = intIn(pick, bench.rotated);
          const moved = intIn(pick, bench.tasksPerUser);
          const after = 1 + ((moved + intIn(pick, bench.tasksPerUser - 1) - 1) % bench.tasksPerUser);
          const [id, afterId] = [benchTaskId(n, moved), benchTaskId(n, after)];
          return { headers: bench.headers[n - 1]!, body: body({ id, afterId }, { input: { id: globalId('Task', id), afterId: globalId('Task', afterId) } }) };
        }),
        seed,
      );
    case 'S5':
      return fromVariants(
        path,
        buildVariants(VARIANTS, seed, (pick) => {
          const n = intIn(pick, bench.rotated);
          const search = BENCH_SEARCH_WORDS[Math.floor(pick() * BENCH_SEARCH_WORDS.length)]!;
          const tagId = benchTagId(n, Math.floor(pick() * BENCH_TAGS.length));
          return {
            headers: bench.headers[n - 1]!,
            body: body({ search, tagId }, { filter: { search, tagIds: [globalId('Tag', tagId)] } }),
          };
        }),
        seed,
      );
  }
}

export interface OpenRecurringTask {
  /** Raw uuid. */
  id: string;
  /** Bench user number of its owner (1..K). */
  owner: number;
}

// PostgreSQL's json_build_object writes `"key" : value`, graphql-js `"key":value`.
const NEXT_OCCURRENCE_ID = /"nextOccurrence"\s*:\s*\{\s*"id"\s*:\s*"([^"]+)"/;

/**
 * S4: each request completes the next open recurring task of this target's own queue, with its
 * owner's token. The next occurrence a completion creates is open, recurring and owned by the
 * same user, so it joins the end of the queue: the queue does not run dry however long the run.
 */
export function completeWorkload(kind: TargetKind, tasks: OpenRecurringTask[], bench: BenchContext): Workload {
  const api = kind === 'api';
  const queue = tasks.map((task) => ({ id: api ? globalId('Task', task.id) : task.id, owner: task.owner }));
  const initial = queue.slice();
  let reused = 0;
  const fallback = random(4_242);
  return {
    path: api ? '/graphql' : '/',
    next() {
      let task = queue.shift();
      if (!task) {
        // Dry: repeat a task; completing a completed task is cheaper, so this is reported.
        reused += 1;
        task = initial[Math.floor(fallback() * initial.length)]!;
      }
      const body = api ? json({ query: DOCUMENTS.S4, variables: { id: task.id } }) : json({ scenario: 'S4', variables: { id: task.id } });
      return { headers: bench.headers[task.owner - 1]!, body, tag: task.owner };
    },
    onResponse(tag, status, body) {
      if (status !== 200 || typeof tag !== 'number') return;
      const id = NEXT_OCCURRENCE_ID.exec(body)?.[1];
      if (id) queue.push({ id, owner: tag });
    },
    notes: () => (reused > 0 ? [`S4 ${kind}: the queue of open recurring tasks ran dry; ${reused} requests repeated an already completed task`] : []),
  };
}

/** S6: 35% S1, 35% S2 (reads), 30% S3 (writes). */
export function mixedWorkload(kind: TargetKind, bench: BenchContext): Workload {
  const list = simpleWorkload('S1', kind, bench);
  const one = simpleWorkload('S2', kind, bench);
  const create = simpleWorkload('S3', kind, bench);
  const pick = random(6_006);
  return {
    path: list.path,
    next() {
      const r = pick();
      return r < 0.35 ? list.next() : r < 0.7 ? one.next() : create.next();
    },
    notes: () => [],
  };
}
