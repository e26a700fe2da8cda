import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTaskDocument, DeleteAccountDocument, MeDocument, SignInDocument, SignUpDocument, UpdateMeDocument } from '../generated/graphql.js';
import { createTestApp, errorCodes, TEST_JWT_SECRET, type TestApp } from '../support/app.js';

// An identity provider on loopback: a JWKS endpoint with one RSA key.
let jwksServer: Server;
let jwksUrl: string;
let providerKey: CryptoKey;
let providerPublicJwk: JWK;
const PROVIDER_ISSUER = 'https://id.example.test/';
const PROVIDER_AUDIENCE = 'tasks-api-clients';

let app: TestApp;
const secret = new TextEncoder().encode(TEST_JWT_SECRET);

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  providerKey = privateKey;
  providerPublicJwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  jwksServer = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [providerPublicJwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  app = await createTestApp({ env: { JWT_JWKS_URL: jwksUrl, JWT_JWKS_ISSUER: PROVIDER_ISSUER, JWT_JWKS_AUDIENCE: PROVIDER_AUDIENCE } });
});
afterAll(async () => {
  await app?.close();
  jwksServer?.close();
});

const localToken = (claims: { sub?: string; iss?: string; aud?: string; exp?: number | string }, key: Uint8Array = secret) => {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  if (claims.sub) jwt.setSubject(claims.sub);
  jwt.setIssuer(claims.iss ?? 'tasks-api').setAudience(claims.aud ?? 'tasks-api').setExpirationTime(claims.exp ?? '1h');
  return jwt.sign(key);
};
const providerToken = (claims: Record<string, unknown>, overrides: { iss?: string; aud?: string } = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
    .setIssuer(overrides.iss ?? PROVIDER_ISSUER)
    .setAudience(overrides.aud ?? PROVIDER_AUDIENCE)
    .setSubject('provider-user-42')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(providerKey);
const userIdOf = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1]!;

describe('accounts', () => {
  it('signs up with a normalised email, hashes the password with argon2id, and signs in', async () => {
    const email = `  Mixed.Case+${Date.now()}@Example.COM `;
    const up = await app.graphql(SignUpDocument, { input: { email, password: 'long enough password', name: 'Ada', timeZone: 'europe/berlin' } });
    expect(up.errors).toBeUndefined();
    expect(up.data!.signUp.user).toMatchObject({ email: email.trim().toLowerCase(), name: 'Ada', timeZone: 'Europe/Berlin' });
    const row = await app.pool.query('SELECT password_hash FROM users WHERE email = $1', [email.trim().toLowerCase()]);
    expect(row.rows[0].password_hash).toMatch(/^\$argon2id\$/);

    const signIn = await app.graphql(SignInDocument, { input: { email: email.toUpperCase(), password: 'long enough password' } });
    expect(signIn.data!.signIn.user.id).toBe(up.data!.signUp.user.id);
    const me = await app.graphql(MeDocument, {}, { token: signIn.data!.signIn.token });
    expect(me.data!.me.email).toBe(email.trim().toLowerCase());
  });

  it('refuses a duplicate email (CONFLICT), a short password and a bad email or zone (BAD_USER_INPUT)', async () => {
    const { email } = await app.signUp('dup');
    expect(errorCodes(await app.graphql(SignUpDocument, { input: { email: email.toUpperCase(), password: 'another password' } }))).toEqual(['CONFLICT']);
    const bad = await app.graphql(SignUpDocument, { input: { email: 'not-an-email', password: 'short', timeZone: 'Mars/Olympus' } });
    expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);
    expect((bad.errors![0]!.extensions!.fields as { path: string }[]).map((field) => field.path).sort()).toEqual([
      'input.email',
      'input.password',
      'input.timeZone',
    ]);
  });

  it('answers an unknown email and a wrong password identically', async () => {
    const { email } = await app.signUp('secretive');
    const wrong = await app.graphql(SignInDocument, { input: { email, password: 'not the password' } });
    const unknown = await app.graphql(SignInDocument, { input: { email: `nobody-${Date.now()}@example.com`, password: 'not the password' } });
    expect(errorCodes(wrong)).toEqual(['UNAUTHENTICATED']);
    expect(wrong.errors).toEqual(unknown.errors);
  });

  it('updates name and time zone, validating the zone', async () => {
    const { token } = await app.signUp('mover');
    const moved = await app.graphql(UpdateMeDocument, { input: { name: ' Grace ', timeZone: 'America/New_York' } }, { token });
    expect(moved.data!.updateMe).toMatchObject({ name: 'Grace', timeZone: 'America/New_York' });
    expect(errorCodes(await app.graphql(UpdateMeDocument, { input: { timeZone: 'Nowhere/Land' } }, { token }))).toEqual(['BAD_USER_INPUT']);
    expect((await app.graphql(MeDocument, {}, { token })).data!.me.timeZone).toBe('America/New_York');
  });

  it('deletes an account only with the right password, cascading to its tasks; its token then stops working', async () => {
    const user = await app.signUp('leaver');
    await app.graphql(CreateTaskDocument, { input: { title: 'left behind' } }, { token: user.token });
    const wrong = await app.graphql(DeleteAccountDocument, { input: { password: 'wrong password' } }, { token: user.token });
    expect(errorCodes(wrong)).toEqual(['UNAUTHENTICATED']);
    const missing = await app.graphql(DeleteAccountDocument, { input: {} }, { token: user.token });
    expect(errorCodes(missing)).toEqual(['BAD_USER_INPUT']);
    const deleted = await app.graphql(DeleteAccountDocument, { input: { password: user.password } }, { token: user.token });
    expect(deleted.data!.deleteAccount).toBe(user.userId);
    const rows = await app.pool.query('SELECT count(*)::int AS n FROM tasks WHERE user_id = $1', [userIdOf(user.userId)]);
    expect(rows.rows[0].n).toBe(0);
    expect(errorCodes(await app.graphql(MeDocument, {}, { token: user.token }))).toEqual(['UNAUTHENTICATED']);
    expect(errorCodes(await app.graphql(CreateTaskDocument, { input: { title: 'ghost' } }, { token: user.token }))).toContain('UNAUTHENTICATED');
  });
});

