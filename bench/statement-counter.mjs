// Preloaded into the benchmark's children (node --import ./bench/statement-counter.mjs): counts
// every statement a pg client sends, BEGIN/COMMIT included, and tells the runner over the IPC
// channel when asked; stops the process when the runner has gone. The runner prefers the API's own
// tasks_api_db_statements_total metric and uses this count only when that metric cannot be read
// (GET /metrics failing or timing out under overload). Plain JavaScript, so that it preloads into the compiled
// API (dist/, which runs without tsx) as well as into the floor (TypeScript through tsx).
import pg from 'pg';

let statements = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(...args) {
  statements += 1;
  return query.apply(this, args);
};

if (process.send) {
  process.on('message', (message) => {
    if (message === 'bench:statements') process.send?.({ statements });
  });
  // The channel must not keep a process alive that would otherwise exit.
  process.channel?.unref();
  // The runner went away without stopping us (it was SIGKILLed): shut down as on SIGTERM.
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
