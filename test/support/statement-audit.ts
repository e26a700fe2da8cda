import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pg from 'pg';

// Every statement the server sends while it handles a request is recorded with the viewer of that
// request, and judged by what PostgreSQL would do with it: EXPLAIN (VERBOSE) with the recorded
// values, which PostgreSQL plans as constants. Each scan of a user's table (users, tasks, tags, lists,
// task_tags) must itself compare its owner column (users: id) with the viewer's id, and each row an
// INSERT writes into one must carry the viewer as its owner. Statements the tests send themselves,
// or that the reminder worker sends, happen outside any request and are not recorded.
//
// Unscoped by design, the only exceptions: finding a user by email or external id (sign-in, sign-up's
// duplicate check, the first sight of an external identity) and creating a user (sign-up): whatever
// token such a request carries, the account it concerns is not yet its viewer's. A request without a
// token reads as the nil UUID, whom no row belongs to. A calendar feed's secret is its credential:
// the request's viewer is the feed's owner (looked up here, outside the request), and finding the
// owner by the secret is the feed's one unscoped statement (calendar_feeds is no user's table).

const OWNER: Record<string, string> = { users: 'id', tasks: 'user_id', tags: 'user_id', task_tags: 'user_id', lists: 'user_id', reminders: 'user_id', webhooks: 'user_id', webhook_deliveries: 'user_id' };
const NOBODY = '00000000-0000-0000-0000-000000000000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SCANS = new Set(['Seq Scan', 'Index Scan', 'Index Only Scan', 'Bitmap Heap Scan', 'Tid Scan', 'Tid Range Scan', 'Sample Scan']);

export interface RecordedStatement {
  text: string;
  values: unknown[];
  /** The viewer's id; null when the request's token names no user of ours (an external identity). */
  viewer: string | null;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Operation?: string;
  Output?: string[];
  'Index Cond'?: string;
  'Recheck Cond'?: string;
  Filter?: string;
  'One-Time Filter'?: string;
  Plans?: PlanNode[];
}

/** The user id a bearer token is for, without verifying it: the server verifies, the audit only needs the claim. */
function viewerOf(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return NOBODY;
  const payload = header.replace(/^Bearer\s+/i, '').split('.')[1];
  try {
    const subject = (JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as { sub?: unknown }).sub;
    return typeof subject === 'string' && UUID.test(subject) ? subject.toLowerCase() : null;
  } catch {
    return null;
  }
}

// Below a `One-Time Filter: false` PostgreSQL has proved that nothing is read: a viewer asking for
// another user's row by id (`id = <theirs> AND id = <viewer>`) is planned so from PostgreSQL 15 on,
// with only one of the two constants left on the scan.
const walk = (node: PlanNode, visit: (node: PlanNode, parent?: PlanNode) => void, parent?: PlanNode): void => {
  visit(node, parent);
  if (node['One-Time Filter'] === 'false') return;
  for (const child of node.Plans ?? []) walk(child, visit, node);
};

/** The uuids a plan node compares its owner column with. */
function ownersBound(node: PlanNode, owner: string): string[] {
  const conditions = [node['Index Cond'], node['Recheck Cond'], node.Filter, ...(node.Plans ?? []).map((child) => child['Index Cond'])].filter(Boolean).join(' ');
  return [...conditions.matchAll(new RegExp(`(?:^|[\\s(.])${owner} = '([0-9a-f-]{36})'::uuid`, 'g'))].map((match) => match[1]!);
}

