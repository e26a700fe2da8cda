import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { Config } from '../config.js';

export type VerifiedToken =
  | { kind: 'local'; userId: string }
  | { kind: 'external'; externalId: string; email?: string; name?: string };

export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Only asymmetric algorithms from the identity provider: an HS256 token signed with its public key
// (algorithm confusion) can never verify against the JWKS.
const EXTERNAL_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface Tokens {
  issue(userId: string): Promise<string>;
  verify(token: string): Promise<VerifiedToken>;
}

// A verified token's result is remembered until it expires: clients send the same token on every
// request, and the HMAC check is a measurable share of a small request's CPU.
const MAX_REMEMBERED_TOKENS = 10_000;

export function createTokens(config: Config['jwt']): Tokens {
  const verified = new Map<string, { result: VerifiedToken; expiresAt: number }>();
  const jwks = config.jwks && { keys: createRemoteJWKSet(new URL(config.jwks.url)), ...config.jwks };

  async function verifyExternal(token: string): Promise<VerifiedToken> {
    if (!jwks) throw new InvalidTokenError('token algorithm not accepted');
    const { payload } = await jwtVerify(token, jwks.keys, { issuer: jwks.issuer, audience: jwks.audience, algorithms: EXTERNAL_ALGORITHMS });
    if (!payload.sub) throw new InvalidTokenError('token has no subject');
    return {
      kind: 'external',
      externalId: `${payload.iss}|${payload.sub}`,
      email: stringClaim(payload, 'email')?.toLowerCase(),
      name: stringClaim(payload, 'name'),
    };
  }

  return {
    issue(userId) {
      return new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(config.issuer)
        .setAudience(config.audience)
        .setIssuedAt()
        .setExpirationTime(`${config.ttlSeconds}s`)
        .sign(config.secret);
    },
    async verify(token) {
      const remembered = verified.get(token);
      if (remembered && remembered.expiresAt > Date.now()) return remembered.result;
      try {
        const { alg } = decodeProtectedHeader(token);
        if (alg !== 'HS256') return await verifyExternal(token);
        const { payload } = await jwtVerify(token, config.secret, { issuer: config.issuer, audience: config.audience, algorithms: ['HS256'] });
        if (!payload.sub || !UUID.test(payload.sub)) throw new InvalidTokenError('token subject is not a user id');
        const result: VerifiedToken = { kind: 'local', userId: payload.sub.toLowerCase() };
        if (payload.exp) {
          if (verified.size >= MAX_REMEMBERED_TOKENS) verified.clear();
          verified.set(token, { result, expiresAt: payload.exp * 1000 });
        }
        return result;
      } catch (error) {
        if (error instanceof InvalidTokenError) throw error;
        throw new InvalidTokenError((error as Error).message);
      }
    },
  };
}

function stringClaim(payload: JWTPayload, claim: string): string | undefined {
  const value = payload[claim];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
