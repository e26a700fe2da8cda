import { badInput } from '../schema/errors.js';
import { CURSOR_PREFIX } from './json.js';
import { bound, type Bound, type Shaped } from './parameters.js';

// Relay cursor connections: what first/after/last/before ask for, and what pageInfo answers. The
// rules are those of Pothos' Prisma connections, which clients of this API have always paged with:
// a page size defaults to 20 and is capped at 100; last/before page backward; hasNextPage is true
// before a cursor and false for `last` alone; hasPreviousPage is true after a cursor.

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface PageInput {
  /** Rows the page shows. */
  size: Bound<number>;
  /** Rows to read: one more than the page shows, to learn whether more follow. */
  limit: Bound<number>;
  backward: boolean;
  /** The id of the cursor's row. */
  cursor?: Bound<string>;
  after: boolean;
  before: boolean;
  last: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The row id a cursor of this API holds; BAD_USER_INPUT at `path` for anything else. */
export function decodeCursor(cursor: string, path: string): string {
  const decoded = Buffer.from(cursor, 'base64').toString('utf8');
  const id = decoded.slice(CURSOR_PREFIX.length);
  if (decoded.startsWith(CURSOR_PREFIX) && UUID.test(id)) return id.toLowerCase();
  throw badInput([{ path, message: 'not a cursor of this list' }]);
}

export function pageInput({ first, after, last, before }: PageArgs): PageInput {
  if (first != null && first < 0) throw badInput([{ path: 'first', message: 'must be a non-negative integer' }]);
  if (last != null && last < 0) throw badInput([{ path: 'last', message: 'must be a non-negative integer' }]);
  if (before != null && after != null) throw badInput([{ path: 'before', message: 'cannot be used together with after' }]);
  if (before != null && first != null) throw badInput([{ path: 'before', message: 'cannot be used together with first' }]);
  if (after != null && last != null) throw badInput([{ path: 'last', message: 'cannot be used together with after' }]);
  const size = Math.min(first ?? last ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const cursor = after ?? before;
  return {
    size: bound(size),
    limit: bound(size + 1),
    backward: before != null || last != null,
    ...(cursor != null ? { cursor: bound(decodeCursor(cursor, after != null ? 'after' : 'before')) } : {}),
    after: after != null,
    before: before != null,
    last: last != null,
  };
}

/** A pageInfo flag: known from the arguments alone, or whether more rows were read than the page shows. */
export type PageFlag = boolean | 'more';

export function pageInfoRule(page: Shaped<PageInput>): { hasNextPage: PageFlag; hasPreviousPage: PageFlag } {
  return {
    hasNextPage: page.before ? true : page.last ? false : 'more',
    hasPreviousPage: page.after ? true : page.backward ? 'more' : false,
  };
}
