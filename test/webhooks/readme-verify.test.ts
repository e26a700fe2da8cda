import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { signature } from '../../src/webhooks/signature.js';

// The README's signature check, as printed there, against the server's signatures.

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const code = /```js\n(\/\/ verify-webhook\.js\n[\s\S]*?)```/.exec(README)?.[1] ?? '';
type Verify = (secret: string, headers: Record<string, string | undefined>, rawBody: string) => boolean;
const verifyWebhook = new Function('require', `${code}\nreturn verifyWebhook;`)(createRequire(import.meta.url)) as Verify;

const secret = 'whsec_test-secret';
const body = JSON.stringify({ id: 'd1', event: 'task.created', occurredAt: new Date().toISOString(), data: { id: 'VGFzazox', title: 'Buy milk' } });
const headersFor = (timestamp: number, signed = body) => ({ 'x-tasks-timestamp': String(timestamp), 'x-tasks-signature': signature(secret, timestamp, signed) });
const now = () => Math.floor(Date.now() / 1000);

describe("the README's verifyWebhook", () => {
  it('is at most 10 lines of code', () => {
    expect(code).not.toBe('');
    expect(code.trim().split('\n').filter((line) => !line.startsWith('//')).length).toBeLessThanOrEqual(10);
  });

  it("accepts the server's signature", () => {
    expect(verifyWebhook(secret, headersFor(now()), body)).toBe(true);
  });

  it('refuses a changed body, another secret, a stale or replayed timestamp, and missing headers', () => {
    expect(verifyWebhook(secret, headersFor(now()), body.replace('Buy milk', 'Buy beer'))).toBe(false);
    expect(verifyWebhook('whsec_other', headersFor(now()), body)).toBe(false);
    expect(verifyWebhook(secret, headersFor(now() - 3600), body)).toBe(false);
    // A signature taken with another timestamp than the one sent.
    expect(verifyWebhook(secret, { ...headersFor(now()), 'x-tasks-timestamp': String(now() + 1) }, body)).toBe(false);
    expect(verifyWebhook(secret, {}, body)).toBe(false);
    expect(verifyWebhook(secret, { 'x-tasks-timestamp': String(now()) }, body)).toBe(false);
  });
});
