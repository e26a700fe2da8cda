import type pg from 'pg';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createReads } from '../reads/index.js';
import { schema } from '../schema/index.js';
import { createPayloadReader } from './payloads.js';
import { createSender } from './send.js';
import { startWebhookWorker, type WebhookWorker } from './webhook-worker.js';

/** The webhook worker as the process runs it: payloads read on `pool`, the queue on connections of its own. */
export function startWebhookDeliveries(options: { config: Config; databaseUrl: string; pool: pg.Pool; logger: Logger }): WebhookWorker {
  const { config, databaseUrl, pool, logger } = options;
  const settings = config.webhooks;
  return startWebhookWorker({
    connectionString: databaseUrl,
    payloads: createPayloadReader(schema, createReads({ schema, pool, preparedStatements: config.database.preparedStatements })),
    sender: createSender({ allowPrivate: settings.allowPrivate, timeoutMs: settings.timeoutMs }),
    logger,
    retry: settings.retry,
    concurrency: settings.concurrency,
    pollMs: settings.pollMs,
  });
}
