import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompleteTaskDocument, CreateTagDocument, CreateTaskDocument } from '../generated/graphql.js';
import { DOCUMENTS } from '../../bench/scenarios.js';
import { createTestApp, type TestApp } from '../support/app.js';

// The compiled path against graphql-js, on a generated corpus. Two servers share one database: one
// answers planned reads with one compiled statement (the default), the other with DIRECT_READS=off
// executes everything with graphql-js. Each generated request — random selections, aliases,
// fragments, directives, variables good and bad, odd Accept and Content-Type headers, GET and POST —
// goes to both over their sockets (twice to the first: once through yoga, once through the seam in
// front of it), and every answer must have the same status, headers (but Date) and bytes. The metrics then show how much of the corpus the compiled path answered, so the test
// cannot pass by comparing graphql-js with itself.

const SEED = 20_261_204;
const CORPUS_SIZE = 1_200;
const CONCURRENCY = 8;

let compiled: TestApp;
let reference: TestApp;
let token: string;
let otherToken: string;
const taskIds: string[] = [];
const tagIds: string[] = [];
let otherTaskId: string;
let otherTagId: string;
const DAY = 86_400_000;
const NOW = Date.now();

beforeAll(async () => {
  compiled = await createTestApp();
  reference = await createTestApp({ database: compiled.database, env: { DIRECT_READS: 'off' } });
  ({ token } = await compiled.signUp('differential'));
  for (const [name, color] of [['work', '#aa0000'], ['Home', '#00aa00'], ['errands', null], ['ünïcødé "quoted"', '#0000ff']] as const) {
    tagIds.push((await compiled.graphql(CreateTagDocument, { input: { name, color } }, { token })).data!.createTag.id);
  }
  const priorities = ['NONE', 'LOW', 'MEDIUM', 'HIGH', 'URGENT'] as const;
  const titles = ['Pay "rent" \\ now', 'Call mum ✓', 'Buy 100% milk', 'file_taxes', 'Line\nbreak', 'Tab\there', '日本語のタスク', 'emoji 🎉 task'];
  for (let i = 0; i < 40; i++) {
    const dueAt = i % 5 === 0 ? null : new Date(NOW + ((i % 7) - 3) * DAY + i * 60_000).toISOString();
    const created = await compiled.graphql(
      CreateTaskDocument,
      {
        input: {
          title: `${titles[i % titles.length]} ${i}`,
          description: i % 3 === 0 ? `notes with "quotes", \\ backslashes and ${'ünïcødé '.repeat(i % 4)}` : '',
          priority: priorities[i % 5],
          dueAt,
          remindAt: i % 4 === 1 && dueAt ? dueAt : undefined,
          recurrence: i % 6 === 1 && dueAt ? 'FREQ=WEEKLY;BYDAY=MO' : undefined,
          tagIds: tagIds.filter((_, index) => (i + index) % (index + 2) === 0),
        },
      },
      { token },
    );
    expect(created.errors).toBeUndefined();
    taskIds.push(created.data!.createTask.id);
    if (i % 4 === 2) await compiled.graphql(CompleteTaskDocument, { id: created.data!.createTask.id }, { token });
  }
  const other = await compiled.signUp('differential-other');
  otherToken = other.token;
  otherTagId = (await compiled.graphql(CreateTagDocument, { input: { name: 'work' } }, { token: otherToken })).data!.createTag.id;
  otherTaskId = (await compiled.graphql(CreateTaskDocument, { input: { title: 'not yours', tagIds: [otherTagId] } }, { token: otherToken })).data!.createTask.id;
}, 120_000);

afterAll(async () => {
  await reference?.close();
  await compiled?.close();
});

