import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
};

describe('config', () => {
  it('has working defaults on a developer machine', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 4000, host: '127.0.0.1', graphiql: true, introspection: true, reminders: { enabled: true } });
    expect(config.database.url).toBeUndefined();
    expect(config.jwt.usesDevelopmentSecret).toBe(true);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).port).toBe(4000);
  });

  it('gives one clear line per bad variable', () => {
    expect(problems({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', REMINDERS: 'maybe' })).toEqual([
      expect.stringMatching(/^PORT: /),
      expect.stringMatching(/^LOG_LEVEL: /),
      expect.stringMatching(/^DATABASE_URL: must be a postgres/),
      expect.stringMatching(/^REMINDERS: /),
    ]);
  });

  it('requires a strong JWT_SECRET, and one at all in production', () => {
    expect(problems({ JWT_SECRET: 'short' })).toEqual(['JWT_SECRET: must be at least 32 bytes long']);
    expect(problems({ NODE_ENV: 'production' })).toEqual([expect.stringMatching(/^JWT_SECRET: required when NODE_ENV=production/)]);
    const production = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) });
    expect(production).toMatchObject({ host: '0.0.0.0', graphiql: false, introspection: false });
  });

  it('needs the JWKS url, issuer and audience together', () => {
    expect(problems({ JWT_JWKS_URL: 'https://id.example.com/jwks.json' })).toEqual([expect.stringMatching(/^JWT_JWKS_URL: .* together/)]);
  });

  it('reads lists and flags', () => {
    const config = loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example', REMINDERS: 'off', GRAPHIQL: 'on', NODE_ENV: 'production', JWT_SECRET: 'y'.repeat(40) });
    expect(config.cors.origins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.reminders.enabled).toBe(false);
    expect(config.graphiql).toBe(true);
  });

  it('prepares database statements unless told not to (for a pooler without protocol-level prepared statements)', () => {
    expect(loadConfig({}).database.preparedStatements).toBe(true);
    expect(loadConfig({ DATABASE_PREPARED_STATEMENTS: 'off' }).database.preparedStatements).toBe(false);
    expect(problems({ DATABASE_PREPARED_STATEMENTS: 'sometimes' })).toEqual([expect.stringMatching(/^DATABASE_PREPARED_STATEMENTS: /)]);
  });
});
