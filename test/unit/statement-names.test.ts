import { describe, expect, it } from 'vitest';
import { statementNames } from '../../src/db/statement-names.js';

describe('statementNames', () => {
  it('gives one text one name, every time, and two texts two names', () => {
    const nameOf = statementNames();
    const list = nameOf({ sql: 'SELECT id FROM tasks WHERE user_id = $1' });
    expect(list).toMatch(/^prisma_[\w-]{32}$/);
    expect(nameOf({ sql: 'SELECT id FROM tasks WHERE user_id = $1' })).toBe(list);
    expect(nameOf({ sql: 'SELECT id FROM tags WHERE user_id = $1' })).not.toBe(list);
    // Another generator (another process, another pool) names the same text alike.
    expect(statementNames()({ sql: 'SELECT id FROM tasks WHERE user_id = $1' })).toBe(list);
  });

  it('leaves texts past its capacity unnamed, and keeps the names it gave', () => {
    const nameOf = statementNames(2);
    const first = nameOf({ sql: 'SELECT 1' });
    const second = nameOf({ sql: 'SELECT 2' });
    expect(nameOf({ sql: 'SELECT 3' })).toBe('');
    expect([nameOf({ sql: 'SELECT 1' }), nameOf({ sql: 'SELECT 2' })]).toEqual([first, second]);
    expect(first).not.toBe(second);
  });
});
