// The floor for the load benchmark: the work each scenario needs (verify a JWT, run SQL scoped to
// the viewer, send a GraphQL-shaped answer) with nothing in between — no GraphQL parsing,
// validation, resolvers, Prisma or dataloaders. Each scenario is one hand-written statement in
// which PostgreSQL builds the whole `data` object, so Node only copies text. The API can
// approach these numbers but not beat them; the gap is what the layers cost.
//
//   POST /  {"scenario": "S1".."S8" (not S6), "variables": {...}}  with  Authorization: Bearer <jwt>
//
// Run on its own: DATABASE_URL=... PORT=4100 tsx bench/baseline.ts (JWT_* as for the API).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { generateKeyBetween } from 'fractional-indexing';
import { jwtVerify } from 'jose';
import pg from 'pg';

export interface BaselineOptions {
  databaseUrl: string;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  jwtSecret: Uint8Array;
  issuer: string;
  audience: string;
  poolSize: number;
}

export interface Baseline {
  url: string;
  close(): Promise<void>;
}

type Scenario = 'S1' | 'S2' | 'S3' | 'S4' | 'S5' | 'S7' | 'S8';
type Variables = Record<string, unknown>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_BODY_BYTES = 64 * 1024;

// What a GraphQL DateTime scalar sends: ISO 8601 in UTC with milliseconds.
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const taskJson = (t: string) => `json_build_object('id', ${t}.id, 'title', ${t}.title, 'dueAt', ${iso(`${t}.due_at`)}, 'tags',
  (SELECT coalesce(json_agg(json_build_object('id', g.id, 'name', g.name) ORDER BY g.name, g.id), '[]')
   FROM task_tags tt JOIN tags g ON g.id = tt.tag_id WHERE tt.user_id = $1 AND tt.task_id = ${t}.id))`;
const edges = (t: string, order: string) =>
  `json_build_object('tasks', json_build_object('edges', coalesce(json_agg(json_build_object('node', ${taskJson(t)}) ORDER BY ${order}), '[]')))`;

