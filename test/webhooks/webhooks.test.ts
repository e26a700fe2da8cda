import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startWebhookDeliveries } from '../../src/webhooks/start.js';
import type { WebhookWorker } from '../../src/webhooks/webhook-worker.js';
import {
  CompleteTaskDocument,
  CompleteTasksDocument,
  CreateListDocument,
  CreateTagDocument,
  CreateTaskDocument,
  CreateWebhookDocument,
  DeleteListDocument,
  DeleteTagDocument,
  DeleteTaskDocument,
  DeleteWebhookDocument,
  RestoreTaskDocument,
  UncompleteTaskDocument,
  UpdateTaskDocument,
  UpdateWebhookDocument,
  WebhooksDocument,
  type WebhookFieldsFragment,
} from '../generated/graphql.js';
import { createTestApp, TEST_JWT_SECRET, type TestApp } from '../support/app.js';
import { uuidOf } from '../support/events.js';
import { countStatements } from '../support/sql-counter.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';

// Webhooks end to end: registrations over the API's socket, changes made through it, and a worker as
// `npm start` runs it delivering to receivers on loopback that check every signature.

let app: TestApp;
const receivers: Receiver[] = [];
const workers: WebhookWorker[] = [];

beforeAll(async () => {
  app = await createTestApp({ env: { WEBHOOK_ALLOW_PRIVATE: 'on' } });
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});
afterAll(async () => {
  await app?.close();
});

/** A worker like the process's, with fast retries (and whatever else `env` says). */
function startWorker(env: Record<string, string> = {}): WebhookWorker {
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    WEBHOOK_ALLOW_PRIVATE: 'on',
    WEBHOOK_RETRY_BASE_MS: '50',
    WEBHOOK_POLL_MS: '100',
    WEBHOOK_TIMEOUT_MS: '2000',
    ...env,
  });
  const worker = startWebhookDeliveries({ config, databaseUrl: app.database.url, pool: app.pool, logger: createLogger('silent') });
  workers.push(worker);
  return worker;
}

async function receiver(): Promise<Receiver> {
  const started = await startReceiver();
  receivers.push(started);
  return started;
}

/** A fresh user with a webhook for `events` to `target`. */
async function subscribed(target: Receiver, events: string[] = ['*']) {
  const user = await app.signUp('hooked');
  const as = { token: user.token };
  const created = await app.graphql(CreateWebhookDocument, { input: { url: target.url, events } }, as);
  expect(created.errors).toBeUndefined();
  target.setSecret(created.data!.createWebhook.secret);
  return { as, webhook: created.data!.createWebhook.webhook, user };
}

/** The viewer's first webhook once `predicate` holds for it (the worker commits after the receiver answers). */
async function webhookState(as: { token: string }, predicate: (state: WebhookFieldsFragment) => boolean): Promise<WebhookFieldsFragment> {
  let state = (await app.graphql(WebhooksDocument, {}, as)).data!.webhooks[0]!;
  for (let waited = 0; !predicate(state) && waited < 20_000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    state = (await app.graphql(WebhooksDocument, {}, as)).data!.webhooks[0]!;
  }
  return state;
}

const createTask = async (as: { token: string }, title: string) => {
  const result = await app.graphql(CreateTaskDocument, { input: { title } }, as);
  expect(result.errors).toBeUndefined();
  return result.data!.createTask;
};

/** Deliveries of one transaction go out by object id: the order of `a` and `b` among `tasks` that way. */
function order(a: string, b: string, tasks: { id: string; title: string }[]): number {
  const idOf = (line: string) => uuidOf(tasks.find((task) => line.endsWith(` ${task.title}`))!.id);
  return idOf(a) < idOf(b) ? -1 : 1;
}

