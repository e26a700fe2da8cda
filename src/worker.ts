import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { migrateInChildProcess } from './db/migrate-in-child-process.js';
import { createPrisma } from './db/prisma.js';
import { openEventBus } from './events/event-bus.js';
import { createLogger } from './logger.js';
import { exitOnStartupFailure, onShutdownSignal } from './process-lifecycle.js';
import { startReminderWorker } from './tasks/reminders.js';
import { startHousekeeping } from './housekeeping.js';
import { startWebhookDeliveries } from './webhooks/start.js';

// `npm run worker`: the reminder worker, the webhook deliveries and the housekeeping (trash and change-feed retention) alone, for deployments that run it apart from the API
// instances (which then set REMINDERS=off). Any number may run: each reminder is claimed once.

async function main(): Promise<void> {
  const config = loadConfig();
  // In-process events would reach no API instance, yet the reminders would be marked sent: lost.
  if (!config.redisUrl) {
    throw new ConfigError(['REDIS_URL: required by the standalone worker, whose events must reach the API instances (or run reminders inside the API: REMINDERS=on)']);
  }
  const logger = createLogger(config.logLevel).child({ component: 'reminders' });

  const database = await openDatabase(config.database, (line) => logger.info(line));
  const applied = await migrateInChildProcess(database.url, { log: (line) => logger.info(line) });
  logger.info({ applied: applied.length }, applied.length ? 'migrations applied' : 'database schema up to date');
  const { prisma, pool, close: closePrisma } = createPrisma(database.url, { ...config.database, poolSize: 2 });
  const events = await openEventBus(config, { logger });
  const worker = startReminderWorker({ prisma, pubsub: events.pubsub, logger, pollMs: config.reminders.pollMs });
  const housekeeping = startHousekeeping({ pool, pubsub: events.pubsub, logger: logger.child({ component: 'housekeeping' }), retention: config.retention });
  const webhooks = startWebhookDeliveries({ config, databaseUrl: database.url, pool, logger: logger.child({ component: 'webhooks' }) });
  logger.info({ database: database.description, events: events.description }, 'reminder worker running');

  onShutdownSignal(logger, async (signal) => {
    logger.info({ signal }, 'shutting down: finishing the current tick');
    await worker.stop();
    await housekeeping.stop();
    await webhooks.stop();
    await events.close();
    await closePrisma();
    await database.close();
    logger.info('stopped');
  });
}

main().catch(exitOnStartupFailure('Reminder worker'));
