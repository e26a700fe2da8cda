import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { planTaskRead, type RootPlan } from '../../src/execution/task-read-plan.js';
import { schema } from '../../src/schema/index.js';

// Which documents the direct task reads take on, and what their one statement reads. What they
// answer is compared with graphql-js in test/api/direct-reads.test.ts.

const plan = (document: string) => planTaskRead(schema, parse(document));
const fieldsOf = (root: RootPlan | undefined) => (root && root.kind !== 'typename' ? root.fields : undefined);

describe('planTaskRead', () => {
  it('plans the benchmark list: PostgreSQL writes each task with its response keys', () => {
    const read = plan('query S1 { tasks(first: 20) { edges { node { id title dueAt tags { id name } } } } }');
    expect(read?.roots.map((root) => [root.key, root.kind])).toEqual([['tasks', 'tasks']]);
    expect(fieldsOf(read?.roots[0])).toEqual([
      { key: 'id', kind: 'globalId' },
      { key: 'title', kind: 'column', column: 'title' },
      { key: 'dueAt', kind: 'timestamp', column: 'dueAt' },
      { key: 'tags', kind: 'tags', fields: [{ key: 'id', kind: 'globalId' }, { key: 'name', kind: 'column', column: 'name' }] },
    ]);
  });

  it('keeps aliases, __typename and the order of the selection', () => {
    const read = plan('{ tasks { edges { node { due: dueAt __typename overdue labels: tags { __typename c: color } tags { createdAt } } } } }');
    expect(fieldsOf(read?.roots[0])).toEqual([
      { key: 'due', kind: 'timestamp', column: 'dueAt' },
      { key: '__typename', kind: 'constant', value: 'Task' },
      { key: 'overdue', kind: 'overdue' },
      { key: 'labels', kind: 'tags', fields: [{ key: '__typename', kind: 'constant', value: 'Tag' }, { key: 'c', kind: 'column', column: 'color' }] },
      { key: 'tags', kind: 'tags', fields: [{ key: 'createdAt', kind: 'timestamp', column: 'createdAt' }] },
    ]);
  });

  it('spreads fragments on the same type and merges a key selected twice, as graphql-js collects fields', () => {
    const read = plan(`fragment Tags on Task { tags { id } } fragment Name on Tag { name }
      query { tasks { edges { node { id ... on Task { title id } ...Tags tags { ...Name } } } } }`);
    expect(fieldsOf(read?.roots[0])).toEqual([
      { key: 'id', kind: 'globalId' },
      { key: 'title', kind: 'column', column: 'title' },
      { key: 'tags', kind: 'tags', fields: [{ key: 'id', kind: 'globalId' }, { key: 'name', kind: 'column', column: 'name' }] },
    ]);
  });

  it('keeps roots in document order with their aliases', () => {
    const read = plan('query Q($id: ID!) { one: task(id: $id) { description } __typename list: tasks { pageInfo { hasNextPage } } }');
    expect(read?.roots.map((root) => [root.key, root.kind])).toEqual([
      ['one', 'task'],
      ['__typename', 'typename'],
      ['list', 'tasks'],
    ]);
    expect(fieldsOf(read?.roots[0])).toEqual([{ key: 'description', kind: 'column', column: 'description' }]);
    expect(fieldsOf(read?.roots[2])).toEqual([]);
  });

  it.each([
    ['a mutation', 'mutation { deleteTask(id: "x") { id } }'],
    ['two operations', 'query A { tasks { edges { node { id } } } } query B { tasks { edges { node { id } } } }'],
    ['a fragment on an interface', '{ tasks { edges { node { ... on Node { id } } } } }'],
    ['a directive in a fragment', 'fragment T on Task { id @include(if: true) } { tasks { edges { node { ...T } } } }'],
    ['a directive on a field', '{ tasks { edges { node { id @skip(if: true) } } } }'],
    ['a directive on the operation', 'query Q @deprecated { tasks { edges { node { id } } } }'],
    ['a root field other than tasks and task', '{ me { id } }'],
    ['a tag field the plan does not build', '{ tasks { edges { node { tags { taskCount } } } } }'],
    ["a tag's task list", '{ tasks { edges { node { tags { tasks { edges { node { id } } } } } } } }'],
  ])('leaves %s to graphql-js', (_name, document) => {
    expect(plan(document)).toBeNull();
  });

  it.each([
    ['two different node selections', '{ tasks { a: edges { node { id } } b: edges { node { title } } } }'],
    ['arguments on a field that takes none', '{ tasks { edges { node { title(x: 1) } } } }'],
  ])('leaves %s to graphql-js', (_name, document) => {
    expect(plan(document)).toBeNull();
  });

  it('writes the connection around the JSON PostgreSQL wrote, as graphql-js would serialize it', () => {
    const valid = plan('{ list: tasks { __typename edges { cursor n: node { id } } info: pageInfo { hasNextPage endCursor startCursor } } }')!;
    const root = valid.roots[0]!;
    const connection = {
      edges: [
        { cursor: 'Y1', node: { id: 'a', json: '{"id":"QQ=="}' } },
        { cursor: 'Y"2', node: { id: 'b', json: '{"id":"Qg=="}' } },
      ],
      pageInfo: { hasNextPage: true, endCursor: 'Y"2', startCursor: 'Y1' },
    };
    const text = root.kind === 'tasks' ? root.write(connection as never) : '';
    expect(text).toBe(
      JSON.stringify({
        __typename: 'TaskConnection',
        edges: [
          { cursor: 'Y1', n: { id: 'QQ==' } },
          { cursor: 'Y"2', n: { id: 'Qg==' } },
        ],
        info: { hasNextPage: true, endCursor: 'Y"2', startCursor: 'Y1' },
      }),
    );
  });

  it('refuses to write null for a field the schema says is never null', () => {
    const root = plan('{ tasks { pageInfo { hasNextPage } } }')!.roots[0]!;
    expect(() => root.kind === 'tasks' && root.write({ edges: [], pageInfo: { hasNextPage: null } } as never)).toThrow('PageInfo.hasNextPage is null');
  });
});