describe('deliveries', () => {
  it('posts each change, signed, in the order of the changes, with the object as the API reads it', async () => {
    startWorker();
    const target = await receiver();
    const { as } = await subscribed(target);

    // Each change is awaited at the receiver before the next: `data` is read when a delivery is first
    // sent, so it shows the object as it is after its change.
    const arrived = async (count: number) => {
      await target.waitFor((received) => received.length >= count);
      return target.received[count - 1]!;
    };
    const list = (await app.graphql(CreateListDocument, { input: { name: 'Errands' } }, as)).data!.createList;
    expect((await arrived(1)).data).toMatchObject({ id: list.id, name: 'Errands', isInbox: false, archived: false });
    const tag = (await app.graphql(CreateTagDocument, { input: { name: 'home' } }, as)).data!.createTag;
    expect((await arrived(2)).data).toMatchObject({ id: tag.id, name: 'home' });
    const task = (await app.graphql(CreateTaskDocument, { input: { title: 'Buy milk', listId: list.id, tagIds: [tag.id], dueDate: '2026-12-24' } }, as)).data!.createTask;
    expect((await arrived(3)).data).toMatchObject({ id: task.id, title: 'Buy milk', dueDate: '2026-12-24', completed: false, list: { id: list.id }, parent: null, tags: [{ id: tag.id, name: 'home' }] });
    await app.graphql(UpdateTaskDocument, { input: { id: task.id, title: 'Buy oat milk' } }, as);
    expect((await arrived(4)).data).toMatchObject({ id: task.id, title: 'Buy oat milk' });
    await app.graphql(CompleteTaskDocument, { id: task.id }, as);
    expect((await arrived(5)).data).toMatchObject({ id: task.id, completed: true });
    await app.graphql(DeleteTaskDocument, { id: task.id }, as);
    expect((await arrived(6)).data).toEqual({ id: task.id });
    await app.graphql(RestoreTaskDocument, { id: task.id }, as);
    expect((await arrived(7)).data).toMatchObject({ id: task.id, title: 'Buy oat milk' });

    const expected = ['list.created', 'tag.created', 'task.created', 'task.updated', 'task.completed', 'task.deleted', 'task.created'];
    expect(target.received.map((delivery) => delivery.event)).toEqual(expected);
    for (const delivery of target.received) {
      expect(delivery.signed).toBe(true);
      expect(delivery.headers['x-tasks-event']).toBe(delivery.event);
      expect(delivery.headers['x-tasks-delivery']).toBe(delivery.id);
      expect(delivery.headers['content-type']).toBe('application/json');
      expect(Math.abs(Number(delivery.headers['x-tasks-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
      expect(Date.parse(delivery.occurredAt)).not.toBeNaN();
    }
    expect(new Set(target.received.map((delivery) => delivery.id)).size).toBe(expected.length);
  });

  it('tells bulk and cascading changes object by object, each transaction in one go', async () => {
    startWorker();
    const target = await receiver();
    const { as } = await subscribed(target);
    const arrivedSince = async (start: number, count: number) => {
      await target.waitFor((received) => received.length >= start + count);
      return target.received.slice(start, start + count).map((delivery) => `${delivery.event} ${delivery.data.title ?? delivery.data.name ?? delivery.data.id}`);
    };
    const list = (await app.graphql(CreateListDocument, { input: { name: 'Move' } }, as)).data!.createList;
    const tag = (await app.graphql(CreateTagDocument, { input: { name: 'boxes' } }, as)).data!.createTag;
    const tasks: { id: string; title: string }[] = [];
    for (const title of ['pack', 'label', 'load']) {
      tasks.push((await app.graphql(CreateTaskDocument, { input: { title, listId: list.id, tagIds: [tag.id] } }, as)).data!.createTask);
    }
    // A task created with its tags is one task.created, not a creation and an update.
    expect(await arrivedSince(0, 5)).toEqual(['list.created Move', 'tag.created boxes', 'task.created pack', 'task.created label', 'task.created load']);

    const completed = await app.graphql(CompleteTasksDocument, { ids: tasks.map((task) => task.id) }, as);
    expect(completed.errors).toBeUndefined();
    expect((await arrivedSince(5, 3)).sort()).toEqual(['task.completed label', 'task.completed load', 'task.completed pack']);
    await app.graphql(UncompleteTaskDocument, { id: tasks[0]!.id }, as);
    expect(await arrivedSince(8, 1)).toEqual(['task.updated pack']);

    // Deleting the tag changes the tasks that carried it.
    await app.graphql(DeleteTagDocument, { id: tag.id }, as);
    expect(await arrivedSince(9, 4)).toEqual([`tag.deleted ${tag.id}`, ...['task.updated label', 'task.updated load', 'task.updated pack'].sort((a, b) => order(a, b, tasks))]);

    // Deleting the list sends its tasks to the trash: one list.deleted, a task.deleted each.
    await app.graphql(DeleteListDocument, { id: list.id }, as);
    const deleted = await arrivedSince(13, 4);
    expect(deleted[0]).toBe(`list.deleted ${list.id}`);
    expect(deleted.slice(1).sort()).toEqual(tasks.map((task) => `task.deleted ${task.id}`).sort());
    // One transaction, one moment.
    expect(new Set(target.received.slice(13, 17).map((delivery) => delivery.occurredAt)).size).toBe(1);
  });

  it('sends only the events a webhook asks for', async () => {
    startWorker();
    const target = await receiver();
    const { as } = await subscribed(target, ['task.completed', 'list.*']);
    const task = await createTask(as, 'Water the plants');
    await app.graphql(UpdateTaskDocument, { input: { id: task.id, title: 'Water the ferns' } }, as);
    await app.graphql(CompleteTaskDocument, { id: task.id }, as);
    await app.graphql(CreateListDocument, { input: { name: 'Garden' } }, as);
    await app.graphql(CreateTagDocument, { input: { name: 'outside' } }, as);
    await target.waitFor((received) => received.length >= 2);
    // The tag and the task's creation and update were never queued: what arrives next would be too late for them.
    await createTask(as, 'a marker that is not sent either');
    await app.graphql(CompleteTaskDocument, { id: (await createTask(as, 'last')).id }, as);
    await target.waitFor((received) => received.length >= 3);
    expect(target.received.map((delivery) => delivery.event)).toEqual(['task.completed', 'list.created', 'task.completed']);
  });

  it("never sends one user's changes to another user's webhook", async () => {
    startWorker();
    const mine = await receiver();
    const theirs = await receiver();
    const me = await subscribed(mine);
    const them = await subscribed(theirs);
    await createTask(them.as, 'their secret plan');
    await createTask(me.as, 'my task');
    await mine.waitFor((received) => received.length >= 1);
    await theirs.waitFor((received) => received.length >= 1);
    expect(mine.received.map((delivery) => delivery.data.title)).toEqual(['my task']);
    expect(theirs.received.map((delivery) => delivery.data.title)).toEqual(['their secret plan']);
  });

  it('retries a failing receiver with the same delivery ids until every event arrives, in order', async () => {
    startWorker();
    const target = await receiver();
    const { as, webhook } = await subscribed(target, ['task.created']);
    target.answerWith((request) => ({ status: request < 6 ? 500 : 200 }));
    const titles = Array.from({ length: 8 }, (_, index) => `task ${index}`);
    for (const title of titles) await createTask(as, title);

    await target.waitFor((received) => new Set(received.filter((d) => d.answered === 200).map((d) => d.id)).size >= titles.length);
    const accepted = target.accepted();
    expect(accepted.map((delivery) => delivery.data.title)).toEqual(titles);
    const failed = target.received.filter((delivery) => delivery.answered === 500);
    expect(failed).toHaveLength(6);
    // The failures were retries of the first delivery: same id and same body every time.
    expect(new Set(failed.map((delivery) => delivery.id))).toEqual(new Set([accepted[0]!.id]));
    expect(failed.every((delivery) => JSON.stringify(delivery.data) === JSON.stringify(accepted[0]!.data))).toBe(true);

    const state = await webhookState(as, (webhook) => webhook.lastStatus === 200);
    expect(state).toMatchObject({ id: webhook.id, active: true, failureCount: 0, lastStatus: 200 });
  });

  it('turns a webhook off when its retries fail for the whole window, and on again with updateWebhook', async () => {
    startWorker({ WEBHOOK_RETRY_WINDOW_SECONDS: '1' });
    const target = await receiver();
    const { as, webhook } = await subscribed(target, ['task.*']);
    target.answerWith(() => ({ status: 503 }));
    await createTask(as, 'never taken');
    await createTask(as, 'queued behind it');

    const state = await webhookState(as, (webhook) => !webhook.active);
    expect(state).toMatchObject({ active: false, lastStatus: 503 });
    expect(state.failureCount).toBeGreaterThan(1);
    // Only the first delivery was ever tried: the second waited behind it, in order, and went with the webhook's queue.
    expect(new Set(target.received.map((delivery) => delivery.data.title))).toEqual(new Set(['never taken']));
    const { rows } = await app.pool.query('SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1', [uuidOf(webhook.id)]);
    expect(rows[0].n).toBe(0);

    // While it is off, changes queue nothing.
    await createTask(as, 'while off');
    target.answerWith(() => ({ status: 200 }));
    const turnedOn = await app.graphql(UpdateWebhookDocument, { input: { id: webhook.id, active: true } }, as);
    expect(turnedOn.data!.updateWebhook).toMatchObject({ active: true, failureCount: 0 });
    await createTask(as, 'after');
    await target.waitFor((received) => received.some((delivery) => delivery.answered === 200));
    expect(target.accepted().map((delivery) => delivery.data.title)).toEqual(['after']);
  });

  it('counts a redirect as a failure and does not follow it', async () => {
    startWorker();
    const target = await receiver();
    const elsewhere = await receiver();
    const { as } = await subscribed(target, ['task.created']);
    target.answerWith(() => ({ status: 302, location: elsewhere.url }));
    await createTask(as, 'redirected');
    const state = await webhookState(as, (webhook) => webhook.failureCount >= 2);
    expect(state).toMatchObject({ active: true, lastStatus: 302 });
    expect(state.failureCount).toBeGreaterThanOrEqual(2);
    expect(elsewhere.received).toHaveLength(0);
  });

  it('keeps delivering to a fast receiver while another one hangs', async () => {
    startWorker({ WEBHOOK_TIMEOUT_MS: '10000' });
    const slow = await receiver();
    const fast = await receiver();
    slow.answerWith(() => 'hang');
    const hung = slow.hanging();
    const stuck = await subscribed(slow);
    const quick = await subscribed(fast);
    await createTask(stuck.as, 'to a receiver that never answers');
    await hung;
    const titles = Array.from({ length: 20 }, (_, index) => `quick ${index}`);
    for (const title of titles) await createTask(quick.as, title);
    await fast.waitFor((received) => received.length >= titles.length, 5_000);
    expect(fast.received.map((delivery) => delivery.data.title)).toEqual(titles);
  });
});


describe('cost to the request', () => {
  it('queues the deliveries of 3 webhooks inside the commit: creating a task costs no extra statement', async () => {
    const counter = countStatements(app.pool);
    const user = await app.signUp('counted');
    const as = { token: user.token };
    await createTask(as, 'warm-up');
    counter.reset();
    await createTask(as, 'without webhooks');
    const without = counter.count;

    for (const path of ['a', 'b', 'c']) {
      const created = await app.graphql(CreateWebhookDocument, { input: { url: `http://127.0.0.1:9/${path}`, events: ['task.created'] } }, as);
      expect(created.errors).toBeUndefined();
    }
    counter.reset();
    const task = await createTask(as, 'with three webhooks');
    expect(counter.count).toBeLessThanOrEqual(without + 1);
    const { rows } = await app.pool.query('SELECT count(*)::int AS n FROM webhook_deliveries WHERE object_id = $1', [uuidOf(task.id)]);
    expect(rows[0].n).toBe(3);
  });
});

describe('registration', () => {
  it('validates url and events, and changes nothing when refused', async () => {
    const user = await app.signUp('validating');
    const as = { token: user.token };
    const cases: [{ url: string; events: string[] }, string][] = [
      [{ url: 'ftp://example.com/hook', events: ['*'] }, 'input.url'],
      [{ url: 'not a url', events: ['*'] }, 'input.url'],
      [{ url: `https://example.com/${'a'.repeat(2100)}`, events: ['*'] }, 'input.url'],
      [{ url: 'https://example.com/hook', events: [] }, 'input.events'],
      [{ url: 'https://example.com/hook', events: ['task.created', 'task.exploded'] }, 'input.events.1'],
      [{ url: 'https://example.com/hook', events: Array.from({ length: 21 }, () => '*') }, 'input.events'],
    ];
    for (const [input, path] of cases) {
      const result = await app.graphql(CreateWebhookDocument, { input }, as);
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(input).slice(0, 80)).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(result.errors?.[0]?.extensions)).toContain(path);
    }
    expect((await app.graphql(WebhooksDocument, {}, as)).data!.webhooks).toEqual([]);
  });

  it('shows the secret once, never in a read, and lets no one else see, change or delete the webhook', async () => {
    const owner = await app.signUp('owner');
    const other = await app.signUp('other');
    const created = await app.graphql(CreateWebhookDocument, { input: { url: 'https://example.com/hook', events: ['task.*'] } }, { token: owner.token });
    const { webhook, secret } = created.data!.createWebhook;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const read = await app.post({ query: '{ webhooks { id url events } }' }, { authorization: `Bearer ${owner.token}` });
    expect(await read.text()).not.toContain(secret);

    expect((await app.graphql(WebhooksDocument, {}, { token: other.token })).data!.webhooks).toEqual([]);
    const update = await app.graphql(UpdateWebhookDocument, { input: { id: webhook.id, url: 'https://attacker.example/hook' } }, { token: other.token });
    expect(update.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const remove = await app.graphql(DeleteWebhookDocument, { id: webhook.id }, { token: other.token });
    expect(remove.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await app.graphql(WebhooksDocument, {}, { token: owner.token })).data!.webhooks).toEqual([webhook]);

    const updated = await app.graphql(UpdateWebhookDocument, { input: { id: webhook.id, events: ['*'] } }, { token: owner.token });
    expect(updated.data!.updateWebhook.events).toEqual(['*']);
    expect((await app.graphql(DeleteWebhookDocument, { id: webhook.id }, { token: owner.token })).data!.deleteWebhook).toBe(webhook.id);
    expect((await app.graphql(WebhooksDocument, {}, { token: owner.token })).data!.webhooks).toEqual([]);
  });
});

describe('addresses inside the network (SSRF)', () => {
  it('refuses URLs on private, loopback and link-local addresses at registration unless WEBHOOK_ALLOW_PRIVATE=on', async () => {
    const strict = await createTestApp({ database: app.database });
    try {
      const user = await strict.signUp('strict');
      const as = { token: user.token };
      const target = await receiver();
      const port = new URL(target.url).port;
      for (const url of [
        target.url,
        `http://localhost:${port}/hooks`,
        'http://[::1]/hooks',
        'http://[::ffff:127.0.0.1]/hooks',
        'http://169.254.169.254/latest/meta-data/',
        'http://10.0.0.8/hooks',
        'http://192.168.1.20/hooks',
        'http://0.0.0.0/hooks',
      ]) {
        const result = await strict.graphql(CreateWebhookDocument, { input: { url, events: ['*'] } }, as);
        expect(result.errors?.[0]?.extensions?.code, url).toBe('BAD_USER_INPUT');
        expect(JSON.stringify(result.errors?.[0]?.extensions), url).toContain('input.url');
      }
      expect((await strict.graphql(WebhooksDocument, {}, as)).data!.webhooks).toEqual([]);
    } finally {
      await strict.close();
    }
  });

  it('checks the address again at delivery: a URL that became private is never connected to', async () => {
    // Registered while private addresses were allowed; delivered by a worker that does not allow them,
    // as after DNS changed: by an IP literal, and by a name the worker resolves itself.
    startWorker({ WEBHOOK_ALLOW_PRIVATE: 'off' });
    const target = await receiver();
    const port = new URL(target.url).port;
    const { as } = await subscribed(target, ['task.created']);
    const byName = await app.graphql(CreateWebhookDocument, { input: { url: `http://localhost:${port}/by-name`, events: ['task.created'] } }, as);
    expect(byName.errors).toBeUndefined();
    await createTask(as, 'must not leave the server');

    let states = (await app.graphql(WebhooksDocument, {}, as)).data!.webhooks;
    for (let waited = 0; states.some((state) => state.failureCount === 0) && waited < 10_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      states = (await app.graphql(WebhooksDocument, {}, as)).data!.webhooks;
    }
    expect(states).toHaveLength(2);
    for (const state of states) {
      expect(state).toMatchObject({ active: true, lastStatus: null });
      expect(state.failureCount).toBeGreaterThanOrEqual(1);
    }
    expect(target.received).toHaveLength(0);
  });
});
