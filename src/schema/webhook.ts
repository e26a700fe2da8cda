import { z } from 'zod';
import { readFrom, readList } from '../reads/declarations.js';
import type { Row } from '../reads/index.js';
import { col, from, rowId } from '../reads/sources.js';
import { MAX_EVENT_PATTERNS } from '../webhooks/events.js';
import { createWebhook, deleteWebhook, MAX_WEBHOOKS, updateWebhook } from '../webhooks/webhook-writes.js';
import type { ViewerContext } from '../context.js';
import { builder } from './builder.js';
import { decodeId } from './global-id.js';
import { parseInput } from './validation.js';

const webhook = readFrom('webhooks');

export const Webhook = builder.objectRef<Row>('Webhook');

builder.node(Webhook, {
  description: "A webhook of the viewer's: changes matching its events are POSTed to its URL, signed with its secret (docs/webhooks.md).",
  ...webhook.type,
  id: { resolve: (row) => row.id as string, description: 'Global ID.' },
  loadMany: (ids, context) => context.services.reads.rowsByIds(context, 'webhooks', ids),
  fields: (t) => ({
    url: t.string({ description: 'Where deliveries are POSTed (http or https).', ...webhook.column('url') }),
    events: t.stringList({ description: 'The events it receives: task.created, task.updated, task.completed, task.deleted, list.*, tag.* (each also by name), or *.', ...webhook.column('events') }),
    active: t.boolean({ description: 'False once its deliveries failed for 24 hours (or it was turned off); updateWebhook turns it on again.', ...webhook.column('active') }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was registered.', ...webhook.column('created_at') }),
    lastDeliveryAt: t.field({ type: 'DateTime', nullable: true, description: 'When a delivery was last attempted; null before the first.', ...webhook.column('last_delivery_at') }),
    lastStatus: t.int({ nullable: true, description: "The HTTP status of the last attempt; null before the first, or when it got no answer.", ...webhook.column('last_status') }),
    failureCount: t.int({ description: 'Failed attempts since the last delivery that succeeded.', ...webhook.column('failure_count') }),
  }),
});

builder.queryField('webhooks', (t) =>
  t.field({
    type: [Webhook],
    description: "The viewer's webhooks, oldest first.",
    ...readList({
      table: 'webhooks',
      rows: (env, _parent, w) => from(env.q, w),
      order: (w) => [col(w, 'created_at'), rowId(w)],
      limit: MAX_WEBHOOKS,
    }),
  }),
);

const CreateWebhookInput = builder.inputType('CreateWebhookInput', {
  description: 'A new webhook.',
  fields: (t) => ({
    url: t.string({ required: true, description: 'An http or https URL of at most 2048 characters, on a public address (unless the server sets WEBHOOK_ALLOW_PRIVATE=on).' }),
    events: t.stringList({ required: true, description: `1 to ${MAX_EVENT_PATTERNS} events, e.g. ["task.*"] or ["*"].` }),
  }),
});

const UpdateWebhookInput = builder.inputType('UpdateWebhookInput', {
  description: 'Changes to a webhook; omitted fields stay.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global ID of the webhook.' }),
    url: t.string({ description: 'New URL.' }),
    events: t.stringList({ description: 'New events.' }),
    active: t.boolean({ description: 'false stops deliveries (and drops those waiting); true starts them again and clears the failures.' }),
  }),
});

const CreateWebhookPayload = builder.objectRef<{ webhook: Row; secret: string }>('CreateWebhookPayload').implement({
  description: 'The new webhook and its secret.',
  fields: (t) => ({
    webhook: t.field({ type: Webhook, description: 'The webhook.', resolve: (payload) => payload.webhook }),
    secret: t.exposeString('secret', { description: 'The key of its signatures (X-Tasks-Signature). Shown this once: store it now.' }),
  }),
});

const url = z
  .string()
  .trim()
  .min(1, 'must not be blank')
  .max(2048, 'at most 2048 characters')
  // The URL parser would percent-encode them; stored as given, they would be refused by PostgreSQL (NUL) or mislead a reader.
  .refine((value) => !/[\u0000-\u001f\u007f]/.test(value), 'must not contain control characters');
const events = z.array(z.string().max(32, 'at most 32 characters')).max(MAX_EVENT_PATTERNS, `at most ${MAX_EVENT_PATTERNS} events`);
const createInput = z.object({ url, events });
const updateInput = z.object({ id: z.string(), url: url.optional(), events: events.optional(), active: z.boolean().optional() });
/** null means "leave as it is", like an omitted field. */
const present = <T>(value: T | null | undefined) => (value === null ? undefined : value);

builder.mutationFields((t) => ({
  createWebhook: t.withAuth({ loggedIn: true }).field({
    type: CreateWebhookPayload,
    description: `Registers a webhook (at most ${MAX_WEBHOOKS}); its deliveries start with the next change. The answer holds its secret, shown only here.`,
    args: { input: t.arg({ type: CreateWebhookInput, required: true, description: 'See CreateWebhookInput.' }) },
    resolve: (_root, args, context) => createWebhook(context as ViewerContext, parseInput(createInput, args.input)),
  }),
  updateWebhook: t.withAuth({ loggedIn: true }).field({
    type: Webhook,
    description: "Changes a webhook's URL, events or whether it is active.",
    args: { input: t.arg({ type: UpdateWebhookInput, required: true, description: 'See UpdateWebhookInput.' }) },
    resolve: (_root, args, context) => {
      const input = parseInput(updateInput, { ...args.input, url: present(args.input.url), events: present(args.input.events), active: present(args.input.active) });
      return updateWebhook(context as ViewerContext, decodeId(input.id, 'Webhook', 'input.id'), input);
    },
  }),
  deleteWebhook: t.withAuth({ loggedIn: true }).id({
    description: 'Deletes a webhook and the deliveries it still had to make; answers its ID.',
    args: { id: t.arg.id({ required: true, description: 'Global ID of the webhook.' }) },
    resolve: async (_root, args, context) => {
      await deleteWebhook(context as ViewerContext, decodeId(args.id, 'Webhook', 'id'));
      return args.id;
    },
  }),
}));

