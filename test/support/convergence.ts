import { print } from 'graphql';
import { ChangesDocument, ChangesLiveDocument, SyncedNodesDocument, type ChangesLiveSubscription, type ChangesQuery } from '../generated/graphql.js';
import type { TestApp } from './app.js';
import { mulberry32 } from '../hardening/hostile-requests.js';
import { subscribeOverSse, type SseSubscription } from './sse.js';

// Devices writing at random while clients keep local copies from the change feed alone; at the end
// every copy must equal the server's state. Shared by test/sync/convergence.test.ts (a few seconds)
// and bench/convergence.ts (as long as asked).

type Change = ChangesQuery['changes']['changes'][number];
type User = { token: string; userId: string };

export interface ConvergenceOptions {
  users: User[];
  devicesPerUser: number;
  pagingClientsPerUser: number;
  liveClientsPerUser: number;
  durationMs: number;
  /**
   * Writing goes on past durationMs until this many mutations were made (at most 30 s more): on a
   * loaded machine a few seconds may not be enough for a test that means something.
   */
  minMutations?: number;
  seed: number;
  /** Extra mutations a device may run (e.g. the trash's), beside the built-in ones. */
  extraActions?: Action[];
}

export interface ConvergenceReport {
  mutations: number;
  /** Answers other than data or an expected refusal (NOT_FOUND, BAD_USER_INPUT, CONFLICT). */
  unexpectedErrors: string[];
  changesReceived: number;
  livePages: number;
  liveReconnects: number;
  clients: { user: number; kind: 'paging' | 'live'; copy: Map<string, unknown>; received: Set<string> }[];
  /** What each user's objects are on the server, read through `nodes` with the same selection. */
  server: Map<string, unknown>[];
  /** Every id each user's devices created. */
  created: Set<string>[];
}

export type Action = (device: Device) => Promise<void>;

export interface Device {
  rng: () => number;
  pick<T>(items: readonly T[]): T | undefined;
  call(query: string, variables: Record<string, unknown>): Promise<Record<string, any> | null>;
  known: { tasks: string[]; lists: string[]; tags: string[] };
}

const TASK_FIELDS = 'id';

const BUILT_IN: Action[] = [
  async (d) => {
    const parentId = d.rng() < 0.2 ? d.pick(d.known.tasks) : undefined;
    const listId = parentId ? undefined : d.pick(d.known.lists);
    const recurring = d.rng() < 0.3;
    const data = await d.call(`mutation($input: CreateTaskInput!) { createTask(input: $input) { ${TASK_FIELDS} } }`, {
      input: {
        title: `task ${Math.floor(d.rng() * 1e6)}`,
        parentId,
        listId,
        tagIds: d.rng() < 0.3 ? [d.pick(d.known.tags)].filter(Boolean) : undefined,
        ...(recurring ? { dueAt: new Date(Date.now() + 86_400_000).toISOString(), recurrence: 'FREQ=DAILY' } : {}),
      },
    });
    if (data) d.known.tasks.push(data.createTask.id);
  },
  async (d) => {
    const id = d.pick(d.known.tasks);
    if (id) await d.call('mutation($input: UpdateTaskInput!) { updateTask(input: $input) { id } }', { input: { id, title: `edited ${Math.floor(d.rng() * 1e6)}`, priority: d.pick(['LOW', 'HIGH', 'URGENT']) } });
  },
  async (d) => {
    const id = d.pick(d.known.tasks);
    if (!id) return;
    const data = await d.call('mutation($id: ID!) { completeTask(id: $id) { task { id } nextOccurrence { id } } }', { id });
    if (data?.completeTask.nextOccurrence) d.known.tasks.push(data.completeTask.nextOccurrence.id);
  },
  async (d) => {
    const id = d.pick(d.known.tasks);
    if (id) await d.call('mutation($id: ID!) { uncompleteTask(id: $id) { id } }', { id });
  },
  async (d) => {
    const id = d.pick(d.known.tasks);
    const listId = d.pick(d.known.lists);
    if (id && listId) await d.call('mutation($input: MoveTaskInput!) { moveTask(input: $input) { id } }', { input: { id, listId, afterId: d.rng() < 0.5 ? d.pick(d.known.tasks) : undefined } });
  },
  async (d) => {
    const taskId = d.pick(d.known.tasks);
    if (taskId) await d.call('mutation($taskId: ID!, $tagIds: [ID!]!) { setTaskTags(taskId: $taskId, tagIds: $tagIds) { id } }', { taskId, tagIds: d.known.tags.filter(() => d.rng() < 0.5).slice(0, 3) });
  },
  async (d) => {
    const data = await d.call('mutation($input: CreateTagInput!) { createTag(input: $input) { id } }', { input: { name: `tag ${Math.floor(d.rng() * 1e9)}` } });
    if (data) d.known.tags.push(data.createTag.id);
  },
  async (d) => {
    const id = d.pick(d.known.tags);
    if (id && d.rng() < 0.3) await d.call('mutation($id: ID!) { deleteTag(id: $id) }', { id });
  },
  async (d) => {
    const data = await d.call('mutation($input: CreateListInput!) { createList(input: $input) { id } }', { input: { name: `list ${Math.floor(d.rng() * 1e6)}` } });
    if (data) d.known.lists.push(data.createList.id);
  },
  async (d) => {
    const id = d.pick(d.known.lists);
    if (id && d.rng() < 0.2) await d.call('mutation($id: ID!) { deleteList(id: $id) }', { id });
  },
  async (d) => {
    const id = d.pick(d.known.tasks);
    if (id && d.rng() < 0.5) await d.call('mutation($id: ID!) { deleteTask(id: $id) }', { id });
  },
  async (d) => {
    const ids = [...new Set([d.pick(d.known.tasks), d.pick(d.known.tasks)].filter(Boolean))];
    if (ids.length) await d.call('mutation($ids: [ID!]!) { completeTasks(ids: $ids) { task { id } } }', { ids });
  },
  async (d) => {
    const ids = [...new Set([d.pick(d.known.tasks), d.pick(d.known.tasks)].filter(Boolean))];
    if (ids.length) await d.call('mutation($input: UpdateTasksInput!) { updateTasks(input: $input) { id } }', { input: { ids, priority: 'MEDIUM', addTagIds: [d.pick(d.known.tags)].filter(Boolean) } });
  },
  async (d) => {
    const ids = [...new Set([d.pick(d.known.tasks), d.pick(d.known.tasks)].filter(Boolean))];
    const listId = d.pick(d.known.lists);
    if (ids.length && listId) await d.call('mutation($input: MoveTasksInput!) { moveTasks(input: $input) { id } }', { input: { ids, listId } });
  },
  async (d) => {
    const ids = [...new Set([d.pick(d.known.tasks), d.pick(d.known.tasks)].filter(Boolean))];
    if (ids.length && d.rng() < 0.3) await d.call('mutation($ids: [ID!]!) { deleteTasks(ids: $ids) }', { ids });
  },
  async (d) => {
    const id = d.pick(d.known.tasks);
    if (id) await d.call('mutation($id: ID!) { restoreTask(id: $id) { id } }', { id });
  },
  async (d) => {
    if (d.rng() < 0.1) await d.call('mutation { emptyTrash }', {});
  },
  async (d) => {
    const id = d.pick(d.known.tasks);
    if (id) await d.call('mutation($id: ID!) { skipOccurrence(id: $id) { id } }', { id });
  },
];

