import {
  AliasNode,
  AndNode,
  BinaryOperationNode,
  ColumnNode,
  IdentifierNode,
  OnNode,
  OperationNodeTransformer,
  OperatorNode,
  ReferenceNode,
  SelectionNode,
  SelectQueryNode,
  TableNode,
  ValueNode,
  WhereNode,
  type DeleteQueryNode,
  type InsertQueryNode,
  type JoinNode,
  type KyselyPlugin,
  type OperationNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RawNode,
  type RootOperationNode,
  type UnknownRow,
  type UpdateQueryNode,
} from 'kysely';
import type { DB } from '../generated/kysely/types.js';

// The one place where the viewer enters the statements built with the read compiler's query builder.
// Every reference to a user's table — in FROM, in a JOIN, in a subquery or CTE at any depth, as the
// target of an UPDATE or DELETE — gets "<alias>.<owner column> = <viewer>" added where PostgreSQL
// applies it, and an INSERT into such a table writes the viewer as the owner whatever it was given
// (in VALUES, or in its SELECT's column). A table the scope does not know, a table named inside raw
// SQL, or a CTE named like a table is refused when the statement is compiled, so that a new table or
// a shortcut cannot slip past the scope unnoticed.

/** Each table of the schema and the column naming its owner. */
const OWNER_COLUMN: Record<keyof DB, string> = {
  users: 'id',
  tasks: 'user_id',
  tags: 'user_id',
  task_tags: 'user_id',
  lists: 'user_id',
  reminders: 'user_id',
  changes: 'user_id',
  sync_counters: 'user_id',
  calendar_feeds: 'user_id',
  webhooks: 'user_id',
  webhook_deliveries: 'user_id',
};

const TABLES = Object.keys(OWNER_COLUMN).join('|');
const TABLE_IN_RAW_SQL = new RegExp(`\\b(from|join|into|update)\\s+"?(${TABLES})\\b|^\\s*"?(${TABLES})"?\\s*$`, 'i');

/**
 * The viewer's tasks are the live ones: every reference to tasks reads only rows with no deleted_at,
 * except a reference under a trash alias (trashAlias), which reads only the viewer's trash. The
 * trash, restoreTask and emptyTrash are the only statements that use one.
 */
const TRASH_ALIAS_PREFIX = 'trashed';
export const trashAlias = (suffix = ''): string => `${TRASH_ALIAS_PREFIX}${suffix}`;
/**
 * A reference that reads the viewer's tasks live or in the trash: only for rows named by id after
 * the viewer has read them (a trashed task's own fields: its list, its tags), never to find rows.
 */
const READ_ALIAS_PREFIX = 'owned';
export const readAlias = (suffix = ''): string => `${READ_ALIAS_PREFIX}${suffix}`;

function taskState(alias: string): 'live' | 'trashed' | 'either' {
  if (alias.startsWith(TRASH_ALIAS_PREFIX)) return 'trashed';
  return alias.startsWith(READ_ALIAS_PREFIX) ? 'either' : 'live';
}

export class ScopeError extends Error {
  override name = 'ScopeError';
}

/** A table reference: the table's name and the name its columns are reached by. */
function tableOf(node: OperationNode): { table: string; alias: string } | null {
  if (TableNode.is(node)) return { table: node.table.identifier.name, alias: node.table.identifier.name };
  if (AliasNode.is(node) && TableNode.is(node.node) && node.alias.kind === 'IdentifierNode') {
    return { table: node.node.table.identifier.name, alias: (node.alias as { name: string } & OperationNode).name };
  }
  return null;
}

/** The names a statement gives its CTEs: references to them are not tables. */
function namesOfCtes(root: OperationNode): Set<string> {
  const names = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (typeof value !== 'object' || value === null) return;
    const node = value as OperationNode & { name?: { table: TableNode } };
    if (node.kind === 'CommonTableExpressionNode' && node.name) {
      const name = node.name.table.table.identifier.name;
      if (Object.hasOwn(OWNER_COLUMN, name)) throw new ScopeError(`a CTE may not be named like the table "${name}"`);
      names.add(name);
    }
    Object.values(value).forEach(visit);
  };
  visit(root);
  return names;
}

/**
 * Statements scoped already, with their viewer. Kysely runs a plugin on each query builder as it
 * becomes a node, so a subquery built apart is scoped once on its own and met again inside the
 * statement that embeds it: it is left as it is then, not given its conditions twice.
 */
const scopedFor = new WeakMap<OperationNode, unknown>();

class ScopeTransformer extends OperationNodeTransformer {
  constructor(
    private readonly viewer: unknown,
    private readonly ctes: ReadonlySet<string>,
  ) {
    super();
  }

  /**
   * "<alias>.<owner> = viewer" for a reference to one of the schema's tables, null for anything else
   * (a subquery, a CTE); for tasks also whether they are live or in the trash (see isTrashAlias).
   */
  private ownerCondition(node: OperationNode): OperationNode | null {
    const reference = tableOf(node);
    if (!reference || this.ctes.has(reference.table)) return null;
    const owner = OWNER_COLUMN[reference.table as keyof DB];
    if (!owner) throw new ScopeError(`the viewer scope does not know the table "${reference.table}"`);
    const owned = BinaryOperationNode.create(
      ReferenceNode.create(ColumnNode.create(owner), TableNode.create(reference.alias)),
      OperatorNode.create('='),
      ValueNode.create(this.viewer),
    );
    const state = reference.table === 'tasks' ? taskState(reference.alias) : 'either';
    if (state === 'either') return owned;
    const inTrash = BinaryOperationNode.create(
      ReferenceNode.create(ColumnNode.create('deleted_at'), TableNode.create(reference.alias)),
      OperatorNode.create(state === 'trashed' ? 'is not' : 'is'),
      ValueNode.createImmediate(null),
    );
    return AndNode.create(owned, inTrash);
  }

