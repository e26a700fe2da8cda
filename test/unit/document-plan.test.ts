import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { readFrom, readObject } from '../../src/reads/declarations.js';
import { planDocument } from '../../src/reads/document-plan.js';
import { bound } from '../../src/reads/parameters.js';
import { from, param, rowId } from '../../src/reads/sources.js';
import { schema } from '../../src/schema/index.js';

// Which documents the read compiler answers itself (src/reads/document-plan.ts): those whose every
// field declares how it is read, with no authorization rule of its own beyond a signed-in viewer.
// Anything else is graphql-js' to execute, so a field added without a declaration, or one with its
// own auth rule, can never be bypassed by the compiled path.

function testSchema() {
  const builder = new SchemaBuilder<{ Context: object; AuthScopes: { loggedIn: boolean; admin: boolean } }>({
    plugins: [ScopeAuthPlugin, RelayPlugin],
    scopeAuth: { authScopes: () => ({ loggedIn: true, admin: false }) },
    relay: {},
  });
  const task = readFrom('tasks');
  const Task = builder.objectRef<Record<string, unknown>>('Task');
  builder.objectType(Task, {
    ...task.type,
    fields: (t) => ({
      title: t.string({ ...task.column('title') }),
      secret: t.string({ authScopes: { admin: true }, ...task.column('description') }),
      undeclared: t.string({ resolve: () => 'computed in JavaScript' }),
    }),
  });
  builder.queryType({
    authScopes: { loggedIn: true },
    fields: (t) => ({
      task: t.field({
        type: Task,
        nullable: true,
        args: { id: t.arg.id({ required: true }) },
        ...readObject({ table: 'tasks', input: (args) => ({ id: bound(args.id as string) }), row: (env, _parent, row, input) => from(env.q, row).where(rowId(row), '=', param(input.id)) }),
      }),
    }),
  });
  return builder.toSchema();
}

const plans = (source: string, against = testSchema()) => planDocument(against, parse(source)) !== null;

describe('planning a document', () => {
  it('plans a document whose every field declares how it is read', () => {
    expect(plans('{ task(id: "1") { __typename title } }')).toBe(true);
  });

  it('leaves a field without a declaration, and any document selecting it, to graphql-js', () => {
    expect(plans('{ task(id: "1") { title undeclared } }')).toBe(false);
  });

  it('leaves a field with its own authorization rule to graphql-js, which enforces it', () => {
    expect(plans('{ task(id: "1") { secret } }')).toBe(false);
  });

  it('leaves directives, mutations and several operations to graphql-js', () => {
    expect(plans('query Q($show: Boolean!) { task(id: "1") { title @include(if: $show) } }')).toBe(false);
    expect(plans('query A { task(id: "1") { title } } query B { task(id: "2") { title } }')).toBe(false);
    expect(plans('mutation { createTask(input: { title: "x" }) { id } }', schema)).toBe(false);
  });

  it('plans the schema’s everyday reads: lists with tags, a task, tags with counts and tasks, the viewer', () => {
    expect(plans('{ tasks(first: 20) { totalCount edges { cursor node { id title dueAt overdue tags { id name } } } pageInfo { hasNextPage endCursor } } }', schema)).toBe(true);
    expect(plans('query T($id: ID!) { task(id: $id) { ...F } } fragment F on Task { id title ... on Node { id } }', schema)).toBe(true);
    expect(plans('{ tags { id name taskCount(completed: false) tasks(first: 5) { edges { node { title } } } } }', schema)).toBe(true);
    expect(plans('{ me { email tags { name } tasks(last: 3) { edges { node { id } } } } }', schema)).toBe(true);
  });

  it('leaves node, nodes and introspection to graphql-js', () => {
    expect(plans('{ node(id: "x") { id } }', schema)).toBe(false);
    expect(plans('{ nodes(ids: ["x"]) { id } }', schema)).toBe(false);
    expect(plans('{ __schema { types { name } } }', schema)).toBe(false);
  });
});
