import { describe, expect, it } from 'vitest';
import { allOf, taskWhere } from '../../src/tasks/task-query.js';

// Filters are built as flat wheres where possible: Prisma's query plan cache serves those, while a
// where with an AND list is compiled again on every query.

describe('allOf', () => {
  it('merges conditions on different keys into one where', () => {
    expect(allOf([{ completed: false }, { priority: { in: ['HIGH'] } }, {}])).toEqual({ completed: false, priority: { in: ['HIGH'] } });
  });

  it('puts conditions whose keys collide into an AND list, keeping every condition', () => {
    const now = new Date('2026-11-22T12:00:00Z');
    expect(allOf([{ dueAt: { gte: now } }, { dueAt: { lt: now } }, { completed: true }])).toEqual({
      dueAt: { gte: now },
      completed: true,
      AND: [{ dueAt: { lt: now } }],
    });
  });

  it('never merges a nested AND over another', () => {
    const nested = { AND: [{ completed: true }] };
    expect(allOf([{ AND: [{ title: 'a' }] }, nested])).toEqual({ AND: [{ AND: [{ title: 'a' }] }, nested] });
  });

  it('is empty for no conditions', () => {
    expect(allOf([])).toEqual({});
  });
});

describe('taskWhere', () => {
  it('is flat for the common list filters', () => {
    expect(taskWhere({ completed: false }, new Date())).toEqual({ completed: false });
  });

  it('keeps both ORs when overdue: false meets a search', () => {
    const now = new Date('2026-11-22T12:00:00Z');
    const where = taskWhere({ overdue: false, search: 'tax' }, now);
    expect(where.OR).toHaveLength(3);
    expect(where.AND).toEqual([{ OR: [{ title: { contains: 'tax', mode: 'insensitive' } }, { description: { contains: 'tax', mode: 'insensitive' } }] }]);
  });
});
