import {
  getNamedType,
  getNullableType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { readOf, tableOf, type ConnectionRead, type FieldRead, type ListRead, type ObjectRead, type ValueRead } from './declarations.js';
import type { Table } from './sources.js';

// A query document, planned once: every field it selects, with the declaration it is read by. A
// document is planned only when every field in it has a declaration (src/reads/declarations.ts) and
// no field or type has an authorization rule of its own beyond "a viewer is signed in"; directives,
// several operations, mutations and subscriptions are not planned either. Anything not planned is
// executed by graphql-js, whose answer is the reference for the planned one.

/** How a scalar's value is written into the response, as its GraphQL type serializes it. */
export type ScalarFormat = 'plain' | 'timestamp';

export type FieldPlan =
  | { kind: 'typename'; key: string; typename: string }
  | { kind: 'id'; key: string; typename: string }
  | { kind: 'value'; key: string; read: ValueRead; format: ScalarFormat; input?: number }
  | { kind: 'list'; key: string; read: ListRead; object: ObjectPlan; input?: number }
  | { kind: 'object'; key: string; read: ObjectRead; object: ObjectPlan; nonNull: boolean; input?: number }
  | { kind: 'connection'; key: string; read: ConnectionRead; connection: ConnectionPlan; input: number };

export interface ObjectPlan {
  typename: string;
  table: Table;
  fields: FieldPlan[];
}

export type PageInfoField = { key: string; kind: 'typename'; typename: string } | { key: string; kind: 'hasNextPage' | 'hasPreviousPage' | 'startCursor' | 'endCursor' };
export type EdgeField = { key: string; kind: 'typename'; typename: string } | { key: string; kind: 'cursor' } | { key: string; kind: 'node'; object: ObjectPlan };

export type ConnectionEntry =
  | { key: string; kind: 'typename'; typename: string }
  | { key: string; kind: 'totalCount' }
  | { key: string; kind: 'pageInfo'; fields: PageInfoField[] }
  | { key: string; kind: 'edges'; fields: EdgeField[] };

export interface ConnectionPlan {
  typename: string;
  node: { typename: string; table: Table };
  entries: ConnectionEntry[];
}

/** A field whose arguments the statement takes: its inputs are computed per request, in this order. */
export interface ArgumentField {
  field: GraphQLField<unknown, unknown>;
  node: FieldNode;
  read: FieldRead;
}

export interface DocumentPlan {
  operation: OperationDefinitionNode;
  /** The root fields; a `typename` root is Query's __typename. */
  roots: FieldPlan[];
  /** Each root's field in the document, for errors located at it. */
  rootNodes: FieldNode[];
  /** Root fields that may not be null: a null one is graphql-js' to answer (with its error). */
  nonNullRoots: ReadonlySet<string>;
  argumentFields: ArgumentField[];
}

class NotPlannable extends Error {}

interface Planning {
  schema: GraphQLSchema;
  fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  argumentFields: ArgumentField[];
}

/** The plan for a document, or null when graphql-js should execute it. */
export function planDocument(schema: GraphQLSchema, document: DocumentNode): DocumentPlan | null {
  const operations = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const [operation] = operations;
  if (operations.length !== 1 || fragments.size + 1 !== document.definitions.length || !operation) return null;
  if (operation.operation !== 'query' || operation.directives?.length) return null;
  const planning: Planning = { schema, fragments, argumentFields: [] };
  try {
    const query = schema.getQueryType()!;
    if (!viewerOnly(query.extensions)) return null;
    const nonNullRoots = new Set<string>();
    const rootFields = fieldsOf(planning, operation.selectionSet, query);
    const roots = rootFields.map(([key, node]) => {
      const field = query.getFields()[node.name.value];
      if (field && isNonNullType(field.type)) nonNullRoots.add(key);
      return planField(planning, query, key, node);
    });
    return { operation, roots, rootNodes: rootFields.map(([, node]) => node), nonNullRoots, argumentFields: planning.argumentFields };
  } catch (error) {
    if (error instanceof NotPlannable) return null;
    throw error;
  }
}

/** Pothos options of a type or field: an authorization rule other than "signed in" is graphql-js' to enforce. */
function viewerOnly(extensions: Readonly<Record<string, unknown>> | null | undefined): boolean {
  const options = (extensions?.pothosOptions ?? {}) as { authScopes?: unknown; grantScopes?: unknown };
  if (options.grantScopes !== undefined) return false;
  const scopes = options.authScopes;
  if (scopes === undefined) return true;
  return typeof scopes === 'object' && scopes !== null && Object.keys(scopes).length === 1 && (scopes as { loggedIn?: unknown }).loggedIn === true;
}

/**
 * The fields of a selection set on `type` by response key, in order, as graphql-js collects them:
 * fragments on the type (or an interface it implements) are spread in, and a key selected twice is
 * one field with the selections merged (validation has made sure the two agree).
 */
function fieldsOf(planning: Planning, selectionSet: SelectionSetNode, type: GraphQLObjectType): Array<[string, FieldNode]> {
  const fields = new Map<string, FieldNode>();
  const applies = (typeName: string | undefined) => !typeName || typeName === type.name || type.getInterfaces().some((face) => face.name === typeName);
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
      const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? planning.fragments.get(selection.name.value) : selection;
      if (!fragment || !applies(fragment.typeCondition?.name.value)) throw new NotPlannable();
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

function objectTypeOf(type: unknown): GraphQLObjectType {
  if (!isObjectType(type)) throw new NotPlannable();
  return type;
}

function objectPlan(planning: Planning, type: GraphQLObjectType, selectionSet: SelectionSetNode): ObjectPlan {
  const table = tableOf(type.extensions);
  if (!table || !viewerOnly(type.extensions)) throw new NotPlannable();
  return { typename: type.name, table, fields: fieldsOf(planning, selectionSet, type).map(([key, node]) => planField(planning, type, key, node)) };
}

function scalarFormat(field: GraphQLField<unknown, unknown>): ScalarFormat {
  const type = getNullableType(field.type);
  if (isEnumType(type)) return 'plain';
  if (!isScalarType(type)) throw new NotPlannable();
  if (type.name === 'DateTime') return 'timestamp';
  if (['String', 'Int', 'Boolean', 'ID'].includes(type.name)) return 'plain';
  throw new NotPlannable();
}

function withArguments(planning: Planning, field: GraphQLField<unknown, unknown>, node: FieldNode, read: FieldRead, takesInput: boolean): { input?: number } {
  if (field.args.length === 0) return {};
  if (!takesInput) throw new NotPlannable();
  planning.argumentFields.push({ field, node, read });
  return { input: planning.argumentFields.length - 1 };
}

function planField(planning: Planning, parent: GraphQLObjectType, key: string, node: FieldNode): FieldPlan {
  const name = node.name.value;
  if (name === '__typename') return { kind: 'typename', key, typename: parent.name };
  const field = parent.getFields()[name];
  if (!field || !viewerOnly(field.extensions)) throw new NotPlannable();
  if (name === 'id' && tableOf(parent.extensions) && isScalarType(getNamedType(field.type)) && !node.selectionSet) return { kind: 'id', key, typename: parent.name };
  const read = readOf(field.extensions);
  if (!read) throw new NotPlannable();
  switch (read.kind) {
    case 'value':
      if (node.selectionSet) throw new NotPlannable();
      return { kind: 'value', key, read, format: scalarFormat(field), ...withArguments(planning, field, node, read, !!read.input) };
    case 'list': {
      const itemType = getNullableType(field.type);
      if (!isListType(itemType)) throw new NotPlannable();
      const object = objectPlan(planning, objectTypeOf(getNamedType(itemType)), subselection(node));
      return { kind: 'list', key, read, object, ...withArguments(planning, field, node, read, !!read.input) };
    }
    case 'object': {
      const object = objectPlan(planning, objectTypeOf(getNullableType(field.type)), subselection(node));
      return { kind: 'object', key, read, object, nonNull: isNonNullType(field.type), ...withArguments(planning, field, node, read, !!read.input) };
    }
    case 'connection': {
      const connection = connectionPlan(planning, objectTypeOf(getNullableType(field.type)), subselection(node));
      planning.argumentFields.push({ field, node, read });
      return { kind: 'connection', key, read, connection, input: planning.argumentFields.length - 1 };
    }
  }
}

/** A leaf of a connection's own types (cursor, pageInfo flags, totalCount): no arguments, no selection. */
function connectionLeaf(type: GraphQLObjectType, node: FieldNode): string {
  const field = type.getFields()[node.name.value];
  if (!field || field.args.length > 0 || node.selectionSet || !viewerOnly(field.extensions)) throw new NotPlannable();
  return node.name.value;
}

function connectionPlan(planning: Planning, connectionType: GraphQLObjectType, selectionSet: SelectionSetNode): ConnectionPlan {
  const edgesField = connectionType.getFields().edges;
  const pageInfoField = connectionType.getFields().pageInfo;
  if (!edgesField || !pageInfoField) throw new NotPlannable();
  const edgeType = objectTypeOf(getNamedType(edgesField.type));
  const pageInfoType = objectTypeOf(getNamedType(pageInfoField.type));
  const nodeField = edgeType.getFields().node;
  if (!nodeField) throw new NotPlannable();
  const nodeType = objectTypeOf(getNamedType(nodeField.type));
  const table = tableOf(nodeType.extensions);
  if (!table) throw new NotPlannable();
  const entries = fieldsOf(planning, selectionSet, connectionType).map(([key, node]): ConnectionEntry => {
    switch (node.name.value) {
      case '__typename':
        return { key, kind: 'typename', typename: connectionType.name };
      case 'totalCount':
        connectionLeaf(connectionType, node);
        return { key, kind: 'totalCount' };
      case 'pageInfo':
        return {
          key,
          kind: 'pageInfo',
          fields: fieldsOf(planning, subselection(node), pageInfoType).map(([infoKey, infoNode]): PageInfoField => {
            const name = infoNode.name.value;
            if (name === '__typename') return { key: infoKey, kind: 'typename', typename: pageInfoType.name };
            connectionLeaf(pageInfoType, infoNode);
            if (name === 'hasNextPage' || name === 'hasPreviousPage' || name === 'startCursor' || name === 'endCursor') return { key: infoKey, kind: name };
            throw new NotPlannable();
          }),
        };
      case 'edges':
        return {
          key,
          kind: 'edges',
          fields: fieldsOf(planning, subselection(node), edgeType).map(([edgeKey, edgeNode]): EdgeField => {
            const name = edgeNode.name.value;
            if (name === '__typename') return { key: edgeKey, kind: 'typename', typename: edgeType.name };
            if (name === 'cursor') {
              connectionLeaf(edgeType, edgeNode);
              return { key: edgeKey, kind: 'cursor' };
            }
            if (name === 'node' && viewerOnly(nodeField.extensions)) return { key: edgeKey, kind: 'node', object: objectPlan(planning, nodeType, subselection(edgeNode)) };
            throw new NotPlannable();
          }),
        };
      default:
        throw new NotPlannable();
    }
  });
  return { typename: connectionType.name, node: { typename: nodeType.name, table }, entries };
}
