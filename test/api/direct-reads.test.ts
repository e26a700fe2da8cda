import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompleteTaskDocument, CreateTagDocument, CreateTaskDocument } from '../generated/graphql.js';
import { createTestApp, type TestApp } from '../support/app.js';

// Read documents whose fields all declare how they are read are answered without graphql-js'
// execution: one statement in which PostgreSQL writes the data (src/reads/). graphql-js stays the
// reference: every document here goes to two apps on one database, one with direct reads
// and one with DIRECT_READS=off, and the two response bodies must be the same text, errors included.
// The metrics then show which documents the direct path answered, so that the comparison is not
// between graphql-js and itself.

let direct: TestApp;
let reference: TestApp;
let token: string;
let otherToken: string;
let otherTaskId: string;
let otherTagId: string;
const tags: Record<'work' | 'home' | 'bare', string> = { work: '', home: '', bare: '' };
const taskIds: string[] = [];
const DAY = 86_400_000;
const NOW = Date.now();

beforeAll(async () => {
  direct = await createTestApp();
  reference = await createTestApp({ database: direct.database, env: { DIRECT_READS: 'off' } });
  ({ token } = await direct.signUp('direct'));
  tags.work = (await direct.graphql(CreateTagDocument, { input: { name: 'work', color: '#aa0000' } }, { token })).data!.createTag.id;
  tags.home = (await direct.graphql(CreateTagDocument, { input: { name: 'Home', color: '#00aa00' } }, { token })).data!.createTag.id;
  tags.bare = (await direct.graphql(CreateTagDocument, { input: { name: 'bare' } }, { token })).data!.createTag.id;
  const priorities = ['NONE', 'LOW', 'MEDIUM', 'HIGH', 'URGENT'] as const;
  for (let i = 0; i < 14; i++) {
    const dueAt = i % 4 === 0 ? null : new Date(NOW + ((i % 5) - 2) * DAY).toISOString();
    const created = await direct.graphql(
      CreateTaskDocument,
      {
        input: {
          title: i % 3 === 0 ? `Pay "bill" ${i} \\ é ✓` : `Task ${i}`,
          description: i % 2 === 0 ? 'call the plumber\nsoon' : '',
          priority: priorities[i % 5],
          dueAt,
          remindAt: i % 3 === 1 && dueAt ? dueAt : undefined,
          recurrence: i % 5 === 1 && dueAt ? 'FREQ=WEEKLY;BYDAY=MO' : undefined,
          tagIds: [i % 2 === 0 ? tags.work : null, i % 3 === 0 ? tags.home : null, i % 7 === 0 ? tags.bare : null].filter((id): id is string => id !== null),
        },
      },
      { token },
    );
    expect(created.errors).toBeUndefined();
    taskIds.push(created.data!.createTask.id);
    if (i % 4 === 1) await direct.graphql(CompleteTaskDocument, { id: created.data!.createTask.id }, { token });
  }
  const other = await direct.signUp('direct-other');
  otherToken = other.token;
  otherTagId = (await direct.graphql(CreateTagDocument, { input: { name: 'work' } }, { token: otherToken })).data!.createTag.id;
  otherTaskId = (await direct.graphql(CreateTaskDocument, { input: { title: 'not yours', tagIds: [otherTagId] } }, { token: otherToken })).data!.createTask.id;
}, 60_000);
afterAll(async () => {
  await reference?.close();
  await direct?.close();
});

const ALL_TASK_FIELDS = `__typename id title description completed completedAt priority dueAt remindAt reminderSentAt
  recurrence seriesId version createdAt updatedAt overdue tags { __typename id name color createdAt }`;

interface Case {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  /** Whose token; `null` sends none. */
  as?: 'viewer' | 'other' | null;
}

