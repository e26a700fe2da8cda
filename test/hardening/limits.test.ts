import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTagDocument, CreateTaskDocument } from '../generated/graphql.js';
import { createTestApp, type TestApp } from '../support/app.js';

// The abuse limits must refuse hostile documents yet accept everything a real client sends.

let app: TestApp;
let token: string;
beforeAll(async () => {
  app = await createTestApp();
  ({ token } = await app.signUp('limits'));
  const tag = (await app.graphql(CreateTagDocument, { input: { name: 'work' } }, { token })).data!.createTag;
  for (let i = 0; i < 3; i++) await app.graphql(CreateTaskDocument, { input: { title: `t${i}`, tagIds: [tag.id] } }, { token });
});
afterAll(() => app?.close());

async function send(query: string, variables: object = {}) {
  const response = await app.post({ query, variables }, { authorization: `Bearer ${token}` });
  const body = (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
  return { status: response.status, ...body };
}

// What Apollo Client sends: fragments, __typename on every selection, Relay pagination, nested tags
// with their counts and a second page of each tag's tasks.
const APOLLO_DOCUMENT = /* GraphQL */ `
  fragment TagChip on Tag { __typename id name color taskCount openCount: taskCount(completed: false) }
  fragment TaskRow on Task {
    __typename id title description completed completedAt priority dueAt remindAt overdue recurrence version createdAt updatedAt
    tags { ...TagChip tasks(first: 5) { __typename totalCount edges { __typename cursor node { __typename id title tags { ...TagChip } } } pageInfo { __typename hasNextPage endCursor } } }
  }
  query Dashboard($after: String, $filter: TaskFilter) {
    me { __typename id email name timeZone tags { ...TagChip } }
    open: tasks(first: 50, after: $after, filter: $filter, orderBy: [{ field: DUE_AT, direction: ASC }, { field: PRIORITY, direction: DESC }]) {
      __typename totalCount edges { __typename cursor node { ...TaskRow } } pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
    }
    overdue: tasks(first: 10, filter: { overdue: true }) { __typename totalCount edges { __typename node { ...TaskRow } } }
    tags { ...TagChip }
  }
`;

describe('abuse limits', () => {
  it('accept a realistic Apollo/urql dashboard document', async () => {
    const result = await send(APOLLO_DOCUMENT, { filter: { completed: false } });
    expect(result.errors).toBeUndefined();
    expect(result.status).toBe(200);
  });

  it('accept batches of up to 10 operations', async () => {
    const batch = Array.from({ length: 10 }, () => ({ query: '{ me { id } }' }));
    const response = await app.post(batch, { authorization: `Bearer ${token}` });
    expect(response.status).toBe(200);
    expect(((await response.json()) as unknown[]).length).toBe(10);
  });

  it.each([
    ['too deep', `{ me { ${'tags { tasks { edges { node { '.repeat(5)} id ${'} } } } '.repeat(5)} } }`, /depth/i],
    ['too many aliases', `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: me { id }`).join(' ')} }`, /alias/i],
    ['too many directives', `{ me { id ${'@include(if: true) '.repeat(25)} } }`, /directive/i],
    ['too many tokens', `{ me { ${'id '.repeat(2_100)} } }`, /token/i],
    ['too costly', '{ tasks(first: 100) { edges { node { tags { tasks(first: 100) { edges { node { tags { tasks(first: 50) { edges { node { id } } } } } } } } } } } }', /complexity/i],
  ])('refuse a document that is %s with a clear GraphQL error, not a 500', async (_, query, message) => {
    const result = await send(query);
    expect(result.status).toBeLessThan(500);
    expect(result.data ?? null).toBeNull();
    expect(result.errors!.map((error) => error.message).join(' ')).toMatch(message);
  });

  it('refuse a batch of 11 operations', async () => {
    const response = await app.post(
      Array.from({ length: 11 }, () => ({ query: '{ me { id } }' })),
      { authorization: `Bearer ${token}` },
    );
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it('refuse a body over 1 MB before reading it', async () => {
    const body = JSON.stringify({ query: '{ me { id } }', variables: { pad: 'x'.repeat(1_100_000) } });
    const response = await app.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), authorization: `Bearer ${token}` },
      body,
    });
    expect(response.status).toBe(413);
  });

  it('refuse a streamed body over 1 MB once 1 MB has arrived, and close the connection it leaves unread', async () => {
    const bytes = Buffer.from(JSON.stringify({ query: '{ me { id } }', variables: { pad: 'x'.repeat(1_100_000) } }));
    let offset = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.subarray(offset, (offset += 65_536)));
      },
    });
    const init = { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body, duplex: 'half' };
    const refused = await app.fetch('/graphql', init as RequestInit);
    expect(refused.status).toBe(413);
    expect(refused.headers.get('connection')).toBe('close');
    await refused.text();
    // Sent on the same keep-alive connection, had it been offered for another request.
    const next = await send('{ me { id } }');
    expect(next.errors).toBeUndefined();
  });

  it('refuse a mutation over GET and a cross-site GET without a preflight header', async () => {
    const mutation = await app.fetch(`/graphql?query=${encodeURIComponent('mutation { deleteTag(id: "x") }')}`, {
      headers: { authorization: `Bearer ${token}`, 'x-graphql-csrf': '1' },
    });
    expect(mutation.status).toBe(405);
    const simple = await app.fetch(`/graphql?query=${encodeURIComponent('{ me { id } }')}`, { headers: { authorization: `Bearer ${token}` } });
    expect(simple.status).toBe(403);
  });
});

describe('exposure settings', () => {
  it('turns introspection and GraphiQL off (the production default) and allows only configured CORS origins', async () => {
    const locked = await createTestApp({ env: { INTROSPECTION: 'off', GRAPHIQL: 'off', CORS_ORIGINS: 'https://app.example.com' } });
    try {
      const introspection = await locked.post({ query: '{ __schema { types { name } } }' });
      const body = (await introspection.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
      expect(body.data ?? null).toBeNull();
      expect(body.errors![0]!.message).toMatch(/introspection/i);

      const page = await locked.fetch('/graphql', { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toMatch(/graphiql/i);

      const preflight = (origin: string) =>
        locked.fetch('/graphql', {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
        });
      expect((await preflight('https://app.example.com')).headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    } finally {
      await locked.close();
    }
  });

  it('serves GraphiQL and introspection by default outside production', async () => {
    const introspection = await app.post({ query: '{ __schema { queryType { name } } }' });
    expect(((await introspection.json()) as { data: { __schema: { queryType: { name: string } } } }).data.__schema.queryType.name).toBe('Query');
    const page = await app.fetch('/graphql', { headers: { accept: 'text/html' } });
    expect(await page.text()).toMatch(/graphiql/i);
  });
});