// $1 is always the viewer. Each statement yields one text column, `data`. Like the API, the floor
// reads live tasks only (deleted_at IS NULL: the trash is no task list).
export const STATEMENTS: Record<Scenario, string> = {
  // (user_id, due_at, id) is in exactly this order, so the scan stops after 20 open tasks.
  S1: `
    SELECT ${edges('t', 't.due_at, t.id')}::text AS data
    FROM (SELECT id, title, due_at FROM tasks
          WHERE user_id = $1 AND NOT completed AND deleted_at IS NULL
          ORDER BY due_at ASC NULLS LAST, id LIMIT 20) AS t`,

  S2: `SELECT json_build_object('task', (SELECT ${taskJson('t')} FROM tasks t WHERE t.id = $2 AND t.user_id = $1 AND t.deleted_at IS NULL))::text AS data`,

  S3: `
    INSERT INTO tasks (user_id, title) VALUES ($1, $2)
    RETURNING json_build_object('createTask', json_build_object('id', id, 'title', title))::text AS data`,

  // The same work as the API's completeTask: the next occurrence copies the title, description,
  // priority, reminder offset, series and tags, and its due date follows the rule at the same
  // wall-clock time in the user's time zone. The floor knows only the two rules bench/seed.ts writes
  // (the next day; the next Monday), where the API runs rrule on any rule; a task with another rule
  // gets no next occurrence here. "AND NOT completed" makes a repeated completion a no-op, and the
  // unique generated_from_id stops a second next occurrence even if the task was reopened in
  // between. A viewer's task the UPDATE skipped is completed (possibly by a concurrent request the
  // UPDATE waited for), so it is reported as such rather than read back: the main query sees the
  // snapshot from before.
  S4: `
    WITH done AS (
      UPDATE tasks SET completed = true, completed_at = now()
      WHERE id = $2 AND user_id = $1 AND NOT completed AND deleted_at IS NULL
      RETURNING id, user_id, title, description, priority, due_at, remind_at, recurrence, series_id
    ), due AS (
      SELECT done.*, (wall + CASE done.recurrence
                               WHEN 'FREQ=DAILY' THEN interval '1 day'
                               WHEN 'FREQ=WEEKLY;BYDAY=MO' THEN (8 - extract(isodow FROM wall)::int) * interval '1 day'
                             END) AT TIME ZONE u.time_zone AS next_due_at
      FROM done JOIN users u ON u.id = done.user_id,
           LATERAL (SELECT done.due_at AT TIME ZONE u.time_zone AS wall) AS local
    ), next AS (
      INSERT INTO tasks (user_id, title, description, priority, due_at, remind_at, recurrence, series_id, generated_from_id)
      SELECT user_id, title, description, priority, next_due_at,
             next_due_at + (extract(epoch FROM remind_at - due_at) * interval '1 second'),
             recurrence, coalesce(series_id, id), id
      FROM due WHERE next_due_at IS NOT NULL
      ON CONFLICT (generated_from_id) DO NOTHING
      RETURNING id, user_id, due_at, generated_from_id
    ), next_tags AS (
      INSERT INTO task_tags (task_id, tag_id, user_id)
      SELECT next.id, link.tag_id, next.user_id FROM next JOIN task_tags link ON link.task_id = next.generated_from_id AND link.user_id = next.user_id
    )
    SELECT json_build_object('completeTask', (
      SELECT json_build_object(
        'task', json_build_object('id', t.id, 'completed', true),
        'nextOccurrence', (SELECT json_build_object('id', n.id, 'dueAt', ${iso('n.due_at')}) FROM next n))
      FROM (SELECT id FROM done
            UNION ALL
            SELECT id FROM tasks WHERE id = $2 AND user_id = $1 AND deleted_at IS NULL AND NOT EXISTS (SELECT FROM done)) AS t
    ))::text AS data`,

  // The top level of a list in the user's order, each task with its tags and its number of subtasks.
  S7: `
    SELECT json_build_object('list', json_build_object('tasks', json_build_object('edges', coalesce(json_agg(json_build_object('node', json_build_object(
             'id', t.id, 'title', t.title, 'position', t.position,
             'subtaskCount', (SELECT count(*) FROM tasks s WHERE s.user_id = $1 AND s.parent_id = t.id AND s.deleted_at IS NULL),
             'tags', (SELECT coalesce(json_agg(json_build_object('id', g.id, 'name', g.name) ORDER BY g.name, g.id), '[]')
                      FROM task_tags tt JOIN tags g ON g.id = tt.tag_id WHERE tt.user_id = $1 AND tt.task_id = t.id)))
           ORDER BY t.position, t.id), '[]'))))::text AS data
    FROM (SELECT id, title, position FROM tasks
          WHERE user_id = $1 AND list_id = $2 AND parent_id IS NULL AND deleted_at IS NULL
          ORDER BY position, id LIMIT 50) AS t`,

  // A move needs its neighbours' keys before it can make its own (fractional-indexing, in Node), so
  // the floor sends two statements too: this read, then S8_MOVE.
  S8: `
    SELECT a.list_id, a.position AS low,
           (SELECT min(s.position) FROM tasks s
             WHERE s.user_id = $1 AND s.list_id = a.list_id AND s.parent_id IS NULL AND s.deleted_at IS NULL AND s.position > a.position AND s.id <> $2) AS high
    FROM tasks a WHERE a.id = $3 AND a.user_id = $1 AND a.parent_id IS NULL AND a.deleted_at IS NULL`,

  // id DESC, not ASC, so that a backward scan of (user_id, created_at, id) delivers the order.
  S5: `
    SELECT ${edges('t', 't.created_at DESC, t.id DESC')}::text AS data
    FROM (SELECT id, title, due_at, created_at FROM tasks t
          WHERE t.user_id = $1 AND t.deleted_at IS NULL
            AND (t.title ILIKE '%' || $2::text || '%' OR t.description ILIKE '%' || $2::text || '%')
            AND EXISTS (SELECT FROM task_tags tt WHERE tt.user_id = $1 AND tt.task_id = t.id AND tt.tag_id = $3)
          ORDER BY t.created_at DESC, t.id DESC LIMIT 20) AS t`,
};

const S8_MOVE = `
  UPDATE tasks SET list_id = $3, parent_id = NULL, position = $4 WHERE id = $2 AND user_id = $1 AND deleted_at IS NULL
  RETURNING json_build_object('moveTask', json_build_object('id', id, 'position', position))::text AS data`;

class BadInput extends Error {}

const uuid = (variables: Variables, name: string): string => {
  const value = variables[name];
  if (typeof value !== 'string' || !UUID.test(value)) throw new BadInput(`variables.${name} must be a UUID`);
  return value;
};

const text = (variables: Variables, name: string, maxLength: number): string => {
  const value = variables[name];
  if (typeof value !== 'string' || value.trim() === '' || value.length > maxLength) {
    throw new BadInput(`variables.${name} must be a non-blank string of at most ${maxLength} characters`);
  }
  return value;
};

// LIKE wildcards in the search term are matched literally, as a user typing "50%" expects.
const likeLiteral = (value: string) => value.replace(/[\\%_]/g, '\\$&');