/** mulberry32: the same corpus on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Request {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  query?: string;
  label: string;
}

const rawId = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').split(':')[1]!;
const cursorFor = (globalId: string) => Buffer.from(`GPC:S:${rawId(globalId)}`).toString('base64');

function corpus(): Request[] {
  const next = random(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const chance = (p: number) => next() < p;
  const some = <T>(items: readonly T[], atLeast = 1): T[] => {
    const chosen = items.filter(() => chance(0.45));
    return chosen.length >= atLeast ? chosen : items.slice(0, atLeast);
  };
  const ALIASES = ['a', 'b', 'x1', 'renamed', 'o', 'n', 'json', 'cursor', 'edges', 'node', '__', 'a'.repeat(70), 'camelCase'];
  const alias = (name: string) => (chance(0.15) ? `${pick(ALIASES)}${chance(0.5) ? '' : name}: ${name}` : name);
  const typename = () => (chance(0.3) ? ' __typename' : '');

  const TASK_LEAVES = ['id', 'title', 'description', 'completed', 'completedAt', 'priority', 'dueAt', 'remindAt', 'reminderSentAt', 'recurrence', 'seriesId', 'version', 'createdAt', 'updatedAt', 'overdue'];
  const TAG_LEAVES = ['id', 'name', 'color', 'createdAt'];
  const fragments = new Map<string, string>();

  const tagSelection = (depth: number): string => {
    const fields = some(TAG_LEAVES).map(alias);
    if (chance(0.25)) fields.push(`${alias('taskCount')}${chance(0.5) ? `(completed: ${pick(['true', 'false', 'null'])})` : ''}`);
    if (depth < 2 && chance(0.12)) fields.push(`tasks(first: ${pick([1, 2, 3])}) { ${connectionSelection(depth + 1)} }`);
    return `${fields.join(' ')}${typename()}`;
  };
  const taskSelection = (depth: number): string => {
    const fields = some(TASK_LEAVES).map(alias);
    if (chance(0.55)) fields.push(`${chance(0.2) ? `${pick(ALIASES)}: ` : ''}tags { ${tagSelection(depth + 1)} }`);
    if (chance(0.12)) fields.push(`... on Task { ${some(TASK_LEAVES).join(' ')} }`);
    if (chance(0.08)) fields.push('... on Node { id }');
    if (chance(0.12)) {
      const name = `TaskBits${fragments.size}`;
      fragments.set(name, `fragment ${name} on Task { ${some(TASK_LEAVES).join(' ')}${typename()} }`);
      fields.push(`...${name}`);
    }
    if (chance(0.05)) fields.push(`title @include(if: ${pick(['true', 'false'])})`);
    if (chance(0.03)) fields.push(`dueAt @skip(if: $skip)`);
    return `${fields.join(' ')}${typename()}`;
  };
  function connectionSelection(depth: number): string {
    const parts: string[] = [];
    if (chance(0.35)) parts.push(alias('totalCount'));
    if (chance(0.85)) parts.push(`edges {${chance(0.6) ? ' cursor' : ''} node { ${taskSelection(depth)} }${typename()} }`);
    if (chance(0.15)) parts.push(`${pick(ALIASES)}: edges { node { id } }`);
    if (chance(0.5)) parts.push(`pageInfo { ${some(['hasNextPage', 'hasPreviousPage', 'startCursor', 'endCursor']).join(' ')}${typename()} }`);
    if (parts.length === 0 || chance(0.2)) parts.push('__typename');
    return parts.join(' ');
  }

  const FILTERS: Array<Record<string, unknown>> = [
    { completed: false },
    { completed: true },
    { priorityIn: ['HIGH', 'URGENT'] },
    { priorityIn: [] },
    { overdue: true },
    { overdue: false },
    { hasDueDate: false },
    { recurring: true },
    { search: 'milk' },
    { search: '100%' },
    { search: 'file_' },
    { search: '  TASK  ' },
    { search: 'ünïcødé' },
    { dueAfter: new Date(NOW - 2 * DAY).toISOString(), dueBefore: new Date(NOW + 2 * DAY).toISOString() },
    { tagIds: [tagIds[0]] },
    { tagIds: [tagIds[1], tagIds[3]], completed: false },
    { tagIds: [otherTagId] },
    { tagIds: ['not-an-id'] },
    { search: 'x'.repeat(201) },
    { dueBefore: 'yesterday' },
  ];
  const ORDERS = [
    [{ field: 'DUE_AT', direction: 'ASC' }],
    [{ field: 'DUE_AT', direction: 'DESC' }],
    [{ field: 'PRIORITY', direction: 'DESC' }, { field: 'TITLE', direction: 'ASC' }],
    [{ field: 'TITLE', direction: 'DESC' }],
    [{ field: 'UPDATED_AT', direction: 'ASC' }, { field: 'DUE_AT', direction: 'ASC' }],
    [{ field: 'CREATED_AT', direction: 'ASC' }, { field: 'CREATED_AT', direction: 'DESC' }],
    [],
  ];
  const CURSORS = () => [cursorFor(pick(taskIds)), cursorFor(otherTaskId), cursorFor(taskIds[0]!.replace(/.$/, 'A')), 'bm90IGEgY3Vyc29y', pick(taskIds), ''];

  /** The arguments of a task list, inline or as variables. */
  const listArguments = (variables: Record<string, unknown>, definitions: string[]): string => {
    const args: string[] = [];
    const backward = chance(0.2);
    const size = pick([0, 1, 3, 5, 20, 100, 101, -1, null]);
    const sizeName = backward ? 'last' : 'first';
    if (size !== null || chance(0.5)) {
      if (chance(0.5)) {
        definitions.push(`$${sizeName}: Int`);
        variables[sizeName] = chance(0.04) ? 'ten' : size;
        args.push(`${sizeName}: $${sizeName}`);
      } else if (size !== null) args.push(`${sizeName}: ${size}`);
    }
    if (chance(0.25)) {
      const side = backward ? 'before' : chance(0.9) ? 'after' : 'before';
      definitions.push(`$${side}: String`);
      variables[side] = pick(CURSORS());
      args.push(`${side}: $${side}`);
    }
    if (chance(0.5)) {
      definitions.push('$filter: TaskFilter');
      variables.filter = pick(FILTERS);
      args.push('filter: $filter');
    } else if (chance(0.2)) args.push('filter: { completed: false, hasDueDate: true }');
    if (chance(0.5)) {
      definitions.push('$orderBy: [TaskOrder!]');
      variables.orderBy = pick(ORDERS);
      args.push('orderBy: $orderBy');
    }
    return args.length > 0 ? `(${args.join(', ')})` : '';
  };

  const rootField = (variables: Record<string, unknown>, definitions: string[]): string => {
    switch (pick(['tasks', 'tasks', 'tasks', 'task', 'task', 'tags', 'tag', 'me', 'node', 'nodes'] as const)) {
      case 'tasks':
        return `${alias('tasks')}${listArguments(variables, definitions)} { ${connectionSelection(0)} }`;
      case 'task': {
        const id = pick([...taskIds, otherTaskId, tagIds[0]!, 'VGFzazp4', 'garbage']);
        if (chance(0.5)) return `${alias('task')}(id: ${JSON.stringify(id)}) { ${taskSelection(0)} }`;
        const name = `id${definitions.length}`;
        definitions.push(`$${name}: ID!`);
        variables[name] = chance(0.05) ? 42 : id;
        return `${alias('task')}(id: $${name}) { ${taskSelection(0)} }`;
      }
      case 'tags':
        return `${alias('tags')} { ${tagSelection(0)} }`;
      case 'tag':
        return `${alias('tag')}(id: ${JSON.stringify(pick([...tagIds, otherTagId, taskIds[0]!]))}) { ${tagSelection(0)} }`;
      case 'me':
        return `me { ${some(['id', 'email', 'name', 'timeZone', 'createdAt', 'updatedAt']).join(' ')}${chance(0.4) ? ` tags { ${tagSelection(1)} }` : ''}${chance(0.4) ? ` tasks(first: 2) { ${connectionSelection(1)} }` : ''}${typename()} }`;
      case 'node':
        return `node(id: ${JSON.stringify(pick([...taskIds, ...tagIds, otherTaskId]))}) { id __typename ... on Task { title } ... on Tag { name } }`;
      case 'nodes':
        return `nodes(ids: ${JSON.stringify([pick(taskIds), pick(tagIds), otherTaskId])}) { id ... on Task { title tags { name } } }`;
    }
  };

  const ACCEPTS = [
    'application/json',
    'application/graphql-response+json',
    'application/graphql-response+json, application/json;q=0.9',
    'application/json;q=0.5, application/graphql-response+json',
    '*/*',
    'application/json; charset=utf-8',
    'text/html;q=0.1, application/json',
    'application/*',
    'text/plain',
    undefined,
  ];
  const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json; boundary=x', 'application/graphql+json', 'text/plain'];

  const requests: Request[] = [];
  // The documents Apollo Client, urql and the benchmark send, as they send them.
  const everyday = [
    DOCUMENTS.S1,
    `query S2 { task(id: ${JSON.stringify(taskIds[3])}) { id title dueAt tags { id name } } }`,
    `query Open($after: String) { tasks(first: 4, after: $after, filter: { completed: false }) { __typename edges { __typename node { __typename id ...TaskFields tags { __typename ...TagFields } } cursor } pageInfo { __typename hasNextPage endCursor } } }
     fragment TaskFields on Task { id title dueAt overdue priority tags { id } }
     fragment TagFields on Tag { id name color }`,
    '{ tags { __typename id name color open: taskCount(completed: false) taskCount } }',
  ];
  for (const [index, query] of everyday.entries()) {
    requests.push({ method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' }, body: JSON.stringify({ query, variables: {} }), label: `everyday ${index}` });
  }
  while (requests.length < CORPUS_SIZE) {
    fragments.clear();
    const variables: Record<string, unknown> = {};
    const definitions: string[] = [];
    const roots = Array.from({ length: chance(0.2) ? 2 + Math.floor(next() * 2) : 1 }, () => rootField(variables, definitions));
    if (chance(0.1)) roots.push('__typename');
    const usesSkip = roots.some((root) => root.includes('$skip'));
    if (usesSkip) {
      definitions.push('$skip: Boolean!');
      variables.skip = chance(0.5);
    }
    const name = chance(0.5) ? `Q${requests.length}` : '';
    const header = name || definitions.length > 0 ? `query ${name}${definitions.length > 0 ? `(${definitions.join(', ')})` : ''} ` : '';
    let query = `${header}{ ${roots.join(' ')} } ${[...fragments.values()].join(' ')}`;
    let operationName: string | undefined = name && chance(0.3) ? name : undefined;
    if (chance(0.04)) {
      query += ' query Other { __typename }';
      operationName = chance(0.5) ? 'Other' : name || undefined;
    }
    if (chance(0.02)) operationName = 'Missing';
    if (chance(0.03)) delete variables[Object.keys(variables)[0] ?? ''];
    const headers: Record<string, string> = { authorization: `Bearer ${chance(0.03) ? 'not-a-token' : chance(0.05) ? otherToken : token}` };
    const accept = pick(ACCEPTS);
    if (accept) headers.accept = accept;
    if (chance(0.12)) {
      const search = new URLSearchParams({ query, variables: JSON.stringify(variables), ...(operationName ? { operationName } : {}) });
      headers['x-graphql-csrf'] = '1';
      requests.push({ method: 'GET', headers, query: search.toString(), label: `#${requests.length} GET` });
      continue;
    }
    headers['content-type'] = chance(0.85) ? 'application/json' : pick(CONTENT_TYPES);
    const body = chance(0.02) ? `${JSON.stringify({ query, variables }).slice(0, -3)}` : JSON.stringify({ query, variables, ...(operationName ? { operationName } : {}) });
    requests.push({ method: 'POST', headers, body, label: `#${requests.length}` });
  }
  return requests;
}

interface Answer {
  status: number;
  /** Every header but Date, lower-cased, sorted. */
  headers: string;
  body: string;
}

async function send(app: TestApp, request: Request, requestId: string): Promise<Answer> {
  const path = request.method === 'GET' ? `/graphql?${request.query}` : '/graphql';
  const response = await app.fetch(path, { method: request.method, headers: { ...request.headers, 'x-request-id': requestId }, body: request.body });
  const headers = [...response.headers].filter(([name]) => name !== 'date').map(([name, value]) => `${name}: ${value}`).sort().join('\n');
  return { status: response.status, headers, body: await response.text() };
}

const same = (a: Answer, b: Answer) => a.status === b.status && a.headers === b.headers && a.body === b.body;

/** Reads the compiled path answered so far: before yoga ("http"), inside it ("yoga"), or both. */
async function compiledAnswers(via?: 'http' | 'yoga'): Promise<number> {
  const text = await (await compiled.fetch('/metrics')).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('tasks_api_direct_reads_total{outcome="direct"') && (!via || line.includes(`via="${via}"`)))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe('the compiled path and graphql-js, on a generated corpus', () => {
  it(`answer ${CORPUS_SIZE} generated requests with the same status, content type and bytes`, async () => {
    const requests = corpus();
    expect(requests.length).toBeGreaterThanOrEqual(1_000);
    const before = await compiledAnswers();
    const beforeSeam = await compiledAnswers('http');
    const mismatches: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < requests.length) {
          const index = next++;
          const request = requests[index]!;
          const requestId = `differential-${SEED}-${index}`;
          // The compiled server answers twice: the first time through yoga, which plans the text; the
          // second time a planned text is answered by the seam in front of yoga.
          const [first, theirs] = await Promise.all([send(compiled, request, requestId), send(reference, request, requestId)]);
          const again = await send(compiled, request, requestId);
          for (const [path, mine] of [['yoga', first], ['seam', again]] as const) {
            if (same(mine, theirs)) continue;
            mismatches.push(
              `${request.label} ${request.method} (${path}) ${JSON.stringify(request.headers)}\n  ${request.body ?? request.query}\n  compiled: ${mine.status} ${mine.headers.replace(/\n/g, '; ')}\n    ${mine.body.slice(0, 600)}\n  graphql-js: ${theirs.status} ${theirs.headers.replace(/\n/g, '; ')}\n    ${theirs.body.slice(0, 600)}`,
            );
          }
        }
      }),
    );
    expect(mismatches.slice(0, 5).join('\n\n'), `${mismatches.length} mismatches (seed ${SEED})`).toBe('');
    const answered = (await compiledAnswers()) - before;
    const bySeam = (await compiledAnswers('http')) - beforeSeam;
    // Enough of the corpus took the compiled path, by either door, for the comparison to mean something.
    expect(answered).toBeGreaterThan(requests.length * 2 * 0.35);
    expect(bySeam).toBeGreaterThan(requests.length * 0.3);
    console.log(`${requests.length} requests (seed ${SEED}) sent twice: ${answered} answered by the compiled path (${bySeam} before yoga), the rest by graphql-js in both servers`);
  }, 120_000);
});