const EXPECTED_REFUSALS = new Set(['NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT']);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function apply(copy: Map<string, unknown>, received: Set<string>, change: Change) {
  received.add(change.id);
  if (change.kind === 'DELETE') copy.delete(change.id);
  // An UPSERT whose object is gone by the time it was read: the DELETE that follows says so.
  else if (change.node) copy.set(change.id, change.node);
}

export async function runConvergence(app: TestApp, options: ConvergenceOptions): Promise<ConvergenceReport> {
  const rng = mulberry32(options.seed);
  const report: ConvergenceReport = {
    mutations: 0,
    unexpectedErrors: [],
    changesReceived: 0,
    livePages: 0,
    liveReconnects: 0,
    clients: [],
    server: [],
    created: options.users.map(() => new Set()),
  };
  const actions = [...BUILT_IN, ...(options.extraActions ?? [])];
  let writing = true;

  const inbox = await Promise.all(
    options.users.map(async (user) => {
      const response = await app.post({ query: '{ inbox { id } }' }, { authorization: `Bearer ${user.token}` });
      return ((await response.json()) as { data: { inbox: { id: string } } }).data.inbox.id;
    }),
  );

  const devices = options.users.flatMap((user, userIndex) =>
    Array.from({ length: options.devicesPerUser }, (_, deviceIndex) => {
      const deviceRng = mulberry32(options.seed * 100 + userIndex * 10 + deviceIndex);
      const device: Device = {
        rng: deviceRng,
        pick: (items) => (items.length ? items[Math.floor(deviceRng() * items.length)] : undefined),
        known: { tasks: [], lists: [inbox[userIndex]!], tags: [] },
        async call(query, variables) {
          report.mutations += 1;
          const response = await app.post({ query, variables }, { authorization: `Bearer ${user.token}` });
          const body = (await response.json()) as { data?: Record<string, any> | null; errors?: { message: string; extensions?: { code?: string } }[] };
          for (const error of body.errors ?? []) {
            if (!EXPECTED_REFUSALS.has(error.extensions?.code ?? '')) report.unexpectedErrors.push(`${error.extensions?.code}: ${error.message} (${query.slice(0, 60)})`);
          }
          if (!body.data) return null;
          for (const value of Object.values(body.data)) collectIds(value, report.created[userIndex]!);
          return body.data;
        },
      };
      return (async () => {
        while (writing) await actions[Math.floor(deviceRng() * actions.length)]!(device);
      })();
    }),
  );

  const paging = options.users.flatMap((user, userIndex) =>
    Array.from({ length: options.pagingClientsPerUser }, async () => {
      const client = { user: userIndex, kind: 'paging' as const, copy: new Map<string, unknown>(), received: new Set<string>() };
      report.clients.push(client);
      let syncToken: string | null = null;
      const syncOnce = async () => {
        for (;;) {
          const result = await app.graphql(ChangesDocument, { syncToken, first: 1 + Math.floor(rng() * 50) }, { token: user.token });
          if (!result.data) throw new Error(`changes failed: ${JSON.stringify(result.errors)}`);
          for (const change of result.data.changes.changes) apply(client.copy, client.received, change);
          report.changesReceived += result.data.changes.changes.length;
          syncToken = result.data.changes.syncToken;
          if (!result.data.changes.hasMore) return;
        }
      };
      while (writing) {
        await syncOnce();
        await sleep(rng() * 300);
      }
      await syncOnce();
    }),
  );

  const live = options.users.flatMap((user, userIndex) =>
    Array.from({ length: options.liveClientsPerUser }, async () => {
      const client = { user: userIndex, kind: 'live' as const, copy: new Map<string, unknown>(), received: new Set<string>() };
      report.clients.push(client);
      let syncToken: string | null = null;
      let stream: SseSubscription<ChangesLiveSubscription> | null = null;
      let taken = 0;
      const drain = () => {
        for (; taken < (stream?.results.length ?? 0); taken++) {
          const result = stream!.results[taken]!;
          if (!result.data) throw new Error(`changes subscription failed: ${JSON.stringify(result.errors)}`);
          apply(client.copy, client.received, result.data.changes.change);
          report.changesReceived += 1;
          syncToken = result.data.changes.syncToken;
        }
      };
      const connect = async () => {
        stream = await subscribeOverSse(app, ChangesLiveDocument, { token: user.token, variables: { syncToken } });
        taken = 0;
        report.liveReconnects += 1;
      };
      await connect();
      while (writing) {
        await sleep(100 + rng() * 400);
        drain();
        // Drop the connection now and then and resume from the last token received.
        if (rng() < 0.4) {
          await stream!.close();
          drain();
          await connect();
        }
      }
      return { client, finish: async () => {
        // Caught up when the copy equals the server's state; the stream keeps delivering meanwhile.
        const deadline = Date.now() + 10_000;
        for (;;) {
          drain();
          if (equalCopies(client.copy, report.server[userIndex]!) || Date.now() > deadline) break;
          await sleep(50);
        }
        await stream!.close();
      } };
    }),
  );

  await sleep(options.durationMs);
  const overtime = Date.now() + 30_000;
  while (report.mutations < (options.minMutations ?? 0) && Date.now() < overtime) await sleep(100);
  writing = false;
  await Promise.all(devices);
  await Promise.all(paging);
  const liveClients = await Promise.all(live);

  for (const [userIndex, user] of options.users.entries()) report.server[userIndex] = await serverState(app, user);
  await Promise.all(liveClients.map((entry) => entry.finish()));
  return report;
}

