import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { planTaskRead } from '../../src/execution/task-read-plan.js';
import { schema } from '../../src/schema/index.js';

// Which documents the direct task reads take on, and what their one statement reads. What they
// answer is compared with graphql-js in test/api/direct-reads.test.ts.

const plan = (document: string) => planTaskRead(schema, parse(document));
const ALWAYS = { id: true, title: true, dueAt: true, completed: true };
const TAGS_BY_NAME = { orderBy: { tag: { name: 'asc' } } };

describe('planTaskRead', () => {
  it('plans the benchmark list and reads only the columns it shows', () => {
    const read = plan('query S1 { tasks(first: 20) { edges { node { id title dueAt tags { id name } } } } }');
    expect(read?.roots.map((root) => [root.key, root.kind])).toEqual([['tasks', 'tasks']]);
    expect(read?.roots[0]!.select).toEqual({ ...ALWAYS, taskTags: { select: { tag: { select: { id: true, name: true } } }, ...TAGS_BY_NAME } });
  });

  it('gathers the columns of every place a document selects tasks and tags', () => {
    const read = plan(`{ tasks { a: edges { node { priority tags { color } } } b: edges { node { createdAt labels: tags { createdAt } } } } }`);
    expect(read?.roots[0]!.select).toEqual({
      ...ALWAYS,
      priority: true,
      createdAt: true,
      taskTags: { select: { tag: { select: { id: true, name: true, color: true, createdAt: true } } }, ...TAGS_BY_NAME },
    });
  });

  it('reads no tags when none are selected, and keeps roots in document order with their aliases', () => {
    const read = plan('query Q($id: ID!) { one: task(id: $id) { description } __typename list: tasks { pageInfo { hasNextPage } } }');
    expect(read?.roots.map((root) => [root.key, root.kind])).toEqual([
      ['one', 'task'],
      ['__typename', 'typename'],
      ['list', 'tasks'],
    ]);
    expect(read?.roots[0]!.select).toEqual({ ...ALWAYS, description: true });
    expect(read?.roots[2]!.select).toEqual(ALWAYS);
  });

  it.each([
    ['a mutation', 'mutation { deleteTask(id: "x") { id } }'],
    ['two operations', 'query A { tasks { edges { node { id } } } } query B { tasks { edges { node { id } } } }'],
    ['a fragment', 'fragment T on Task { id } query { tasks { edges { node { ...T } } } }'],
    ['an inline fragment', '{ tasks { edges { node { ... on Task { id } } } } }'],
    ['a directive on a field', '{ tasks { edges { node { id @skip(if: true) } } } }'],
    ['a directive on the operation', 'query Q @deprecated { tasks { edges { node { id } } } }'],
    ['a repeated response key', '{ tasks { edges { node { id id } } } }'],
    ['totalCount', '{ tasks { totalCount } }'],
    ['a root field other than tasks and task', '{ me { id } }'],
    ['a tag field the plan does not build', '{ tasks { edges { node { tags { taskCount } } } } }'],
    ["a tag's task list", '{ tasks { edges { node { tags { tasks { edges { node { id } } } } } } } }'],
  ])('leaves %s to graphql-js', (_name, document) => {
    expect(plan(document)).toBeNull();
  });

  it('builds the response in selection order, serialized as the schema says', () => {
    const read = plan('{ task(id: "x") { due: dueAt id __typename tags { name id } overdue } }')!;
    const row = {
      id: '0b9d1f0e-7a7c-4c1e-9b0a-5d2f7e8a9c01',
      title: 'T',
      completed: false,
      dueAt: new Date('2000-01-02T03:04:05.006Z'),
      taskTags: [{ tag: { id: '1c9d1f0e-7a7c-4c1e-9b0a-5d2f7e8a9c02', name: 'home' } }],
    };
    expect(JSON.stringify(read.roots[0]!.build(row as never))).toBe(
      JSON.stringify({
        due: '2000-01-02T03:04:05.006Z',
        id: Buffer.from(`Task:${row.id}`).toString('base64'),
        __typename: 'Task',
        tags: [{ name: 'home', id: Buffer.from(`Tag:${row.taskTags[0]!.tag.id}`).toString('base64') }],
        overdue: true,
      }),
    );
  });

  it('refuses to answer null for a field the schema says is never null', () => {
    const read = plan('{ task(id: "x") { title } }')!;
    expect(() => read.roots[0]!.build({ id: 'x', title: null, completed: false, dueAt: null } as never)).toThrow('Task.title is null');
  });
});
