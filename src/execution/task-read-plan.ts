import {
  getNamedType,
  isLeafType,
  isNonNullType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLLeafType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { TagJsonField, TaskJsonField, TaskJsonRow } from '../tasks/task-sql.js';

// The task reads clients send most (Query.tasks and Query.task over task fields and tags), turned
// once per document into a plan: the fields PostgreSQL writes as each task's JSON
// (src/tasks/task-sql.ts, TaskJsonField) and a function that writes the rest of the response text
// around them (connection, edges, cursors, pageInfo). graphql-js, Pothos' resolver wrappers and
// plugin-prisma's selection bookkeeping cost ~700 us of CPU for a page of 20 tasks, parsing the rows
// and serializing the result ~150 us more (npm run bench:layers). A document the plan does not know
// in full (fragments, directives, other fields, mutations) gets no plan, and graphql-js executes it
// as always.

/** Writes one JSON value of the response from its source (a connection, an edge, a row). */
type Write = (source: never) => string;

type WithoutKey<Field> = Field extends unknown ? Omit<Field, 'key'> : never;

/** Task fields PostgreSQL can write, by GraphQL field name. */
const TASK_FIELDS: Record<string, WithoutKey<TaskJsonField>> = {
  id: { kind: 'globalId' },
  title: { kind: 'column', column: 'title' },
  description: { kind: 'column', column: 'description' },
  completed: { kind: 'column', column: 'completed' },
  completedAt: { kind: 'timestamp', column: 'completedAt' },
  priority: { kind: 'column', column: 'priority' },
  dueAt: { kind: 'timestamp', column: 'dueAt' },
  remindAt: { kind: 'timestamp', column: 'remindAt' },
  reminderSentAt: { kind: 'timestamp', column: 'reminderSentAt' },
  recurrence: { kind: 'column', column: 'recurrence' },
  seriesId: { kind: 'column', column: 'seriesId' },
  version: { kind: 'column', column: 'version' },
  createdAt: { kind: 'timestamp', column: 'createdAt' },
  updatedAt: { kind: 'timestamp', column: 'updatedAt' },
  overdue: { kind: 'overdue' },
};

const TAG_FIELDS: Record<string, WithoutKey<TagJsonField>> = {
  id: { kind: 'globalId' },
  name: { kind: 'column', column: 'name' },
  color: { kind: 'column', column: 'color' },
  createdAt: { kind: 'timestamp', column: 'createdAt' },
};

export type RootPlan =
  | { key: string; kind: 'typename'; write: () => string }
  | {
      key: string;
      kind: 'tasks' | 'task';
      node: FieldNode;
      /** Query's field, for its arguments. */
      field: GraphQLField<unknown, unknown>;
      /** What PostgreSQL writes for each task. */
      fields: TaskJsonField[];
      /** tasks: whether totalCount is selected (a second statement). */
      counts?: boolean;
      /** tasks: from plugin-prisma's connection object over TaskJsonRows; task: from a TaskJsonRow or null. */
      write: Write;
    };

export interface TaskReadPlan {
  operation: OperationDefinitionNode;
  roots: RootPlan[];
}

/** Thrown while planning: the document asks for something the plan does not write. */
class NotPlannable extends Error {}

/** The schema, and the document's fragments by name. */
interface Scope {
  schema: GraphQLSchema;
  fragments: ReadonlyMap<string, FragmentDefinitionNode>;
}

/** The plan for a document, or null when graphql-js should execute it. */
export function planTaskRead(schema: GraphQLSchema, document: DocumentNode): TaskReadPlan | null {
  // One operation (operationName cannot pick another) and its fragments.
  const operations = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const [operation] = operations;
  if (operations.length !== 1 || fragments.size + 1 !== document.definitions.length || !operation) return null;
  if (operation.operation !== 'query' || operation.directives?.length) return null;
  const scope: Scope = { schema, fragments };
  try {
    const query = schema.getQueryType()!;
    const roots = fieldsOf(scope, operation.selectionSet, query).map(([key, node]): RootPlan => {
      const name = node.name.value;
      const field = query.getFields()[name];
      if (name === '__typename') return { key, kind: 'typename', write: () => JSON.stringify(query.name) };
      if (name === 'tasks' && field) return { key, kind: 'tasks', node, field, ...connectionPlan(scope, subselection(node)) };
      if (name === 'task' && field) {
        const fields = taskFields(scope, subselection(node));
        return { key, kind: 'task', node, field, fields, write: ((row: TaskJsonRow | null) => (row ? row.json : 'null')) as Write };
      }
      throw new NotPlannable();
    });
    return { operation, roots };
  } catch (error) {
    if (error instanceof NotPlannable) return null;
    throw error;
  }
}

/**
 * The fields of a selection set of `type` by response key, in order, as graphql-js collects them:
 * fragments (named or inline) on `type` itself are spread in, and a key selected twice is one
 * field, its selections merged (validation has already made sure the two agree). Directives
 * (@include, @skip, @defer) and fragments on another type are not planned.
 */
function fieldsOf(scope: Scope, selectionSet: SelectionSetNode, type: GraphQLObjectType): Array<[string, FieldNode]> {
  const fields = new Map<string, FieldNode>();
  const collect = (selections: SelectionSetNode['selections']) => {
    for (const selection of selections) {
      if (selection.directives?.length) throw new NotPlannable();
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const seen = fields.get(key);
        if (!seen) fields.set(key, selection);
        else if (seen.selectionSet && selection.selectionSet) {
          fields.set(key, { ...seen, selectionSet: { ...seen.selectionSet, selections: [...seen.selectionSet.selections, ...selection.selectionSet.selections] } });
        }
        continue;
      }
      const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? scope.fragments.get(selection.name.value) : selection;
      if (!fragment || (fragment.typeCondition && fragment.typeCondition.name.value !== type.name)) throw new NotPlannable();
      collect(fragment.selectionSet.selections);
    }
  };
  collect(selectionSet.selections);
  return [...fields];
}

