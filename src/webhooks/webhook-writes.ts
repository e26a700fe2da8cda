import { sql } from 'kysely';
import type { ViewerContext } from '../context.js';
import type { Row } from '../reads/index.js';
import { bound } from '../reads/parameters.js';
import { from, param, type ReadEnv } from '../reads/sources.js';
import { badInput, notFound } from '../schema/errors.js';
import { webhookUrlProblem } from './address-guard.js';
import { eventProblems } from './events.js';
import { newWebhookSecret } from './signature.js';

// The writes of webhooks, through the read compiler's scoped builder like every write: the viewer
// owns every row touched, and each write answers the webhook as the viewer reads it.

/** Webhooks a user may have. */
export const MAX_WEBHOOKS = 20;

export interface WebhookChanges {
  url?: string;
  events?: string[];
  active?: boolean;
}

const COUNT = {};
const INSERT = {};
const UPDATE = {};
const DROP_QUEUE = {};
const DELETE = {};

const returningWebhook = (context: ViewerContext, env: ReadEnv) => context.services.reads.model.rowSelections(env, { table: 'webhooks', name: 'webhooks' }) as never;

async function check(context: ViewerContext, changes: WebhookChanges): Promise<void> {
  const problems = changes.events ? eventProblems(changes.events, 'input.events') : [];
  if (changes.url !== undefined) {
    const problem = await webhookUrlProblem(changes.url, { allowPrivate: context.services.webhooks.allowPrivate });
    if (problem) problems.unshift({ path: 'input.url', message: problem });
  }
  if (problems.length > 0) throw badInput(problems);
}

/** Registers a webhook; answers it with its secret, which is never shown again. */
export async function createWebhook(context: ViewerContext, input: { url: string; events: string[] }): Promise<{ webhook: Row; secret: string }> {
  await check(context, input);
  const { statements } = context.services.reads;
  const [counted] = await statements.run(COUNT, context.viewer.id, {}, (env) => {
    const w = env.alias('webhooks');
    return from(env.q, w).select(sql<number>`count(*)::int`.as('count'));
  });
  if ((counted?.count as number) >= MAX_WEBHOOKS) throw badInput([{ path: 'input', message: `at most ${MAX_WEBHOOKS} webhooks; delete one first` }]);
  const secret = newWebhookSecret();
  const values = { url: bound(input.url), events: bound([...new Set(input.events)]), secret: bound(secret) };
  const [webhook] = await statements.run(INSERT, context.viewer.id, values, (env, shaped) =>
    env.q
      .insertInto('webhooks')
      .values({ url: param(shaped.url), events: sql`${param(shaped.events)}::text[]`, secret: param(shaped.secret) } as never)
      .returning(returningWebhook(context, env)),
  );
  return { webhook: webhook!, secret };
}

/**
 * Changes a webhook. Turning it off drops its queue (nothing is sent for changes made while it is
 * off); turning it on again clears its failures.
 */
export async function updateWebhook(context: ViewerContext, id: string, changes: WebhookChanges): Promise<Row> {
  await check(context, changes);
  const input = {
    id: bound(id),
    ...(changes.url === undefined ? {} : { url: bound(changes.url) }),
    ...(changes.events === undefined ? {} : { events: bound([...new Set(changes.events)]) }),
    ...(changes.active === undefined ? {} : { active: bound(changes.active) }),
  };
  return context.services.reads.transaction(async (transaction) => {
    const [row] = await transaction.run(UPDATE, context.viewer.id, input, (env, shaped) => {
      const set: Record<string, unknown> = {};
      if (shaped.url) set.url = param(shaped.url);
      if (shaped.events) set.events = sql`${param(shaped.events)}::text[]`;
      if (shaped.active) {
        set.active = param(shaped.active);
        set.failure_count = sql`CASE WHEN ${param(shaped.active)}::boolean AND NOT active THEN 0 ELSE failure_count END`;
      }
      if (Object.keys(set).length === 0) set.url = sql`url`;
      return env.q.updateTable('webhooks').set(set as never).where('id', '=', param(shaped.id) as never).returning(returningWebhook(context, env));
    });
    if (!row) throw notFound('Webhook');
    if (changes.active === false) {
      await transaction.run(DROP_QUEUE, context.viewer.id, { id: bound(id) }, (env, shaped) =>
        env.q.deleteFrom('webhook_deliveries').where('webhook_id', '=', param(shaped.id) as never),
      );
    }
    return row;
  });
}

/** Deletes a webhook and its queue. */
export async function deleteWebhook(context: ViewerContext, id: string): Promise<void> {
  const rows = await context.services.reads.statements.run(DELETE, context.viewer.id, { id: bound(id) }, (env, shaped) =>
    env.q.deleteFrom('webhooks').where('id', '=', param(shaped.id) as never).returning('id' as never),
  );
  if (rows.length === 0) throw notFound('Webhook');
}
