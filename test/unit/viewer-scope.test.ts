import { sql, type Compilable } from 'kysely';
import { describe, expect, it } from 'vitest';
import { compile, queriesOf } from '../../src/reads/query-builder.js';
import { ScopeError } from '../../src/reads/viewer-scope.js';

// The viewer scope is the only place the owner condition is written (src/reads/viewer-scope.ts).
// These tests compile statements without any owner condition of their own and look for the one the
// scope adds at every reference to a user's table.

const VIEWER = 'viewer-id';
const q = queriesOf(VIEWER);

/** The aliases whose owner column the statement compares with the viewer's id. */
function scopedAliases(query: Compilable): string[] {
  const { text, parameters } = compile(query, true);
  const aliases: string[] = [];
  for (const match of text.matchAll(/"(\w+)"\."(user_id|id)" = \$(\d+)/g)) {
    if (parameters[Number(match[3]) - 1] === VIEWER) aliases.push(match[1]!);
  }
  return aliases.sort();
}

describe('the viewer scope', () => {
  it('adds the owner condition to a table in FROM, whatever its alias', () => {
    expect(scopedAliases(q.selectFrom('tasks as t').select('t.id'))).toEqual(['t']);
    expect(scopedAliases(q.selectFrom('tasks').select('id'))).toEqual(['tasks']);
    // For users the owner column is the id itself.
    expect(compile(q.selectFrom('users as u').select('u.email'), true).text).toMatch(/"u"\."id" = \$1/);
  });

  it('adds it to joined tables in their ON, and to a cross join in the WHERE', () => {
    const joined = q.selectFrom('task_tags as tt').innerJoin('tags as g', 'g.id', 'tt.tag_id').leftJoin('tasks as t', 't.id', 'tt.task_id').select('g.name');
    expect(scopedAliases(joined)).toEqual(['g', 't', 'tt']);
    expect(compile(joined, true).text).toMatch(/left join "tasks" as "t" on "t"\."id" = "tt"\."task_id" and "t"\."user_id" = \$\d/);
    expect(scopedAliases(q.selectFrom('tasks as t').crossJoin('tags as g').select('t.id'))).toEqual(['g', 't']);
  });

  it('reaches subqueries at any depth: EXISTS, derived tables, lateral joins, CTEs', () => {
    const tagged = q
      .selectFrom('tasks as t')
      .select('t.id')
      .where(({ exists, selectFrom }) => exists(selectFrom('task_tags as tt').select('tt.tag_id').whereRef('tt.task_id', '=', 't.id')));
    expect(scopedAliases(tagged)).toEqual(['t', 'tt']);
    const derived = q.selectFrom(q.selectFrom('tags as g').select('g.id').as('d')).select('d.id');
    expect(scopedAliases(derived)).toEqual(['g']);
    const lateral = q.selectFrom('tags as g').crossJoinLateral((eb) => eb.selectFrom('task_tags as tt').select('tt.task_id').whereRef('tt.tag_id', '=', 'g.id').as('x')).select('x.task_id');
    expect(scopedAliases(lateral)).toEqual(['g', 'tt']);
    const cte = q.with('mine', (db) => db.selectFrom('tasks as t').select('t.id')).selectFrom('mine').select('mine.id');
    expect(scopedAliases(cte)).toEqual(['t']);
  });

  it('scopes a subquery built apart once, not again where it is embedded', () => {
    const inner = q.selectFrom('tags as g').select('g.id');
    const outer = q.selectFrom('tasks as t').select((eb) => eb.selectFrom('task_tags as tt').select(sql`count(*)`.as('n')).where('tt.tag_id', 'in', inner).as('count'));
    expect(scopedAliases(outer)).toEqual(['g', 't', 'tt']);
  });

  it('adds it to the target of UPDATE and DELETE', () => {
    expect(scopedAliases(q.updateTable('tasks').set({ title: 'x' }).where('id', '=', 'some-id'))).toEqual(['tasks']);
    expect(scopedAliases(q.deleteFrom('tags').where('id', '=', 'some-id'))).toEqual(['tags']);
  });

  it('writes the viewer as the owner of every inserted row, whatever it was given', () => {
    const given = compile(q.insertInto('tasks').values({ id: 'a', title: 'x', user_id: 'someone-else', list_id: 'l', position: 'a0' }), true);
    expect(given.parameters).not.toContain('someone-else');
    expect(given.parameters).toContain(VIEWER);
    const missing = compile(q.insertInto('tags').values({ name: 'x' } as never), true);
    expect(missing.text).toMatch(/"user_id"/);
    expect(missing.parameters).toContain(VIEWER);
    const copied = compile(
      q.insertInto('task_tags').columns(['task_id', 'tag_id', 'user_id']).expression(q.selectFrom('task_tags as tt').select(['tt.task_id', 'tt.tag_id', 'tt.user_id'])),
      true,
    );
    expect(copied.text).toMatch(/select "tt"\."task_id", "tt"\."tag_id", \$1 as "user_id" from "task_tags" as "tt" where "tt"\."user_id" = \$2/);
    expect(copied.parameters).toEqual([VIEWER, VIEWER]);
  });

  it('refuses what it cannot scope: an unknown table, a table in raw SQL, a CTE named like a table, an INSERT ... SELECT without the owner', () => {
    expect(() => compile(q.selectFrom('pg_class' as 'tasks').select('id'), true)).toThrow(ScopeError);
    expect(() => compile(q.selectFrom('tags as g').select(sql`(select count(*) from tasks)`.as('n')), true)).toThrow(ScopeError);
    expect(() => compile(q.selectFrom(sql`tasks`.as('t')).selectAll(), true)).toThrow(ScopeError);
    expect(() => compile(q.with('tasks' as 'mine', (db) => db.selectFrom('tags').select('id')).selectFrom('tags').select('id'), true)).toThrow(ScopeError);
    expect(() => compile(q.insertInto('task_tags').columns(['task_id', 'tag_id']).expression(q.selectFrom('task_tags as tt').select(['tt.task_id', 'tt.tag_id'])), true)).toThrow(ScopeError);
  });
});
