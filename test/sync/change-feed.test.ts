import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeTombstones } from '../../src/sync/tombstones.js';
import {
  ChangesDocument,
  CreateListDocument,
  CreateTagDocument,
  CreateTaskDocument,
  DeleteTagDocument,
  DeleteTaskDocument,
  SetTaskTagsDocument,
  UpdateTaskDocument,
  type ChangesQuery,
} from '../generated/graphql.js';
import { createTestApp, errorCodes, type TestApp } from '../support/app.js';
import { uuidOf } from '../support/events.js';

// The change feed through the server's socket: a full sync, then tokens; each object once in its
// latest state; deletions; commit order under concurrent transactions; expiry; only the viewer's own.

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

type Change = ChangesQuery['changes']['changes'][number];

/** Pages `changes` from `syncToken` until hasMore is false. */
async function syncAll(token: string, syncToken: string | null, first = 100) {
  const changes: Change[] = [];
  let pages = 0;
  for (;;) {
    const result = await app.graphql(ChangesDocument, { syncToken, first }, { token });
    expect(result.errors).toBeUndefined();
    const page = result.data!.changes;
    changes.push(...page.changes);
    syncToken = page.syncToken;
    pages += 1;
    if (!page.hasMore) return { changes, syncToken, pages };
  }
}

