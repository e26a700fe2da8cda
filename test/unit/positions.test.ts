import { generateKeyBetween } from 'fractional-indexing';
import { describe, expect, it } from 'vitest';
import { keyBetween, MAX_POSITION_LENGTH, needsRebalance, PositionRace, rebalanced } from '../../src/tasks/positions.js';

/** The keys of one sibling group after `moves` drops right after its first task, as the server places them. */
function dropIntoOneSpot(moves: number, rebalance: boolean) {
  let rows = [
    { id: 'first', position: 'a0' },
    { id: 'x', position: 'a1' },
    { id: 'y', position: 'a2' },
  ];
  let longest = 0;
  let rebalances = 0;
  for (let move = 0; move < moves; move++) {
    const moved = move % 2 === 0 ? 'x' : 'y';
    const others = rows.filter((row) => row.id !== moved).sort((a, b) => (a.position < b.position ? -1 : 1));
    const low = others[0]!.position;
    const high = others[1]?.position ?? null;
    let position = keyBetween(low, high);
    rows = [...others, { id: moved, position }];
    if (rebalance && needsRebalance(position)) {
      rows = rebalanced(rows);
      position = rows.find((row) => row.id === moved)!.position;
      rebalances += 1;
    }
    longest = Math.max(longest, position.length);
  }
  const order = [...rows].sort((a, b) => (a.position < b.position ? -1 : 1)).map((row) => row.id);
  return { longest, rebalances, order };
}

describe('positions', () => {
  it('grow without bound when dropped into one spot again and again, which is why groups are rebalanced', () => {
    expect(dropIntoOneSpot(10_000, false).longest).toBeGreaterThan(1_000);
  });

  it('stay at most MAX_POSITION_LENGTH long over 10,000 drops into one spot, in the order the drops ask for', () => {
    const { longest, rebalances, order } = dropIntoOneSpot(10_000, true);
    expect(longest).toBeLessThanOrEqual(MAX_POSITION_LENGTH);
    expect(rebalances).toBeGreaterThan(0);
    // The last drop (y, on an odd count) went right after the first task.
    expect(order).toEqual(['first', 'y', 'x']);
  });

  it('rebalance to short keys in the same order, ties broken by id', () => {
    const rows = [
      { id: 'c', position: 'a0V' },
      { id: 'a', position: 'a0' },
      { id: 'b', position: 'a0' + 'V'.repeat(60) },
    ];
    const keys = rebalanced(rows);
    expect(keys.map((row) => row.id)).toEqual(['a', 'c', 'b']);
    expect(keys.every((row) => row.position.length <= 3)).toBe(true);
    expect([...keys].sort((x, y) => (x.position < y.position ? -1 : 1)).map((row) => row.id)).toEqual(['a', 'c', 'b']);
  });

  it('place between neighbours, and call crossed neighbours a race to read again', () => {
    const key = keyBetween('a0', 'a1');
    expect(key > 'a0' && key < 'a1').toBe(true);
    expect(keyBetween(null, null)).toBe(generateKeyBetween(null, null));
    expect(() => keyBetween('a2', 'a1')).toThrow(PositionRace);
  });
});