const LIST_CASES: Case[] = [
  {
    name: 'the benchmark list (S1)',
    query: 'query S1 { tasks(first: 20, filter: { completed: false }, orderBy: [{ field: DUE_AT, direction: ASC }]) { edges { node { id title dueAt tags { id name } } } } }',
  },
  {
    name: 'every field, __typename, cursors and pageInfo',
    query: `{ __typename tasks(first: 5) { __typename edges { __typename cursor node { ${ALL_TASK_FIELDS} } }
      pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor } } }`,
  },
  {
    name: 'aliases and two tags selections',
    query: `query Aliased($first: Int) { mine: tasks(first: $first, orderBy: [{ field: TITLE, direction: DESC }]) {
      page: pageInfo { more: hasNextPage }
      a: edges { c: cursor node { name: title labels: tags { id } tags { name color } colours: tags { color } when: dueAt } }
      b: edges { cursor } } }`,
    variables: { first: 7 },
  },
  { name: 'totalCount', query: '{ tasks(first: 2, filter: { completed: false }) { totalCount edges { node { id } } } }' },
  { name: 'only totalCount', query: 'query C($filter: TaskFilter) { tasks(filter: $filter) { count: totalCount } }', variables: { filter: { recurring: true } } },
  { name: 'no edges at all', query: '{ tasks { pageInfo { hasNextPage endCursor } } }' },
  { name: 'first over the maximum (a page of 100)', query: '{ tasks(first: 101) { edges { node { id } } } }' },
  { name: 'an empty page', query: '{ tasks(first: 0) { edges { node { id } } pageInfo { hasNextPage startCursor } } }' },
  ...[
    { completed: true },
    { priorityIn: ['HIGH', 'URGENT'] },
    { overdue: true },
    { overdue: false, hasDueDate: true },
    { recurring: true },
    { search: 'BILL' },
    { search: '100%' },
    { dueBefore: new Date(NOW + DAY).toISOString(), dueAfter: new Date(NOW - 3 * DAY).toISOString() },
  ].map((filter) => ({
    name: `filter ${JSON.stringify(filter)}`,
    query: `query F($filter: TaskFilter, $orderBy: [TaskOrder!]) { tasks(first: 6, filter: $filter, orderBy: $orderBy) {
      edges { cursor node { id title priority dueAt completed overdue tags { name } } } pageInfo { hasNextPage endCursor } } }`,
    variables: { filter, orderBy: [{ field: 'PRIORITY', direction: 'DESC' }, { field: 'DUE_AT', direction: 'ASC' }] },
  })),
  {
    name: 'fragments and repeated fields, as Apollo Client sends them',
    query: `query Open($after: String) { tasks(first: 4, after: $after, filter: { completed: false }) { __typename
        edges { __typename node { __typename id ...TaskFields tags { __typename ...TagFields } } cursor }
        pageInfo { __typename hasNextPage endCursor } } }
      fragment TaskFields on Task { id title dueAt overdue priority tags { id } }
      fragment TagFields on Tag { id name color }`,
  },
  { name: 'a backward page', query: '{ tasks(last: 3) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }' },
  {
    name: 'a backward page before a cursor, by due date',
    query: `query B($before: String) { tasks(last: 2, before: $before, orderBy: [{ field: DUE_AT, direction: DESC }]) { edges { cursor node { id dueAt } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`,
    variables: { before: Buffer.from(`GPC:S:${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`).toString('base64') },
  },
  { name: 'a fragment on an interface', query: '{ tasks(first: 2) { edges { node { ... on Node { id } } } } }' },
  { name: 'tags with their counts and tasks', query: '{ tags { id name open: taskCount(completed: false) taskCount tasks(first: 2, orderBy: [{ field: TITLE, direction: ASC }]) { totalCount edges { node { id title tags { name } } } } } }' },
  { name: 'the viewer with their tags and a page of tasks', query: '{ me { __typename id email name timeZone createdAt tags { name } tasks(first: 3, filter: { completed: false }) { totalCount edges { node { title } } } } }' },
  { name: 'two different node selections', query: '{ tasks(first: 2) { a: edges { node { id } } b: edges { node { title } } } }' },
  { name: 'two roots and __typename', query: `{ open: tasks(first: 2, filter: { completed: false }) { edges { node { id } } } done: tasks(first: 2, filter: { completed: true }) { edges { node { id completedAt } } } __typename }` },
];

