import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTagDocument, CreateTaskDocument, TasksDocument } from '../generated/graphql.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { judgeStatements, type RecordedStatement } from '../support/statement-audit.js';

// Every test app records the statements its requests send and judges them when it closes
// (test/support/statement-audit.ts), so the whole suite is audited. This file shows that the judge
// finds what it must: a scan of a user's table that does not bind the viewer, a write for another
// owner, a statement that binds someone else.

let app: TestApp;
let viewer: string;
let other: string;

beforeAll(async () => {
  app = await createTestApp();
  const { token, userId } = await app.signUp('scope');
  viewer = Buffer.from(userId, 'base64').toString('utf8').split(':')[1]!;
  other = Buffer.from((await app.signUp('scope-other')).userId, 'base64').toString('utf8').split(':')[1]!;
  const tag = (await app.graphql(CreateTagDocument, { input: { name: 'audited' } }, { token })).data!.createTag.id;
  await app.graphql(CreateTaskDocument, { input: { title: 'audited', tagIds: [tag] } }, { token });
  expect((await app.graphql(TasksDocument, { first: 5 }, { token })).errors).toBeUndefined();
});
afterAll(() => app?.close());

const judge = (text: string, values: unknown[], as = viewer) => judgeStatements(app.database.url, [{ text, values, viewer: as } satisfies RecordedStatement]);

describe('the statement audit', () => {
  it('passes the statements the server sent for these requests', async () => {
    expect(await judge('SELECT t.id FROM tasks t WHERE t.user_id = $1 AND t.completed = false', [viewer])).toEqual([]);
    expect(await judge('SELECT g.name FROM task_tags tt JOIN tags g ON g.id = tt.tag_id AND g.user_id = $1 WHERE tt.user_id = $1', [viewer])).toEqual([]);
  });

  it('finds a scan that does not bind the viewer', async () => {
    const [problem] = await judge('SELECT id, title FROM tasks WHERE id = $1', ['00000000-0000-4000-8000-000000000000']);
    expect(problem).toMatch(/of tasks does not bind user_id to the viewer/);
  });

  it('finds the one table of a join that is not bound', async () => {
    const problems = await judge('SELECT t.id FROM tasks t JOIN task_tags tt ON tt.task_id = t.id WHERE t.user_id = $1', [viewer]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/of task_tags does not bind user_id/);
  });

  it('finds a statement that binds another user, and one that binds two', async () => {
    expect((await judge('SELECT id FROM tags WHERE user_id = $1', [other]))[0]).toMatch(/instead of the viewer/);
    expect((await judge('SELECT t.id FROM tasks t, tags g WHERE t.user_id = $1 AND g.user_id = $2', [viewer, other]))[0]).toMatch(/several owners/);
  });

  it("passes a read that PostgreSQL proves empty: another user's row asked for by id under the viewer's scope", async () => {
    expect(await judge('SELECT u.id FROM users u WHERE u.id = $1::uuid AND u.id = $2', [other, viewer])).toEqual([]);
    // A one-time filter that is not proved false hides nothing.
    expect((await judge('SELECT id FROM tasks WHERE $1::boolean', [true]))[0]).toMatch(/of tasks does not bind user_id/);
  });

  it('finds a write for another owner, in one row or several', async () => {
    const one = await judge('INSERT INTO tags (user_id, name) VALUES ($1, $2)', [other, 'theirs']);
    expect(one[0]).toMatch(/instead of the viewer/);
    const rows = await judge('INSERT INTO tags (user_id, name) VALUES ($1, $2), ($3, $4)', [viewer, 'mine', other, 'theirs']);
    expect(rows[0]).toMatch(/several owners/);
    expect(await judge('UPDATE tasks SET title = $1 WHERE id = $2', ['x', '00000000-0000-4000-8000-000000000000'])).toHaveLength(1);
  });

  it('allows only what sign-in and sign-up need without a viewer', async () => {
    const nobody = '00000000-0000-0000-0000-000000000000';
    expect(await judge('SELECT id, password_hash FROM users WHERE email = $1', ['someone@example.com'], nobody)).toEqual([]);
    expect((await judge('SELECT id, email FROM users', [], nobody))[0]).toMatch(/of users does not bind id/);
  });
});