function collectIds(value: unknown, into: Set<string>) {
  if (Array.isArray(value)) return value.forEach((item) => collectIds(item, into));
  if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'id' && typeof inner === 'string') into.add(inner);
      else collectIds(inner, into);
    }
  }
}

export function equalCopies(copy: Map<string, unknown>, server: Map<string, unknown>): boolean {
  if (copy.size !== server.size) return false;
  for (const [id, node] of server) if (JSON.stringify(copy.get(id)) !== JSON.stringify(node)) return false;
  return true;
}

/** The user's live tasks, lists and tags, listed from the tables and read through `nodes`. */
async function serverState(app: TestApp, user: User): Promise<Map<string, unknown>> {
  const owner = Buffer.from(user.userId, 'base64').toString().replace(/^User:/, '');
  const { rows } = await app.pool.query<{ typename: string; id: string }>(
    `SELECT 'Task' AS typename, id FROM tasks WHERE user_id = $1 AND deleted_at IS NULL
     UNION ALL SELECT 'List', id FROM lists WHERE user_id = $1
     UNION ALL SELECT 'Tag', id FROM tags WHERE user_id = $1`,
    [owner],
  );
  const ids = rows.map((row) => Buffer.from(`${row.typename}:${row.id}`).toString('base64'));
  const state = new Map<string, unknown>();
  for (let start = 0; start < ids.length; start += 100) {
    const chunk = ids.slice(start, start + 100);
    const result = await app.graphql(SyncedNodesDocument, { ids: chunk }, { token: user.token });
    if (!result.data) throw new Error(`nodes failed: ${JSON.stringify(result.errors)}`);
    result.data.nodes.forEach((node, index) => node && state.set(chunk[index]!, node));
  }
  return state;
}

export const changesQueryText = print(ChangesDocument);