describe('changes', () => {
  it('answers a full sync without a token, paged, each live object once', async () => {
    const ann = await app.signUp('ann');
    const list = (await app.graphql(CreateListDocument, { input: { name: 'Home' } }, { token: ann.token })).data!.createList;
    const tag = (await app.graphql(CreateTagDocument, { input: { name: 'errand' } }, { token: ann.token })).data!.createTag;
    const tasks: { id: string }[] = [];
    for (let index = 0; index < 5; index++) {
      tasks.push((await app.graphql(CreateTaskDocument, { input: { title: `task ${index}`, listId: list.id } }, { token: ann.token })).data!.createTask);
    }
    const gone = (await app.graphql(CreateTaskDocument, { input: { title: 'gone' } }, { token: ann.token })).data!.createTask;
    expect((await app.graphql(DeleteTaskDocument, { id: gone.id }, { token: ann.token })).errors).toBeUndefined();

    const { changes, pages } = await syncAll(ann.token, null, 2);
    expect(pages).toBeGreaterThan(3);
    const ids = changes.map((change) => change.id);
    expect(new Set(ids).size).toBe(ids.length);
    // The Inbox, Home, the tag and the five tasks; nothing of the deleted task.
    expect(changes.every((change) => change.kind === 'UPSERT')).toBe(true);
    expect(ids).toEqual(expect.arrayContaining([list.id, tag.id, ...tasks.map((task) => task.id)]));
    expect(ids).not.toContain(gone.id);
    expect(changes).toHaveLength(8);
    const home = changes.find((change) => change.id === list.id)!;
    expect(home).toMatchObject({ typename: 'List', node: { name: 'Home' } });
    const first = changes.find((change) => change.id === tasks[0]!.id)!;
    expect(first.node).toMatchObject({ title: 'task 0', list: { id: list.id } });
  });

  it('then answers what changed since a token: each object once, in its latest state, deletions as DELETE', async () => {
    const ben = await app.signUp('ben');
    const keep = (await app.graphql(CreateTaskDocument, { input: { title: 'keep' } }, { token: ben.token })).data!.createTask;
    const drop = (await app.graphql(CreateTaskDocument, { input: { title: 'drop' } }, { token: ben.token })).data!.createTask;
    const tag = (await app.graphql(CreateTagDocument, { input: { name: 'soon' } }, { token: ben.token })).data!.createTag;
    const { syncToken } = await syncAll(ben.token, null);

    expect((await syncAll(ben.token, syncToken)).changes).toEqual([]);
    await app.graphql(UpdateTaskDocument, { input: { id: keep.id, title: 'keep it' } }, { token: ben.token });
    await app.graphql(UpdateTaskDocument, { input: { id: keep.id, title: 'keep it up' } }, { token: ben.token });
    await app.graphql(SetTaskTagsDocument, { taskId: keep.id, tagIds: [tag.id] }, { token: ben.token });
    await app.graphql(DeleteTaskDocument, { id: drop.id }, { token: ben.token });

    const since = await syncAll(ben.token, syncToken);
    expect(since.changes.map((change) => [change.kind, change.id])).toEqual([
      ['UPSERT', keep.id],
      ['DELETE', drop.id],
    ]);
    expect(since.changes[0]!.node).toMatchObject({ title: 'keep it up', tags: [{ id: tag.id }] });
    expect(since.changes[1]!.node).toBeNull();

    // Deleting the tag is a DELETE of the tag and a change of the task that carried it.
    await app.graphql(DeleteTagDocument, { id: tag.id }, { token: ben.token });
    const after = await syncAll(ben.token, since.syncToken);
    expect(after.changes.map((change) => [change.kind, change.id]).sort()).toEqual([
      ['DELETE', tag.id],
      ['UPSERT', keep.id],
    ].sort());
    expect(after.changes.find((change) => change.id === keep.id)!.node).toMatchObject({ tags: [] });
  });

  it('never shows another user’s objects, whatever token is given', async () => {
    const cid = await app.signUp('cid');
    const dee = await app.signUp('dee');
    const secret = (await app.graphql(CreateTaskDocument, { input: { title: 'cid only' } }, { token: cid.token })).data!.createTask;
    const { syncToken: cidToken } = await syncAll(cid.token, null);
    await app.graphql(UpdateTaskDocument, { input: { id: secret.id, title: 'cid only, changed' } }, { token: cid.token });

    const deeFull = await syncAll(dee.token, null);
    const deeWithCidsToken = await syncAll(dee.token, cidToken);
    for (const change of [...deeFull.changes, ...deeWithCidsToken.changes]) expect(change.id).not.toBe(secret.id);
    const owners = await app.pool.query('SELECT DISTINCT user_id FROM tasks WHERE id = ANY($1::uuid[])', [
      deeFull.changes.filter((change) => change.typename === 'Task').map((change) => uuidOf(change.id)),
    ]);
    expect(owners.rows.every((row) => row.user_id === uuidOf(dee.userId))).toBe(true);
  });

  it('refuses a malformed token and a page size out of range, with the argument named', async () => {
    const eve = await app.signUp('eve');
    for (const syncToken of ['', 'nope', Buffer.from('1:x:Task:1:0').toString('base64url'), Buffer.from('2:1::: 0').toString('base64url'), 'a'.repeat(500)]) {
      const result = await app.graphql(ChangesDocument, { syncToken }, { token: eve.token });
      expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors![0]!.extensions!.fields).toEqual([expect.objectContaining({ path: 'syncToken' })]);
    }
    for (const first of [0, -1, 501]) {
      expect(errorCodes(await app.graphql(ChangesDocument, { first }, { token: eve.token }))).toEqual(['BAD_USER_INPUT']);
    }
    expect(errorCodes(await app.graphql(ChangesDocument, {}))).toEqual(['UNAUTHENTICATED']);
  });

  it('numbers changes in commit order: a transaction that began first but commits last is not skipped', async () => {
    const fay = await app.signUp('fay');
    const early = (await app.graphql(CreateTaskDocument, { input: { title: 'early' } }, { token: fay.token })).data!.createTask;
    const late = (await app.graphql(CreateTaskDocument, { input: { title: 'late' } }, { token: fay.token })).data!.createTask;
    const { syncToken } = await syncAll(fay.token, null);

    const slow = new pg.Client({ connectionString: app.database.url });
    const quick = new pg.Client({ connectionString: app.database.url });
    await Promise.all([slow.connect(), quick.connect()]);
    try {
      await slow.query('BEGIN');
      await slow.query("UPDATE tasks SET title = 'early, written first' WHERE id = $1", [uuidOf(early.id)]);
      await quick.query("UPDATE tasks SET title = 'late, committed first' WHERE id = $1", [uuidOf(late.id)]);
      // A reader between the two commits sees the committed one and moves its token past it ...
      const between = await syncAll(fay.token, syncToken);
      expect(between.changes.map((change) => change.id)).toEqual([late.id]);
      await slow.query('COMMIT');
      // ... and still gets the change that committed after it read.
      const after = await syncAll(fay.token, between.syncToken);
      expect(after.changes.map((change) => [change.id, (change.node as { title: string }).title])).toEqual([[early.id, 'early, written first']]);
    } finally {
      await Promise.all([slow.end(), quick.end()]);
    }
  });

  it('notes each changed user once per transaction, however many statements record changes', async () => {
    // A reminder is mirrored from each task by a row trigger, so this UPDATE runs one recording
    // statement per task: the users noted for the commit must not grow with them.
    const gil = await app.signUp('gil');
    const userId = uuidOf(gil.userId);
    const client = new pg.Client({ connectionString: app.database.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      const created = await client.query(`INSERT INTO tasks (user_id, title) SELECT $1, 'row ' || k FROM generate_series(1, 200) k RETURNING id`, [userId]);
      await client.query(`UPDATE tasks SET remind_at = now() + interval '1 day' WHERE user_id = $1`, [userId]);
      const { rows: [noted] } = await client.query(`SELECT current_setting('sync.changed_users') AS users`);
      expect(noted.users).toBe(`{${userId}}`);
      await client.query('COMMIT');
      const ids = created.rows.map((row: { id: string }) => row.id);
      const { rows: [numbered] } = await client.query(
        `SELECT count(*)::int AS rows, count(DISTINCT seq)::int AS numbers, bool_and(seq IS NOT NULL) AS all_numbered FROM changes WHERE user_id = $1 AND object_id = ANY($2::uuid[])`,
        [userId, ids],
      );
      expect(numbered).toEqual({ rows: 200, numbers: 1, all_numbered: true });
    } finally {
      await client.end();
    }
  });

  it('keeps a restore that commits while a change to the task’s tags waits for it', async () => {
    const hal = await app.signUp('hal');
    const tag = (await app.graphql(CreateTagDocument, { input: { name: 'soon' } }, { token: hal.token })).data!.createTag;
    const task = (await app.graphql(CreateTaskDocument, { input: { title: 'back soon', tagIds: [tag.id] } }, { token: hal.token })).data!.createTask;
    await app.graphql(DeleteTaskDocument, { id: task.id }, { token: hal.token });
    const { syncToken } = await syncAll(hal.token, null);

    const restorer = new pg.Client({ connectionString: app.database.url });
    const untagger = new pg.Client({ connectionString: app.database.url });
    await Promise.all([restorer.connect(), untagger.connect()]);
    try {
      await restorer.query('BEGIN');
      await restorer.query('UPDATE tasks SET deleted_at = NULL WHERE id = $1', [uuidOf(task.id)]);
      // Sees the task in the trash, then waits for the restore's row in the feed.
      const untagging = untagger.query('DELETE FROM task_tags WHERE task_id = $1', [uuidOf(task.id)]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await restorer.query('COMMIT');
      await untagging;
    } finally {
      await Promise.all([restorer.end(), untagger.end()]);
    }
    const since = await syncAll(hal.token, syncToken);
    expect(since.changes.map((change) => [change.kind, change.id])).toEqual([['UPSERT', task.id]]);
    expect(since.changes[0]!.node).toMatchObject({ title: 'back soon', tags: [] });
  });

  it('answers SYNC_TOKEN_EXPIRED once deletions after the token were purged, and a full sync starts over', async () => {
    const gus = await app.signUp('gus');
    const task = (await app.graphql(CreateTaskDocument, { input: { title: 'to purge' } }, { token: gus.token })).data!.createTask;
    const old = await syncAll(gus.token, null);
    await app.graphql(DeleteTaskDocument, { id: task.id }, { token: gus.token });
    const current = await syncAll(gus.token, old.syncToken);
    expect(current.changes.map((change) => change.kind)).toEqual(['DELETE']);

    await app.pool.query("UPDATE changes SET changed_at = now() - interval '100 days' WHERE user_id = $1 AND deleted", [uuidOf(gus.userId)]);
    expect(await purgeTombstones(app.pool, { retentionDays: 90 })).toBeGreaterThanOrEqual(1);

    const expired = await app.graphql(ChangesDocument, { syncToken: old.syncToken }, { token: gus.token });
    expect(errorCodes(expired)).toEqual(['SYNC_TOKEN_EXPIRED']);
    // A token from after the deletion does not need it: it reads on.
    expect((await syncAll(gus.token, current.syncToken)).changes).toEqual([]);
    const fresh = await syncAll(gus.token, null);
    expect(fresh.changes.map((change) => change.id)).not.toContain(task.id);
    expect((await syncAll(gus.token, fresh.syncToken)).changes).toEqual([]);
  });
});