const TASK_CASES = (): Case[] => [
  { name: 'task(id:) with every field', query: `query T($id: ID!) { task(id: $id) { ${ALL_TASK_FIELDS} } }`, variables: { id: taskIds[3] } },
  { name: 'task(id:) with aliases next to a list', query: `query T($id: ID!) { it: task(id: $id) { key: id tags { id } } tasks(first: 1) { edges { node { id } } } }`, variables: { id: taskIds[0] } },
  { name: "another user's task is null", query: 'query T($id: ID!) { task(id: $id) { id title } }', variables: { id: otherTaskId } },
  {
    name: "another user's task as a cursor is no position in the list",
    query: 'query P($after: String) { tasks(first: 2, after: $after) { edges { node { id } } pageInfo { hasNextPage } } }',
    variables: { after: Buffer.from(`GPC:S:${Buffer.from(otherTaskId, 'base64').toString().slice('Task:'.length)}`).toString('base64') },
  },
  { name: 'aliases longer than a PostgreSQL name, and ones called like the statement\'s own names', query: `{ tasks(first: 3) { edges { node { ${'a'.repeat(64)}: title ${'a'.repeat(63)}b: title o: id json: dueAt n: title cursor: id tags { j: name o: id } } } } }` },
  { name: "another user's tag filters nothing in", query: 'query F($tags: [ID!]) { tasks(filter: { tagIds: $tags }) { edges { node { id } } } }', variables: { tags: [otherTagId] } },
  { name: 'the other user sees only their own', query: `{ tasks { edges { node { ${ALL_TASK_FIELDS} } } } }`, as: 'other' },
];

/** Documents the direct path has a plan for but hands to graphql-js, which answers with an error or its own paging. */
const HANDED_OVER_CASES = (): Case[] => [
  { name: 'no token', query: '{ tasks { edges { node { id } } } }', as: null },
  { name: 'a cursor that is not one', query: '{ tasks(after: "bm90IGEgY3Vyc29y") { edges { node { id } } } }' },
  { name: 'a global ID as a cursor', query: 'query P($after: String) { tasks(first: 2, after: $after) { edges { node { id } } } }', variables: { after: otherTaskId } },
  { name: 'first below zero', query: '{ tasks(first: -1) { edges { node { id } } } }' },
  { name: 'a search over 200 characters', query: `{ tasks(filter: { search: "${'x'.repeat(201)}" }) { edges { node { id } } } }` },
  // Refused while the count is being set up too: neither read may be left with an unhandled rejection.
  { name: 'a tag filter that is not a Tag ID, with totalCount', query: 'query F($tags: [ID!]) { tasks(filter: { tagIds: $tags }) { totalCount } }', variables: { tags: ['nope'] } },
  { name: 'a Task id of the wrong type', query: 'query T($id: ID!) { task(id: $id) { id } }', variables: { id: tags.work } },
  { name: 'a variable of the wrong type', query: 'query P($first: Int) { tasks(first: $first) { edges { node { id } } } }', variables: { first: 'ten' } },
];

/** Documents the direct path has no plan for. */
const UNPLANNED_CASES: Case[] = [
  { name: '@include', query: '{ tasks(first: 2) { edges { node { id title @include(if: false) } } } }' },
  { name: 'a field without a declaration (node)', query: '{ tasks(first: 1) { edges { node { id } } } node(id: "VGFzazox") { id } }' },
  { name: 'introspection', query: '{ __schema { queryType { name } } tasks(first: 1) { edges { node { id } } } }' },
];

async function answer(app: TestApp, testCase: Case): Promise<{ status: number; body: string }> {
  const as = testCase.as === undefined ? 'viewer' : testCase.as;
  const headers: Record<string, string> = as === null ? {} : { authorization: `Bearer ${as === 'viewer' ? token : otherToken}` };
  const response = await app.post({ query: testCase.query, variables: testCase.variables ?? {} }, headers);
  return { status: response.status, body: await response.text() };
}