/** The owner each row of a multi-row INSERT ... VALUES writes, from the statement's own text and values. */
function ownersInserted(statement: RecordedStatement, table: string): string[] | null {
  const match = /insert\s+into\s+(?:"?public"?\.)?"?(\w+)"?\s*\(([^)]*)\)\s*values\s*(.*)$/is.exec(statement.text);
  if (!match || match[1] !== table) return null;
  const columns = match[2]!.split(',').map((column) => column.trim().replace(/"/g, ''));
  const index = columns.indexOf(OWNER[table]!);
  if (index === -1) return null;
  const owners: string[] = [];
  // The tuples end where RETURNING begins: its expressions have parentheses too.
  const tuples = match[3]!.split(/\breturning\b/i)[0]!;
  for (const tuple of tuples.matchAll(/\(([^()]*)\)/g)) {
    const item = tuple[1]!.split(',')[index]?.trim() ?? '';
    const placeholder = /^\$(\d+)/.exec(item);
    owners.push(placeholder ? String(statement.values[Number(placeholder[1]) - 1]) : item);
  }
  return owners;
}

export function auditStatements(pool: pg.Pool) {
  const requests = new AsyncLocalStorage<{ viewer: string | null }>();
  const recorded = new Map<string, RecordedStatement>();
  const record = (args: unknown[]) => {
    const request = requests.getStore();
    if (!request) return;
    const first = args[0] as string | { text?: string; values?: unknown[] };
    const text = typeof first === 'string' ? first : (first.text ?? '');
    const values = (typeof first === 'string' ? (args[1] as unknown[] | undefined) : first.values) ?? [];
    const key = `${request.viewer === null ? 'external' : request.viewer === NOBODY ? 'anonymous' : 'viewer'}\u0000${text}`;
    if (!recorded.has(key)) recorded.set(key, { text, values: [...values], viewer: request.viewer });
  };
  // pool.query is recorded where it is called: the client it runs on may be handed over from
  // another request's release, in that request's async context. A client checked out with
  // pool.connect() (a transaction) is used after an await, in its own request's context.
  const poolQuery = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  pool.query = ((...args: unknown[]) => {
    record(args);
    return poolQuery(...args);
  }) as typeof pool.query;
  const wrapped = new WeakSet<object>();
  pool.on('acquire', (client) => {
    if (wrapped.has(client)) return;
    wrapped.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => {
      // pool.query runs its statement with a callback: it is recorded already.
      if (typeof args.at(-1) !== 'function') record(args);
      return query(...args);
    }) as typeof client.query;
  });

  return {
    /** The listener, with each request's statements attributed to its viewer. */
    around(listener: (req: IncomingMessage, res: ServerResponse) => void) {
      return (req: IncomingMessage, res: ServerResponse) => {
        const secret = /^\/calendar\/([A-Za-z0-9_-]+)\.ics$/.exec(req.url ?? '')?.[1];
        if (!secret) return requests.run({ viewer: viewerOf(req) }, () => listener(req, res));
        void (poolQuery('SELECT user_id FROM calendar_feeds WHERE secret = $1', [secret]) as Promise<{ rows: { user_id: string }[] }>).then(
          (result) => requests.run({ viewer: result.rows[0]?.user_id ?? NOBODY }, () => listener(req, res)),
          () => requests.run({ viewer: NOBODY }, () => listener(req, res)),
        );
      };
    },
    recorded: () => [...recorded.values()],
    /** What is wrong with each recorded statement, judged on the database at `connectionString`. */
    judge: (connectionString: string) => judgeStatements(connectionString, [...recorded.values()]),
  };
}

export async function judgeStatements(connectionString: string, statements: RecordedStatement[]): Promise<string[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  const problems: string[] = [];
  try {
    const columns = new Map<string, string[]>();
    for (const table of Object.keys(OWNER)) {
      const { rows } = await client.query<{ attname: string }>(
        `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
        [table],
      );
      columns.set(table, rows.map((row) => row.attname));
    }
    for (const statement of statements) {
      if (!/\b(users|tasks|tags|task_tags|lists|reminders)\b/.test(statement.text) || /^\s*(BEGIN|COMMIT|ROLLBACK|SET|SHOW|DEALLOCATE)\b/i.test(statement.text)) continue;
      let plan: PlanNode;
      try {
        const { rows } = await client.query({ text: `EXPLAIN (VERBOSE, FORMAT JSON) ${statement.text}`, values: statement.values });
        plan = (rows[0] as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]!.Plan;
      } catch (error) {
        problems.push(`cannot be explained (${(error as Error).message}): ${statement.text}`);
        continue;
      }
      const bound = new Set<string>();
      const wrong = (why: string) => problems.push(`${why}\n    viewer ${statement.viewer ?? '(external identity)'}\n    ${statement.text}\n    values ${JSON.stringify(statement.values)}`);
      walk(plan, (node) => {
        const table = node['Relation Name'];
        if (!table || !(table in OWNER)) return;
        const owner = OWNER[table]!;
        if (SCANS.has(node['Node Type'])) {
          const owners = ownersBound(node, owner);
          const conditions = `${node['Index Cond'] ?? ''} ${node.Filter ?? ''}`;
          if (owners.length === 0) {
            if (table === 'users' && /\b(email|external_id) = /.test(conditions)) return;
            wrong(`a ${node['Node Type']} of ${table} does not bind ${owner} to the viewer`);
          }
          owners.forEach((id) => bound.add(id));
          return;
        }
        if (node['Node Type'] === 'ModifyTable' && node.Operation === 'Insert') {
          if (table === 'users') return; // sign-up, or an external identity's first request
          const source = node.Plans?.[0];
          const index = columns.get(table)!.indexOf(owner);
          const literal = /^'([0-9a-f-]{36})'::uuid$/.exec(source?.Output?.[index] ?? '')?.[1];
          const owners = literal ? [literal] : ownersInserted(statement, table);
          if (!owners || owners.length === 0) wrong(`an INSERT into ${table} whose ${owner} cannot be seen to be the viewer`);
          else owners.forEach((id) => bound.add(id));
        }
      });
      // Every owner the statement names is one and the same: the viewer's (or, for an external
      // identity, whichever user it was provisioned as).
      if (bound.size > 1) wrong(`binds several owners: ${[...bound].join(', ')}`);
      else if (bound.size === 1 && statement.viewer !== null && !bound.has(statement.viewer)) wrong(`binds ${[...bound][0]} instead of the viewer`);
    }
  } finally {
    await client.end();
  }
  return problems;
}
