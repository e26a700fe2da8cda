import { badInput } from '../schema/errors.js';

/**
 * Where a reader stands in its user's change feed. Changes are ordered by (seq, typename, objectId):
 * `typename`/`objectId` are null when every change numbered `seq` has been read. `fullUntil` is the
 * number the reader's first (full) sync started at: deletions numbered up to it concern objects the
 * reader never received, so they are left out, and their purge does not expire the token.
 */
export interface SyncPosition {
  seq: bigint;
  typename: string | null;
  objectId: string | null;
  fullUntil: bigint;
}

const VERSION = '1';
const TYPENAMES = new Set(['Task', 'List', 'Tag']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NUMBER = /^(0|[1-9][0-9]{0,18})$/;

export function encodeSyncToken(position: SyncPosition): string {
  const parts = [VERSION, position.seq, position.typename ?? '', position.objectId ?? '', position.fullUntil];
  return Buffer.from(parts.join(':')).toString('base64url');
}

/** The position a token stands for; BAD_USER_INPUT on `path` for anything this server did not issue. */
export function decodeSyncToken(token: string, path: string): SyncPosition {
  const refuse = () => badInput([{ path, message: 'not a sync token of this server; sync again without one' }]);
  if (token.length > 200 || !/^[A-Za-z0-9_-]+$/.test(token)) throw refuse();
  const parts = Buffer.from(token, 'base64url').toString('utf8').split(':');
  if (parts.length !== 5) throw refuse();
  const [version, seq, typename, objectId, fullUntil] = parts as [string, string, string, string, string];
  if (version !== VERSION || !NUMBER.test(seq) || !NUMBER.test(fullUntil)) throw refuse();
  const tied = typename !== '' || objectId !== '';
  if (tied && (!TYPENAMES.has(typename) || !UUID.test(objectId))) throw refuse();
  const position = { seq: BigInt(seq), typename: tied ? typename : null, objectId: tied ? objectId : null, fullUntil: BigInt(fullUntil) };
  if (position.seq > MAX_SEQ || position.fullUntil > MAX_SEQ) throw refuse();
  return position;
}

const MAX_SEQ = 2n ** 63n - 1n;

/** A reader with no token: everything from the start, deletions left out (see SyncPosition). */
export const FULL_SYNC: SyncPosition = { seq: -1n, typename: null, objectId: null, fullUntil: MAX_SEQ };