function subselection(node: FieldNode): SelectionSetNode {
  if (!node.selectionSet) throw new NotPlannable();
  return node.selectionSet;
}

function objectType(schema: GraphQLSchema, name: string): GraphQLObjectType {
  return schema.getType(name) as GraphQLObjectType;
}

/** A leaf field of `type`, checked against the schema: no arguments, no selection. */
function leafField(type: GraphQLObjectType, node: FieldNode): GraphQLField<unknown, unknown> {
  const field = type.getFields()[node.name.value];
  if (!field || !isLeafType(getNamedType(field.type)) || field.args.length > 0 || node.selectionSet || node.arguments?.length) throw new NotPlannable();
  return field;
}

/** What PostgreSQL writes for a task's selection (or, within it, a tag's). */
function jsonFields(scope: Scope, selectionSet: SelectionSetNode, typeName: 'Task' | 'Tag', table: Record<string, WithoutKey<TaskJsonField>>): TaskJsonField[] {
  const type = objectType(scope.schema, typeName);
  return fieldsOf(scope, selectionSet, type).map(([key, node]): TaskJsonField => {
    const name = node.name.value;
    if (name === '__typename') return { key, kind: 'constant', value: type.name };
    // Tag fields come from TAG_FIELDS, which holds no tags or overdue: they are TagJsonFields.
    if (name === 'tags' && typeName === 'Task') return { key, kind: 'tags', fields: jsonFields(scope, subselection(node), 'Tag', TAG_FIELDS) as TagJsonField[] };
    const field = table[name];
    if (!field) throw new NotPlannable();
    leafField(type, node);
    return { key, ...field };
  });
}

const taskFields = (scope: Scope, selectionSet: SelectionSetNode) => jsonFields(scope, selectionSet, 'Task', TASK_FIELDS);

/** An object with the given response keys, written in their order (graphql-js' order). */
function objectOf(entries: Array<[string, Write]>): Write {
  const prefixes = entries.map(([key], index) => `${index === 0 ? '' : ','}${JSON.stringify(key)}:`);
  return ((source: never) => {
    let text = '{';
    for (let index = 0; index < entries.length; index++) text += prefixes[index] + entries[index]![1](source);
    return `${text}}`;
  }) as Write;
}

/** A leaf read by property name (PageInfo's fields, an edge's cursor, totalCount), serialized by its schema type as graphql-js would. */
function propertyOf(type: GraphQLObjectType, node: FieldNode): Write {
  const field = leafField(type, node);
  const leafType = getNamedType(field.type) as GraphQLLeafType;
  const name = node.name.value;
  const required = isNonNullType(field.type);
  return ((source: Record<string, unknown>) => {
    const value = source[name];
    if (value === null || value === undefined) {
      if (required) throw new Error(`${type.name}.${name} is null`);
      return 'null';
    }
    return JSON.stringify(leafType.serialize(value));
  }) as Write;
}

const typenameOf = (type: GraphQLObjectType): Write => {
  const text = JSON.stringify(type.name);
  return () => text;
};

/** A TaskConnection from plugin-prisma's connection object ({ edges: [{ cursor, node }], pageInfo }) and its totalCount. */
function connectionPlan(scope: Scope, selectionSet: SelectionSetNode): { fields: TaskJsonField[]; counts: boolean; write: Write } {
  const connectionType = objectType(scope.schema, 'TaskConnection');
  const edgeType = objectType(scope.schema, 'TaskEdge');
  const pageInfoType = objectType(scope.schema, 'PageInfo');
  // One JSON text per task: a second, different `node` selection would need a second one.
  let fields: TaskJsonField[] | undefined;
  let counts = false;
  const entries = fieldsOf(scope, selectionSet, connectionType).map(([key, node]): [string, Write] => {
    const name = node.name.value;
    if (name === '__typename') return [key, typenameOf(connectionType)];
    if (name === 'pageInfo') {
      const pageInfo = objectOf(
        fieldsOf(scope, subselection(node), pageInfoType).map(([infoKey, infoNode]): [string, Write] => [
          infoKey,
          infoNode.name.value === '__typename' ? typenameOf(pageInfoType) : propertyOf(pageInfoType, infoNode),
        ]),
      );
      return [key, ((connection: { pageInfo: never }) => pageInfo(connection.pageInfo)) as Write];
    }
    if (name === 'totalCount') {
      counts = true;
      return [key, propertyOf(connectionType, node)];
    }
    if (name !== 'edges') throw new NotPlannable();
    const edge = objectOf(
      fieldsOf(scope, subselection(node), edgeType).map(([edgeKey, edgeNode]): [string, Write] => {
        const edgeField = edgeNode.name.value;
        if (edgeField === '__typename') return [edgeKey, typenameOf(edgeType)];
        if (edgeField === 'cursor') return [edgeKey, propertyOf(edgeType, edgeNode)];
        if (edgeField !== 'node' || fields) throw new NotPlannable();
        fields = taskFields(scope, subselection(edgeNode));
        return [edgeKey, ((item: { node: TaskJsonRow }) => item.node.json) as Write];
      }),
    );
    return [key, ((connection: { edges: never[] }) => `[${connection.edges.map((item) => edge(item)).join(',')}]`) as Write];
  });
  return { fields: fields ?? [], counts, write: objectOf(entries) };
}
