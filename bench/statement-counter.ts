// Preloaded into the benchmark's children (node --import tsx --import ./bench/statement-counter.ts):
// counts every statement a pg client sends, BEGIN/COMMIT included, and tells the runner over the
// IPC channel when asked; stops the process when the runner has gone. The runner prefers the API's own tasks_api_db_statements_total metric and
// uses this count only when that metric does not move (e.g. the server was not given a counter).
import pg from 'pg';

let statements = 0;
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  statements += 1;
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

if (process.send) {
  process.on('message', (message) => {
    if (message === 'bench:statements') process.send?.({ statements });
  });
  // The channel must not keep a process alive that would otherwise exit.
  process.channel?.unref();
  // The runner went away without stopping us (it was SIGKILLed): shut down as on SIGTERM.
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