/** The statement parameters after the viewer; throws BadInput for missing or malformed variables. */
function parameters(scenario: Scenario, variables: Variables): unknown[] {
  switch (scenario) {
    case 'S1':
      return [];
    case 'S2':
    case 'S4':
      return [uuid(variables, 'id')];
    case 'S3':
      return [text(variables, 'title', 500)];
    case 'S5':
      return [likeLiteral(text(variables, 'search', 200)), uuid(variables, 'tagId')];
    case 'S7':
      return [uuid(variables, 'list')];
    case 'S8':
      return [uuid(variables, 'id'), uuid(variables, 'afterId')];
  }
}

function send(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

const error = (message: string, code: string) => JSON.stringify({ errors: [{ message, extensions: { code } }] });

async function readBody(request: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startBaseline(options: BaselineOptions): Promise<Baseline> {
  const { jwtSecret, issuer, audience } = options;
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize });
  // An idle connection dropped by the server must not take the process down.
  pool.on('error', (cause) => console.error(`baseline: idle database connection failed: ${cause.message}`));

  async function viewer(request: IncomingMessage): Promise<string | null> {
    const token = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!token) return null;
    try {
      const { payload } = await jwtVerify(token, jwtSecret, { issuer, audience, algorithms: ['HS256'] });
      return typeof payload.sub === 'string' && UUID.test(payload.sub) ? payload.sub : null;
    } catch {
      return null;
    }
  }

  /** S8: read the neighbours, make a key between them, write it; again if a concurrent move took it. */
  async function move(values: unknown[]): Promise<string | null> {
    const [userId, id] = values;
    for (let attempt = 1; ; attempt++) {
      const { rows } = await pool.query<{ list_id: string; low: string; high: string | null }>({ name: 'baseline-S8', text: STATEMENTS.S8, values });
      const anchor = rows[0];
      if (!anchor) return null;
      try {
        const moved = await pool.query<{ data: string }>({ name: 'baseline-S8-move', text: S8_MOVE, values: [userId, id, anchor.list_id, generateKeyBetween(anchor.low, anchor.high)] });
        return moved.rows[0]?.data ?? null;
      } catch (cause) {
        if ((cause as { code?: string }).code !== '23505' || attempt === 20) throw cause;
      }
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'POST' || request.url !== '/') return send(response, 404, error('POST / only', 'NOT_FOUND'));
    const userId = await viewer(request);
    if (!userId) return send(response, 401, error('missing, invalid or expired token', 'UNAUTHENTICATED'));
    const raw = await readBody(request);
    if (raw === null) return send(response, 413, error('request body too large', 'BAD_REQUEST'));

    let scenario: Scenario;
    let values: unknown[];
    try {
      const body = JSON.parse(raw) as { scenario?: unknown; variables?: unknown };
      if (typeof body.scenario !== 'string' || !(body.scenario in STATEMENTS)) throw new BadInput('scenario must be one of S1..S5, S7, S8');
      scenario = body.scenario as Scenario;
      const variables = typeof body.variables === 'object' && body.variables !== null ? (body.variables as Variables) : {};
      values = [userId, ...parameters(scenario, variables)];
    } catch (cause) {
      const message = cause instanceof BadInput ? cause.message : 'request body must be JSON';
      return send(response, 400, error(message, 'BAD_USER_INPUT'));
    }

    // Named, so each pooled connection parses and plans a scenario's statement once; except S5: after
    // five runs PostgreSQL may give a prepared statement a generic plan, and for the search (whose best
    // plan depends on the term) it can pick one far slower than a plan made for the term. Unnamed, it
    // is planned for each call's values, as the API's searches are.
    const name = scenario === 'S5' ? undefined : `baseline-${scenario}`;
    if (scenario === 'S8') return send(response, 200, `{"data":${(await move(values)) ?? 'null'}}`);
    const { rows } = await pool.query<{ data: string }>({ name, text: STATEMENTS[scenario], values });
    send(response, 200, `{"data":${rows[0]?.data ?? 'null'}}`);
  }

  // Requests still being handled when close() is called must finish before the pool ends.
  const inFlight = new Set<Promise<void>>();
  const server = createServer((request, response) => {
    const handling = handle(request, response)
      .catch((cause: Error) => {
        console.error(`baseline: ${cause.message}`);
        if (!response.headersSent) send(response, 500, error('internal server error', 'INTERNAL_SERVER_ERROR'));
        else response.destroy();
      })
      .finally(() => inFlight.delete(handling));
    inFlight.add(handling);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await Promise.all(inFlight);
      await pool.end();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { loadConfig } = await import('../src/config.js');
  const config = loadConfig();
  if (!config.database.url) throw new Error('set DATABASE_URL to the seeded database');
  const baseline = await startBaseline({
    databaseUrl: config.database.url,
    port: config.port,
    jwtSecret: config.jwt.secret,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    poolSize: config.database.poolSize,
  });
  console.error(`baseline listening on ${baseline.url}`);
  const stop = () => void baseline.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
