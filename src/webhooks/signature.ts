import { createHmac, randomBytes } from 'node:crypto';

// The signature a receiver checks: X-Tasks-Signature: sha256=<hex of HMAC-SHA256(secret, timestamp + "." + body)>.
// The timestamp (X-Tasks-Timestamp, Unix seconds) is signed with the body, so a receiver that refuses
// old timestamps also refuses a replayed delivery.

export function signature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** A new webhook's secret: 32 random bytes, shown to its owner once. */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;
