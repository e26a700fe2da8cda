import { once, setMaxListeners } from 'node:events';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { migrateInChildProcess } from './db/migrate-in-child-process.js';
import { createPrisma } from './db/prisma.js';
import { openEventBus } from './events/event-bus.js';
import { createHttpServer } from './http/server.js';
import { redisRateLimitStore } from './auth/redis-rate-limit.js';
import { createLogger } from './logger.js';
import { exitOnStartupFailure, onShutdownSignal } from './process-lifecycle.js';
import { startReminderWorker } from './tasks/reminders.js';
import { startHousekeeping } from './housekeeping.js';
import { startWebhookDeliveries } from './webhooks/start.js';

// Process entry: config -> database -> migrations -> server -> listen; SIGTERM/SIGINT drain and exit.

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  if (config.jwt.usesDevelopmentSecret) logger.warn('JWT_SECRET is not set: using a development secret. Never do this in production.');

  const database = await openDatabase(config.database, (line) => logger.info(line));
  const applied = await migrateInChildProcess(database.url, { log: (line) => logger.info(line) });
  logger.info({ applied: applied.length }, applied.length ? 'migrations applied' : 'database schema up to date');
  const { prisma, pool, statementCount, close: closePrisma } = createPrisma(database.url, config.database);

  const events = await openEventBus(config, { logger });
  const reminders = config.reminders.enabled
    ? startReminderWorker({ prisma, pubsub: events.pubsub, logger: logger.child({ component: 'reminders' }), pollMs: config.reminders.pollMs })
    : undefined;
  // The background jobs run where the reminders do (REMINDERS=off: in `npm run worker`).
  const housekeeping = config.reminders.enabled
    ? startHousekeeping({ pool, pubsub: events.pubsub, logger: logger.child({ component: 'housekeeping' }), retention: config.retention })
    : undefined;
  const webhooks = config.reminders.enabled ? startWebhookDeliveries({ config, databaseUrl: database.url, pool, logger: logger.child({ component: 'webhooks' }) }) : undefined;

  // With Redis, every instance counts sign-in attempts against the same limits.
  // ioredis is imported only when used (see openEventBus).
  const rateLimitRedis = config.redisUrl
    ? new (await import('ioredis')).Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 })
    : undefined;
  rateLimitRedis?.on('error', (error) => logger.warn({ err: error }, 'redis (rate limits) unavailable'));
  const shuttingDown = new AbortController();
  // Every open subscription listens for the shutdown: thousands of them are expected, not a leak.
  setMaxListeners(0, shuttingDown.signal);
  const yoga = createApp({
    config,
    prisma,
    pool,
    statementCount,
    logger,
    pubsub: events.pubsub,
    rateLimitStore: rateLimitRedis ? redisRateLimitStore(rateLimitRedis) : undefined,
    shutdownSignal: shuttingDown.signal,
  });
  const { server, webSocket } = createHttpServer(yoga);
  server.listen(config.port, config.host);
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost = ['0.0.0.0', '::', '127.0.0.1'].includes(config.host) ? 'localhost' : config.host;
  logger.info({ database: database.description, events: events.description, reminders: config.reminders.enabled }, `Tasks API ready at http://${shownHost}:${port}/graphql using ${database.description}`);

  onShutdownSignal(logger, async (signal) => {
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    const forced = setTimeout(() => {
      logger.error('shutdown timed out; closing remaining connections');
      server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    forced.unref();
    // Open subscriptions (SSE streams) end now; otherwise they would hold their connections open.
    shuttingDown.abort();
    // Upgraded sockets are not HTTP connections: they would hold server.close() open. Closed first, so
    // that nothing is awaited between server.close() and listening for its 'close' event.
    await webSocket.close();
    server.close();
    server.closeIdleConnections();
    await once(server, 'close').catch(() => {});
    await reminders?.stop();
    await housekeeping?.stop();
    await webhooks?.stop();
    await yoga.dispose();
    await events.close();
    rateLimitRedis?.disconnect();
    await closePrisma();
    await database.close();
    clearTimeout(forced);
    logger.info('stopped');
  });
}

main().catch(exitOnStartupFailure('Tasks API'));
