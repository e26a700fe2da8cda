// Reads and writes one user's tasks every 50 ms while a migration runs elsewhere, and reports how long
// they waited: what a migration's locks cost the users of a live database.
//
//   DATABASE_URL=... tsx bench/migration-probe.ts      (Ctrl-C prints the totals)
//
// Every 10 s it prints the longest read and write of the last 10 s, so a slow step can be matched to
// the migration's own log lines by time.
import pg from 'pg';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is required');
  process.exit(1);
}
const INTERVAL_MS = 50;

const reader = new pg.Client({ connectionString: url });
const writer = new pg.Client({ connectionString: url });
await Promise.all([reader.connect(), writer.connect()]);
const { rows } = await reader.query<{ user_id: string; id: string }>('SELECT user_id, id FROM tasks ORDER BY id LIMIT 1');
const { user_id: userId, id: taskId } = rows[0]!;

const longest = { read: 0, write: 0 };
const overall = { read: 0, write: 0, reads: 0, writes: 0, failures: 0 };

async function timed(kind: 'read' | 'write', run: () => Promise<unknown>) {
  const started = performance.now();
  try {
    await run();
  } catch (error) {
    overall.failures++;
    console.log(`${new Date().toISOString()} ${kind} failed: ${(error as Error).message}`);
  }
  const ms = performance.now() - started;
  longest[kind] = Math.max(longest[kind], ms);
  overall[kind] = Math.max(overall[kind], ms);
  overall[kind === 'read' ? 'reads' : 'writes']++;
}

async function loop(kind: 'read' | 'write', run: () => Promise<unknown>) {
  for (;;) {
    const started = performance.now();
    await timed(kind, run);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, INTERVAL_MS - (performance.now() - started))));
  }
}

void loop('read', () => reader.query('SELECT id, title FROM tasks WHERE user_id = $1 ORDER BY created_at DESC LIMIT 20', [userId]));
void loop('write', () => writer.query(`UPDATE tasks SET title = 'probe ' || now() WHERE id = $1 AND user_id = $2`, [taskId, userId]));

setInterval(() => {
  console.log(`${new Date().toISOString()} longest read ${longest.read.toFixed(0)} ms, write ${longest.write.toFixed(0)} ms`);
  longest.read = 0;
  longest.write = 0;
}, 10_000);

process.on('SIGINT', () => {
  console.log(
    `total: ${overall.reads} reads (longest ${overall.read.toFixed(0)} ms), ${overall.writes} writes (longest ${overall.write.toFixed(0)} ms), ${overall.failures} failed`,
  );
  process.exit(0);
});