/** Reads answered each way so far, whether the seam in front of yoga or yoga's own execution answered them. */
async function directReads(outcome: 'direct' | 'graphql'): Promise<number> {
  const text = await (await direct.fetch('/metrics')).text();
  const lines = text.split('\n').filter((candidate) => candidate.startsWith(`tasks_api_direct_reads_total{outcome="${outcome}",`));
  return lines.reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

/** Sends the case to both apps; their answers must be identical. Returns how the direct app's metrics moved. */
async function compare(testCase: Case) {
  const before = { direct: await directReads('direct'), graphql: await directReads('graphql') };
  const mine = await answer(direct, testCase);
  const theirs = await answer(reference, testCase);
  expect(mine.body, testCase.name).toBe(theirs.body);
  expect(mine.status, testCase.name).toBe(theirs.status);
  return { body: JSON.parse(mine.body) as { data?: unknown; errors?: unknown[] }, direct: (await directReads('direct')) - before.direct, graphql: (await directReads('graphql')) - before.graphql };
}

describe('direct task reads answer exactly as graphql-js does', () => {
  it.each(LIST_CASES)('lists: $name', async (testCase) => {
    const { body, direct: answered } = await compare(testCase);
    expect(body.errors).toBeUndefined();
    expect(answered).toBe(1);
  });

  it('pages through every task with cursors', async () => {
    let after: string | null = null;
    const seen: string[] = [];
    for (let page = 0; page < 10; page++) {
      const query = 'query P($after: String) { tasks(first: 3, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } }';
      const { body, direct: answered } = await compare({ name: `page ${page}`, query, variables: { after } });
      expect(answered).toBe(1);
      const tasks = (body.data as { tasks: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }).tasks;
      seen.push(...tasks.edges.map((edge) => edge.node.id));
      if (!tasks.pageInfo.hasNextPage) break;
      after = tasks.pageInfo.endCursor;
    }
    // The task ids made in beforeAll, and the next occurrences completing made.
    const all = await answer(direct, { name: 'all', query: '{ tasks(first: 100) { edges { node { id } } } }' });
    const everyId = (JSON.parse(all.body) as { data: { tasks: { edges: { node: { id: string } }[] } } }).data.tasks.edges.map((edge) => edge.node.id);
    expect(seen).toEqual(everyId);
    expect(everyId).toEqual(expect.arrayContaining(taskIds));
  });

  it('task(id:) and other users', async () => {
    for (const testCase of TASK_CASES()) {
      const { body, direct: answered } = await compare(testCase);
      expect(body.errors, testCase.name).toBeUndefined();
      expect(answered, testCase.name).toBe(1);
    }
    const theirs = await answer(direct, TASK_CASES()[2]!);
    expect(JSON.parse(theirs.body)).toEqual({ data: { task: null } });
    const mine = await answer(direct, { name: 'mine', query: '{ tasks(first: 100) { edges { node { id } } } }', as: 'other' });
    expect(JSON.parse(mine.body).data.tasks.edges).toEqual([{ node: { id: otherTaskId } }]);
  });

  it('hands errors and backward pages to graphql-js, which answers them as before', async () => {
    for (const testCase of HANDED_OVER_CASES()) {
      const { direct: answered, graphql } = await compare(testCase);
      expect({ name: testCase.name, answered, graphql }).toEqual({ name: testCase.name, answered: 0, graphql: 1 });
    }
  });

  it('leaves documents it has no plan for to graphql-js', async () => {
    for (const testCase of UNPLANNED_CASES) {
      const { direct: answered, graphql } = await compare(testCase);
      expect({ name: testCase.name, answered, graphql }).toEqual({ name: testCase.name, answered: 0, graphql: 0 });
    }
  });

  it('reports a database failure as graphql-js does, without running the read twice', async () => {
    const unavailable = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    let directRuns = 0;
    const failingDirect = await createTestApp({ database: direct.database, runStatement: () => ((directRuns += 1), unavailable()) });
    const failingReference = await createTestApp({ database: direct.database, env: { DIRECT_READS: 'off' }, runStatement: unavailable });
    try {
      for (const testCase of [LIST_CASES[0]!, TASK_CASES()[0]!, { name: 'a list beside a task', query: `query T($id: ID!) { task(id: $id) { id } tasks { edges { node { id } } } }`, variables: { id: taskIds[0] } }]) {
        directRuns = 0;
        const mine = await answer(failingDirect, testCase);
        const theirs = await answer(failingReference, testCase);
        expect(mine.body, testCase.name).toBe(theirs.body);
        expect(JSON.parse(mine.body).errors[0].extensions.code, testCase.name).toBe('SERVICE_UNAVAILABLE');
        // One statement answers the whole document.
        expect(directRuns, testCase.name).toBe(1);
      }
    } finally {
      await failingDirect.close();
      await failingReference.close();
    }
  });
});
