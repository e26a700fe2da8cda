import pg from 'pg';
import { Prisma } from '../generated/prisma/client.js';

// Recognises the database refusals that mean something to a client. Prisma reports them as
// known request errors whose driver-adapter cause names the constraint.

interface AdapterCause {
  kind?: string;
  constraint?: { index?: string; fields?: string[] };
  originalMessage?: string;
}

// The same refusals from statements sent through pg directly (the read compiler's, src/reads/), in Prisma's terms.
const PG_CODES: Record<string, string> = { '23505': 'P2002', '23503': 'P2003' };

function cause(error: unknown): { code: string; cause?: AdapterCause; message: string } | undefined {
  if (error instanceof pg.DatabaseError) {
    const code = PG_CODES[error.code ?? ''];
    return code ? { code, cause: { constraint: { index: error.constraint } }, message: error.message } : undefined;
  }
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return undefined;
  const meta = error.meta as { driverAdapterError?: { cause?: AdapterCause } } | undefined;
  return { code: error.code, cause: meta?.driverAdapterError?.cause, message: error.message };
}

/** The name of the violated unique index (or its columns), when the error is a unique violation. */
export function violatedUniqueIndex(error: unknown): string | undefined {
  const info = cause(error);
  if (info?.code !== 'P2002') return undefined;
  return info.cause?.constraint?.index ?? info.cause?.constraint?.fields?.join(',') ?? 'unknown';
}

/** The name of the violated foreign key (or its column), when the error is a foreign key violation. */
export function violatedForeignKey(error: unknown): string | undefined {
  const info = cause(error);
  if (info?.code !== 'P2003') return undefined;
  return info.cause?.constraint?.index ?? info.cause?.constraint?.fields?.join(',') ?? 'unknown';
}


// PostgreSQL SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown,
// cannot connect now), and the errors node-postgres raises when it cannot reach the server at all.
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'P1001', 'P1002', 'P1017', 'P2024']);
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'DatabaseDoesNotExist', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Can't reach database|connection (is )?closed|the database system is (shutting down|starting up|in recovery mode)|terminating connection due to administrator command|Client has encountered a connection error/i;

/** True when an error means "the database cannot be reached right now", however deep it is wrapped. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const candidate = current as { code?: unknown; kind?: unknown; message?: unknown; cause?: unknown; originalError?: unknown; meta?: { driverAdapterError?: unknown } };
    const code = typeof candidate.code === 'string' ? candidate.code : '';
    if (UNAVAILABLE_CODES.has(code) || code.startsWith('08') || code.startsWith('57P')) return true;
    if (typeof candidate.kind === 'string' && UNAVAILABLE_KINDS.has(candidate.kind)) return true;
    if (typeof candidate.message === 'string' && UNAVAILABLE_MESSAGES.test(candidate.message)) return true;
    current = candidate.originalError ?? candidate.meta?.driverAdapterError ?? candidate.cause;
  }
  return false;
}

/** PostgreSQL refused a text value it cannot store (a NUL character): the client sent it. */
export function isUnstorableText(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const candidate = current as { code?: unknown; originalCode?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
    if (['22021', '22P05'].includes(String(candidate.code)) || ['22021', '22P05'].includes(String(candidate.originalCode))) return true;
    current = candidate.meta?.driverAdapterError ?? candidate.cause;
  }
  return false;
}
