import { encodeGlobalID } from '@pothos/plugin-relay';
import {
  getNamedType,
  isLeafType,
  isNonNullType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { isOverdue } from '../tasks/task-rules.js';

// The task reads clients send most (Query.tasks and Query.task over task columns and tags), turned
// once per document into a plan: the Prisma-style selection the compiled SQL reads
// (src/tasks/task-sql.ts) and a function that builds the response from its rows. graphql-js,
// Pothos' resolver wrappers and plugin-prisma's selection bookkeeping cost ~400 us of CPU for a page
// of 20 tasks (npm run bench:layers) where building the same objects directly costs a few
// microseconds. A document the plan does not know in full (fragments, directives, other fields,
// mutations) gets no plan, and graphql-js executes it as always.

/** Builds one response value from its source (a row, an edge, a connection). */
type Build = (source: never) => unknown;

interface Row {
  [column: string]: unknown;
  completed: boolean;
  dueAt: Date | null;
}

/** Task fields read straight from the row, and the columns they need beyond the four always read. */
const TASK_FIELDS: Record<string, { value: (task: Row) => unknown; column?: string }> = {
  id: { value: (task) => encodeGlobalID('Task', task.id as string) },
  title: { value: (task) => task.title },
  dueAt: { value: (task) => task.dueAt },
  completed: { value: (task) => task.completed },
  overdue: { value: (task) => isOverdue(task, Date.now()) },
  description: { value: (task) => task.description, column: 'description' },
  completedAt: { value: (task) => task.completedAt, column: 'completedAt' },
  priority: { value: (task) => task.priority, column: 'priority' },
  remindAt: { value: (task) => task.remindAt, column: 'remindAt' },
  reminderSentAt: { value: (task) => task.reminderSentAt, column: 'reminderSentAt' },
  recurrence: { value: (task) => task.recurrence, column: 'recurrence' },
  seriesId: { value: (task) => task.seriesId, column: 'seriesId' },
  version: { value: (task) => task.version, column: 'version' },
  createdAt: { value: (task) => task.createdAt, column: 'createdAt' },
  updatedAt: { value: (task) => task.updatedAt, column: 'updatedAt' },
};
/** What Task's select mode always reads (src/schema/task.ts). */
const TASK_ALWAYS = { id: true, title: true, dueAt: true, completed: true };

const TAG_FIELDS: Record<string, { value: (tag: Row) => unknown; column?: string }> = {
  id: { value: (tag) => encodeGlobalID('Tag', tag.id as string) },
  name: { value: (tag) => tag.name },
  color: { value: (tag) => tag.color, column: 'color' },
  createdAt: { value: (tag) => tag.createdAt, column: 'createdAt' },
};
const TAG_ALWAYS = { id: true, name: true };

export interface RootPlan {
  /** The response key (alias or name). */
  key: string;
  kind: 'tasks' | 'task' | 'typename';
  node: FieldNode;
  /** Query's field (its arguments); none for __typename. */
  field?: GraphQLField<unknown, unknown>;
  /** What the compiled statement reads for each task. */
  select: Record<string, unknown>;
  /** tasks: from plugin-prisma's connection object; task: from a row. */
  build: Build;
}

export interface TaskReadPlan {
  operation: OperationDefinitionNode;
  roots: RootPlan[];
}

/** Thrown while planning: the document asks for something the plan does not build. */
class NotPlannable extends Error {}

/** The plan for a document, or null when graphql-js should execute it. */
export function planTaskRead(schema: GraphQLSchema, document: DocumentNode): TaskReadPlan | null {
  // One operation and nothing else: operationName cannot pick another, and there are no fragments.
  const [operation, ...rest] = document.definitions;
  if (!operation || rest.length > 0 || operation.kind !== Kind.OPERATION_DEFINITION || operation.operation !== 'query') return null;
  if (operation.directives?.length) return null;
  try {
    const query = schema.getQueryType()!;
    const roots = fieldsOf(operation.selectionSet).map(([key, node]): RootPlan => {
      const field = query.getFields()[node.name.value];
      if (node.name.value === '__typename') return { key, kind: 'typename', node, select: {}, build: () => query.name };
      const columns = new TaskColumns();
      if (node.name.value === 'tasks') {
        const build = connectionPlan(schema, subselection(node), columns);
        return { key, kind: 'tasks', node, field, select: columns.toSelect(), build };
      }
      if (node.name.value === 'task') {
        const build = taskPlan(schema, subselection(node), columns);
        return { key, kind: 'task', node, field, select: columns.toSelect(), build };
      }
      throw new NotPlannable();
    });
    return { operation, roots };
  } catch (error) {
    if (error instanceof NotPlannable) return null;
    throw error;
  }
}

/** The fields of a selection set by response key, in order; fragments, directives and repeated keys are not planned. */
function fieldsOf(selectionSet: SelectionSetNode): Array<[string, FieldNode]> {
  const fields = new Map<string, FieldNode>();
  for (const selection of selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || selection.directives?.length) throw new NotPlannable();
    const key = selection.alias?.value ?? selection.name.value;
    if (fields.has(key)) throw new NotPlannable();
    fields.set(key, selection);
  }
  return [...fields];
}

function subselection(node: FieldNode): SelectionSetNode {
  if (!node.selectionSet) throw new NotPlannable();
  return node.selectionSet;
}

function objectType(schema: GraphQLSchema, name: string): GraphQLObjectType {
  return schema.getType(name) as GraphQLObjectType;
}