describe('tokens', () => {
  let userId: string;
  beforeAll(async () => {
    userId = userIdOf((await app.signUp('holder')).userId);
  });

  it('accepts a well-formed token issued by signIn', async () => {
    expect((await app.graphql(MeDocument, {}, { token: await localToken({ sub: userId }) })).data!.me.id).toBeTruthy();
  });

  it.each([
    ['expired', async () => localToken({ sub: userId, exp: Math.floor(Date.now() / 1000) - 60 })],
    ['forged (other secret)', async () => localToken({ sub: userId }, new TextEncoder().encode('an attacker secret that is long enough!!'))],
    ['wrong issuer', async () => localToken({ sub: userId, iss: 'someone-else' })],
    ['wrong audience', async () => localToken({ sub: userId, aud: 'another-app' })],
    ['without subject', async () => localToken({})],
    ['subject not a user id', async () => localToken({ sub: 'admin' })],
    [
      'alg none',
      async () =>
        `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(
          JSON.stringify({ sub: userId, iss: 'tasks-api', aud: 'tasks-api', exp: 9_999_999_999 }),
        ).toString('base64url')}.`,
    ],
    [
      // Algorithm confusion: HS256 keyed with the provider's public key, hoping it is used as a secret.
      'HS256 signed with the identity provider public key',
      async () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256', kid: 'test-key' })
          .setSubject(userId)
          .setIssuer(PROVIDER_ISSUER)
          .setAudience(PROVIDER_AUDIENCE)
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode(JSON.stringify(providerPublicJwk))),
    ],
    ['provider token with the wrong issuer', async () => providerToken({}, { iss: 'https://evil.example/' })],
    ['provider token with the wrong audience', async () => providerToken({}, { aud: 'someone-else' })],
    ['garbage', async () => 'not.a.jwt'],
  ])('refuses a token that is %s as UNAUTHENTICATED, never as anonymous', async (_, make) => {
    const token = await make();
    const result = await app.graphql(MeDocument, {}, { token });
    expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
    // Even the fields an anonymous caller may use are refused: a bad token is not "no token".
    const signIn = await app.graphql(SignInDocument, { input: { email: 'x@example.com', password: 'whatever' } }, { token });
    expect(errorCodes(signIn)).toEqual(['UNAUTHENTICATED']);
    expect(signIn.errors![0]!.message).toMatch(/Invalid token|Malformed/);
  });

  it('refuses a malformed Authorization header', async () => {
    const result = await app.graphql(MeDocument, {}, { headers: { authorization: 'Token abc' } });
    expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
  });

  it("provisions an identity provider's subject as a user on first sight, once", async () => {
    const token = await providerToken({ email: 'Federated@Example.com', name: 'Fed' });
    const first = await app.graphql(MeDocument, {}, { token });
    expect(first.errors).toBeUndefined();
    expect(first.data!.me).toMatchObject({ email: 'federated@example.com', name: 'Fed' });
    const second = await app.graphql(MeDocument, {}, { token: await providerToken({ email: 'federated@example.com' }) });
    expect(second.data!.me.id).toBe(first.data!.me.id);
    const rows = await app.pool.query(`SELECT password_hash, external_id FROM users WHERE external_id = $1`, [`${PROVIDER_ISSUER}|provider-user-42`]);
    expect(rows.rows).toEqual([{ password_hash: null, external_id: `${PROVIDER_ISSUER}|provider-user-42` }]);
  });
});

describe('sign-in rate limit', () => {
  it('answers RATE_LIMITED with retryAfter once one email is tried too often, for any client', async () => {
    const limited = await createTestApp({ env: { AUTH_RATE_LIMIT: '3', AUTH_RATE_WINDOW_SECONDS: '60' } });
    try {
      const attempt = () => limited.graphql(SignInDocument, { input: { email: 'target@example.com', password: 'guess guess' } });
      for (let i = 0; i < 3; i++) expect(errorCodes(await attempt())).toEqual(['UNAUTHENTICATED']);
      const refused = await attempt();
      expect(errorCodes(refused)).toEqual(['RATE_LIMITED']);
      expect(refused.errors![0]!.extensions!.retryAfter).toBeGreaterThan(0);
      expect(refused.errors![0]!.extensions!.retryAfter).toBeLessThanOrEqual(60);
      const raw = await limited.post({ query: 'mutation { signIn(input: { email: "target@example.com", password: "guess guess" }) { token } }' });
      expect(Number(raw.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});
