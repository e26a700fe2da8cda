import { describe, expect, it } from 'vitest';
import { compileTaskById, compileTaskJsonById, compileTaskPage, type PrismaTaskQuery, type TaskJsonField } from '../../src/tasks/task-sql.js';

// What the compiler takes on and what it leaves to Prisma. Its answers are compared with Prisma's
// through GraphQL in test/api/compiled-reads.test.ts.

const VIEWER = '11111111-1111-4111-8111-111111111111';
const TASK = '22222222-2222-4222-8222-222222222222';
const tags = { orderBy: { tag: { name: 'asc' } }, select: { tag: { select: { id: true, name: true } } } };
const page = (query: PrismaTaskQuery) => compileTaskPage({ viewerId: VIEWER, query, now: new Date('2026-01-01T00:00:00Z') });

describe('compileTaskPage', () => {
  it('scopes every table it reads to the viewer, who is always $1, and reaches links only through her tasks', () => {
    const statement = page({ select: { id: true, title: true, taskTags: tags }, take: 21, skip: 1, cursor: { id: TASK } })!;
    expect(statement.values[0]).toBe(VIEWER);
    expect(statement.text).toContain('t.user_id = $1');
    expect(statement.text).toContain('g.user_id = $1');
    // Owner first: task_tags' key is (user_id, task_id, tag_id).
    expect(statement.text).toContain('WHERE tt.user_id = $1 AND tt.task_id = t.id');
    // The cursor row is looked up among the viewer's tasks only.
    expect(statement.text).toMatch(/FROM tasks WHERE id = \$\d+::uuid AND user_id = \$1/);
    expect(statement.values).toContain(TASK);
  });

  it('passes every value as a parameter, never in the text', () => {
    const search = "x'); DROP TABLE tasks; --";
    const statement = compileTaskPage({
      viewerId: VIEWER,
      query: { select: { id: true }, take: 5, skip: 0 },
      filter: { search, priorityIn: ['HIGH'], tagIds: [TASK], dueAfter: new Date('2026-01-01T00:00:00Z') },
      now: new Date(),
    })!;
    expect(statement.text).not.toContain('DROP');
    expect(statement.values).toContain(`%${search}%`);
    expect(statement.values).toContainEqual(['HIGH']);
  });

  it('leaves a search unprepared, so that each term is planned for itself', () => {
    const statement = (search?: string) => compileTaskPage({ viewerId: VIEWER, query: { select: { id: true }, take: 5, skip: 0 }, filter: { search, completed: false }, now: new Date() })!;
    expect(statement('invoice').prepare).toBe(false);
    expect(statement('   ').prepare).toBe(true);
    expect(statement(undefined).prepare).toBe(true);
  });

  it.each<[string, PrismaTaskQuery]>([
    ['backward paging', { select: { id: true }, take: -6, skip: 1, cursor: { id: TASK } }],
    ['a skip without a cursor', { select: { id: true }, take: 5, skip: 3 }],
    ['include instead of select', { include: { taskTags: true }, take: 5, skip: 0 }],
    ['an unknown column', { select: { id: true, secret: true }, take: 5, skip: 0 }],
    ['another relation', { select: { id: true, user: { select: { email: true } } }, take: 5, skip: 0 }],
    ['tags in another order', { select: { taskTags: { ...tags, orderBy: { tag: { name: 'desc' } } } }, take: 5, skip: 0 }],
    ['a tag relation inside tags', { select: { taskTags: { ...tags, select: { tag: { select: { id: true, user: true } } } } }, take: 5, skip: 0 }],
    ['no paging', { select: { id: true } }],
  ])('leaves %s to Prisma', (_name, query) => {
    expect(page(query)).toBeNull();
  });
});

describe('compileTaskById', () => {
  it("reads one of the viewer's tasks with the tags' timestamps marked for conversion", () => {
    const statement = compileTaskById(VIEWER, TASK, { select: { id: true, taskTags: { ...tags, select: { tag: { select: { id: true, createdAt: true } } } } } })!;
    expect(statement.values).toEqual([VIEWER, TASK]);
    expect(statement.text).toMatch(/WHERE t\.user_id = \$1 AND t\.id = \$2::uuid$/);
    expect(statement.tagDates).toEqual(['createdAt']);
  });

  it('leaves paging arguments and unknown selections to Prisma', () => {
    expect(compileTaskById(VIEWER, TASK, { select: { id: true }, take: 1 })).toBeNull();
    expect(compileTaskById(VIEWER, TASK, { select: { generated: true } })).toBeNull();
  });
});

describe('task JSON (the direct task reads)', () => {
  const fields: TaskJsonField[] = [
    { key: 'id', kind: 'globalId' },
    { key: 'late', kind: 'overdue' },
    { key: 'tags', kind: 'tags', fields: [{ key: 'name', kind: 'column', column: 'name' }] },
  ];

  it('reads the id and one JSON text per task, scoped to the viewer on every table, with values as parameters', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const statement = compileTaskPage({ viewerId: VIEWER, query: { take: 21, skip: 1, cursor: { id: TASK } }, now, json: fields })!;
    expect(statement.text).toMatch(/^SELECT t\.id AS "id", \(.*\) AS "json" FROM tasks t/s);
    for (const scope of ['t.user_id = $1', 'g.user_id = $1', 'WHERE tt.user_id = $1 AND tt.task_id = t.id']) expect(statement.text).toContain(scope);
    expect(statement.values[0]).toBe(VIEWER);
    expect(statement.values).toEqual(expect.arrayContaining([TASK, now.toISOString(), '{"id":', ',"late":', ',"tags":', '{"name":', 21]));
    expect(compileTaskJsonById(VIEWER, TASK, fields, now).text).toContain('WHERE t.user_id = $1 AND t.id = $2::uuid');
  });

  it('keeps response keys out of the SQL text: aliases are parameters, and cannot change the statement', () => {
    const aliased: TaskJsonField[] = [
      { key: 'x" FROM users --', kind: 'globalId' },
      { key: 'late', kind: 'overdue' },
      { key: 'labels', kind: 'tags', fields: [{ key: 'n'.repeat(80), kind: 'column', column: 'name' }] },
    ];
    const now = new Date();
    const plain = compileTaskJsonById(VIEWER, TASK, fields, now);
    const hostile = compileTaskJsonById(VIEWER, TASK, aliased, now);
    expect(hostile.text).toBe(plain.text);
    expect(hostile.values).toContain('{"x\\" FROM users --":');
  });

  it('refuses a type name that is not a plain name, and an unknown column', () => {
    const compile = (json: TaskJsonField[]) => compileTaskJsonById(VIEWER, TASK, json, new Date());
    expect(() => compile([{ key: 'x', kind: 'constant', value: "Task'; --" }])).toThrow('not a GraphQL name');
    expect(() => compile([{ key: 'x', kind: 'column', column: 'passwordHash' }])).toThrow('no such column');
  });
});