/** An object with the given response keys, built in their order (graphql-js' order). */
function objectOf(entries: Array<[string, Build]>): Build {
  return ((source: never) => {
    const result: Record<string, unknown> = {};
    for (const [key, build] of entries) result[key] = build(source);
    return result;
  }) as Build;
}

/** A leaf, serialized by its schema type as graphql-js would; null where the schema forbids it is not answered here. */
function leafOf(type: GraphQLObjectType, name: string, value: (source: never) => unknown): Build {
  const field = type.getFields()[name];
  const leafType = field && getNamedType(field.type);
  if (!field || !leafType || !isLeafType(leafType) || field.args.length > 0) throw new NotPlannable();
  const required = isNonNullType(field.type);
  return ((source: never) => {
    const raw = value(source);
    if (raw === null || raw === undefined) {
      if (required) throw new Error(`${type.name}.${name} is null`);
      return null;
    }
    return leafType.serialize(raw);
  }) as Build;
}

/** Fields of a plain leaf-only object (PageInfo, TaskEdge.cursor), read by property name. */
function propertyOf(type: GraphQLObjectType, node: FieldNode, name = node.name.value): Build {
  if (node.selectionSet) throw new NotPlannable();
  return leafOf(type, name, (source: Record<string, unknown>) => source[name]);
}

/**
 * The columns a document's task fields need, gathered across every place it selects tasks (two
 * aliased `tags` fields, say), so that one statement reads them all.
 */
class TaskColumns {
  private readonly columns = new Set<string>();
  private tagColumns: Set<string> | null = null;

  add(column: string | undefined) {
    if (column) this.columns.add(column);
  }

  addTag(column: string | undefined) {
    this.tagColumns ??= new Set();
    if (column) this.tagColumns.add(column);
  }

  /** The selection in plugin-prisma's shape, as Task's and Tag's select modes would ask for it. */
  toSelect(): Record<string, unknown> {
    const select: Record<string, unknown> = { ...TASK_ALWAYS };
    for (const column of this.columns) select[column] = true;
    if (this.tagColumns) {
      const tag: Record<string, unknown> = { ...TAG_ALWAYS };
      for (const column of this.tagColumns) tag[column] = true;
      select.taskTags = { select: { tag: { select: tag } }, orderBy: { tag: { name: 'asc' } } };
    }
    return select;
  }
}

function taskPlan(schema: GraphQLSchema, selectionSet: SelectionSetNode, columns: TaskColumns): Build {
  const type = objectType(schema, 'Task');
  const entries = fieldsOf(selectionSet).map(([key, node]): [string, Build] => {
    const name = node.name.value;
    if (name === '__typename') return [key, () => type.name];
    if (name === 'tags') {
      const tag = tagPlan(schema, subselection(node), columns);
      return [key, ((task: { taskTags: Array<{ tag: never }> }) => task.taskTags.map((link) => tag(link.tag))) as Build];
    }
    const field = TASK_FIELDS[name];
    if (!field || node.selectionSet) throw new NotPlannable();
    columns.add(field.column);
    return [key, leafOf(type, name, field.value as (source: never) => unknown)];
  });
  return objectOf(entries);
}

function tagPlan(schema: GraphQLSchema, selectionSet: SelectionSetNode, columns: TaskColumns): Build {
  const type = objectType(schema, 'Tag');
  columns.addTag(undefined);
  const entries = fieldsOf(selectionSet).map(([key, node]): [string, Build] => {
    const name = node.name.value;
    if (name === '__typename') return [key, () => type.name];
    const field = TAG_FIELDS[name];
    if (!field || node.selectionSet) throw new NotPlannable();
    columns.addTag(field.column);
    return [key, leafOf(type, name, field.value as (source: never) => unknown)];
  });
  return objectOf(entries);
}

/** A TaskConnection from plugin-prisma's connection object ({ edges: [{ cursor, node }], pageInfo }). */
function connectionPlan(schema: GraphQLSchema, selectionSet: SelectionSetNode, columns: TaskColumns): Build {
  const connectionType = objectType(schema, 'TaskConnection');
  const edgeType = objectType(schema, 'TaskEdge');
  const pageInfoType = objectType(schema, 'PageInfo');
  const entries = fieldsOf(selectionSet).map(([key, node]): [string, Build] => {
    const name = node.name.value;
    if (name === '__typename') return [key, () => connectionType.name];
    if (name === 'pageInfo') {
      const pageInfo = objectOf(
        fieldsOf(subselection(node)).map(([infoKey, infoNode]): [string, Build] =>
          infoNode.name.value === '__typename' ? [infoKey, () => pageInfoType.name] : [infoKey, propertyOf(pageInfoType, infoNode)],
        ),
      );
      return [key, ((connection: { pageInfo: never }) => pageInfo(connection.pageInfo)) as Build];
    }
    // totalCount (a second statement) and anything else: graphql-js.
    if (name !== 'edges') throw new NotPlannable();
    const edge = objectOf(
      fieldsOf(subselection(node)).map(([edgeKey, edgeNode]): [string, Build] => {
        const edgeField = edgeNode.name.value;
        if (edgeField === '__typename') return [edgeKey, () => edgeType.name];
        if (edgeField === 'cursor') return [edgeKey, propertyOf(edgeType, edgeNode)];
        if (edgeField !== 'node') throw new NotPlannable();
        const task = taskPlan(schema, subselection(edgeNode), columns);
        return [edgeKey, ((item: { node: never }) => task(item.node)) as Build];
      }),
    );
    return [key, ((connection: { edges: never[] }) => connection.edges.map((item) => edge(item))) as Build];
  });
  return objectOf(entries);
}
