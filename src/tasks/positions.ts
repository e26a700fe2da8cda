import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing';
import { badInput } from '../schema/errors.js';

// Positions are fractional-indexing keys: strings that sort byte-wise (the columns are COLLATE "C")
// and between any two of which another fits, so a move writes one row however long the list is.

/** A key after `low` and before `high` (null: no bound on that side). */
export function keyBetween(low: string | null, high: string | null): string {
  if (low !== null && high !== null && low >= high) {
    // Only a concurrent move between our read and our write can make the neighbours cross; the
    // caller reads them again.
    throw new PositionRace();
  }
  return generateKeyBetween(low, high);
}

/**
 * Keys made again and again between a key and its last neighbour grow by about one character every
 * six moves; past this length a sibling group is given evenly spaced keys again (same order), so
 * keys stay short however often a client drops tasks into the same spot.
 */
export const MAX_POSITION_LENGTH = 40;

export const needsRebalance = (position: string) => position.length > MAX_POSITION_LENGTH;

/**
 * Short, evenly spaced keys for `rows` in the order of their current keys (byte order, as the
 * columns' COLLATE "C" sorts them): the same order, new keys.
 */
export function rebalanced(rows: readonly { id: string; position: string }[]): { id: string; position: string }[] {
  const ordered = [...rows].sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : a.id < b.id ? -1 : 1));
  const keys = generateNKeysBetween(null, null, ordered.length);
  return ordered.map((row, index) => ({ id: row.id, position: keys[index]! }));
}

/** The neighbours read for a move changed before the write: read them again. */
export class PositionRace extends Error {
  override name = 'PositionRace';
}

/** Where to put a task or list among its new siblings. */
export interface Placement {
  afterId?: string | null;
  beforeId?: string | null;
}

/** afterId and beforeId may not name the moved row itself. */
export function checkPlacement(id: string, placement: Placement, path: string): void {
  // One neighbour says where a dragged row lands; a second one could only disagree with it.
  if (placement.afterId && placement.beforeId) throw badInput([{ path: `${path}.beforeId`, message: 'give afterId or beforeId, not both' }]);
  if (placement.afterId === id) throw badInput([{ path: `${path}.afterId`, message: 'cannot place a row after itself' }]);
  if (placement.beforeId === id) throw badInput([{ path: `${path}.beforeId`, message: 'cannot place a row before itself' }]);
}