  private scopedWhere(where: WhereNode | undefined, tables: readonly OperationNode[]): WhereNode | undefined {
    let scoped = where;
    for (const table of tables) {
      const condition = this.ownerCondition(table);
      if (condition) scoped = scoped ? WhereNode.cloneWithOperation(scoped, 'And', condition) : WhereNode.create(condition);
    }
    return scoped;
  }

  /** Joined tables are scoped in their ON; a join without one (CROSS JOIN) in the WHERE. */
  private scopedJoins<Node extends { joins?: readonly JoinNode[]; where?: WhereNode }>(node: Node): Node {
    if (!node.joins) return node;
    const unconditioned: OperationNode[] = [];
    const joins = node.joins.map((join) => {
      const condition = this.ownerCondition(join.table);
      if (!condition) return join;
      if (!join.on) {
        unconditioned.push(join.table);
        return join;
      }
      return { ...join, on: OnNode.cloneWithOperation(join.on, 'And', condition) };
    });
    return { ...node, joins, where: this.scopedWhere(node.where, unconditioned) };
  }

  private once<Node extends OperationNode>(node: Node, scope: (node: Node) => Node): Node {
    if (scopedFor.has(node)) {
      if (scopedFor.get(node) !== this.viewer) throw new ScopeError('a statement scoped to one viewer is embedded in one for another');
      return node;
    }
    const scoped = scope(node);
    scopedFor.set(scoped, this.viewer);
    return scoped;
  }

  protected override transformSelectQuery(node: SelectQueryNode): SelectQueryNode {
    return this.once(node, (unscoped) => {
      const transformed = super.transformSelectQuery(unscoped);
      return this.scopedJoins({ ...transformed, where: this.scopedWhere(transformed.where, transformed.from?.froms ?? []) });
    });
  }

  protected override transformUpdateQuery(node: UpdateQueryNode): UpdateQueryNode {
    return this.once(node, (unscoped) => {
      const transformed = super.transformUpdateQuery(unscoped);
      const tables = [...(transformed.table ? [transformed.table] : []), ...(transformed.from?.froms ?? [])];
      return this.scopedJoins({ ...transformed, where: this.scopedWhere(transformed.where, tables) });
    });
  }

  protected override transformDeleteQuery(node: DeleteQueryNode): DeleteQueryNode {
    return this.once(node, (unscoped) => {
      const transformed = super.transformDeleteQuery(unscoped);
      const tables = [...transformed.from.froms, ...(transformed.using?.tables ?? [])];
      return this.scopedJoins({ ...transformed, where: this.scopedWhere(transformed.where, tables) });
    });
  }

  protected override transformInsertQuery(node: InsertQueryNode): InsertQueryNode {
    return this.once(node, (unscoped) => this.ownedInsert(unscoped));
  }

  private ownedInsert(node: InsertQueryNode): InsertQueryNode {
    const transformed = super.transformInsertQuery(node);
    if (!transformed.into) return transformed;
    const table = transformed.into.table.identifier.name;
    const owner = OWNER_COLUMN[table as keyof DB];
    if (!owner) throw new ScopeError(`the viewer scope does not know the table "${table}"`);
    const values = transformed.values;
    const columns = [...(transformed.columns ?? [])];
    if (values && SelectQueryNode.is(values)) {
      // INSERT ... SELECT: the owner column's expression becomes the viewer.
      const index = columns.findIndex((column) => column.column.name === owner);
      const selections = values.selections ?? [];
      if (index === -1 || selections.length !== columns.length || selections.some((selection) => selection.selection.kind === 'SelectAllNode')) {
        throw new ScopeError(`an INSERT ... SELECT into "${table}" names its columns, the owner among them, one per selected value`);
      }
      const owned = [...selections];
      owned[index] = SelectionNode.create(AliasNode.create(ValueNode.create(this.viewer), IdentifierNode.create(owner)));
      return { ...transformed, values: { ...values, selections: owned } as SelectQueryNode };
    }
    if (!values || values.kind !== 'ValuesNode') throw new ScopeError(`an INSERT into "${table}" takes VALUES or a SELECT, so that its owner can be set`);
    let index = columns.findIndex((column) => column.column.name === owner);
    if (index === -1) {
      columns.push(ColumnNode.create(owner));
      index = columns.length - 1;
    }
    const rows = (values as unknown as { values: readonly { kind: string; values: readonly unknown[] }[] }).values.map((row) => {
      const items = [...row.values];
      items[index] = row.kind === 'PrimitiveValueListNode' ? this.viewer : ValueNode.create(this.viewer);
      return { ...row, values: items };
    });
    return { ...transformed, columns, values: { ...values, values: rows } as OperationNode };
  }

  protected override transformRaw(node: RawNode): RawNode {
    const named = node.sqlFragments.find((fragment) => TABLE_IN_RAW_SQL.test(fragment));
    if (named) throw new ScopeError(`a table is named inside raw SQL, out of the viewer scope's sight: ${named.trim()}`);
    return super.transformRaw(node);
  }
}

/** The Kysely plugin that scopes every statement to `viewer` (an id, or the Slot it is bound to). */
export class ViewerScope implements KyselyPlugin {
  constructor(private readonly viewer: unknown) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return new ScopeTransformer(this.viewer, namesOfCtes(args.node)).transformNode(args.node);
  }

  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(args.result);
  }
}
