import { describe, expect, it } from 'vitest';
import { guardedLookup, isPublicAddress, webhookUrlProblem, type Resolve } from '../../src/webhooks/address-guard.js';

const resolvingTo = (...addresses: string[]): Resolve => async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('isPublicAddress', () => {
  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e'])('%s is public', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it.each([
    '127.0.0.1', '127.255.255.254', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1',
    '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd00:ec2::254',
    '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '2002:7f00:1::', '64:ff9b::7f00:1', 'ff02::1', 'not an address',
    '::127.0.0.1', '::7f00:1', '::a9fe:a9fe', '::ffff:0:127.0.0.1', '::ffff:0:a00:1',
  ])('%s is not', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });
});

describe('webhookUrlProblem', () => {
  const strict = (url: string, resolve: Resolve = resolvingTo('93.184.216.34')) => webhookUrlProblem(url, { allowPrivate: false, resolve });

  it('accepts an http(s) URL whose host resolves only to public addresses', async () => {
    expect(await strict('https://hooks.example.com/tasks')).toBeNull();
    expect(await strict('http://hooks.example.com:8080/tasks?token=1')).toBeNull();
  });

  it('refuses other schemes and what is not a URL', async () => {
    expect(await strict('ftp://hooks.example.com/')).toMatch(/http or https/);
    expect(await strict('file:///etc/passwd')).toMatch(/http or https/);
    expect(await strict('javascript:alert(1)')).toMatch(/http or https/);
    expect(await strict('hooks.example.com/tasks')).toBe('not a URL');
  });

  it('refuses a host with any private address among its addresses, and one that does not resolve', async () => {
    expect(await strict('https://hooks.example.com/', resolvingTo('93.184.216.34', '10.0.0.1'))).toMatch(/10\.0\.0\.1/);
    expect(await strict('https://hooks.example.com/', resolvingTo())).toMatch(/does not resolve/);
    expect(await strict('https://hooks.example.com/', () => Promise.reject(new Error('ENOTFOUND')))).toMatch(/does not resolve/);
  });

  it('refuses private IP literals without resolving them', async () => {
    const never: Resolve = () => Promise.reject(new Error('must not be called'));
    expect(await strict('http://127.0.0.1:4000/', never)).toMatch(/127\.0\.0\.1/);
    expect(await strict('http://[::1]:4000/', never)).toMatch(/::1/);
    expect(await strict('http://[fd00:ec2::254]/', never)).toMatch(/fd00:ec2::254/);
  });

  it('allows everything http(s) with allowPrivate', async () => {
    expect(await webhookUrlProblem('http://127.0.0.1:4000/', { allowPrivate: true })).toBeNull();
    expect(await webhookUrlProblem('ftp://127.0.0.1/', { allowPrivate: true })).toMatch(/http or https/);
  });
});

describe('guardedLookup', () => {
  const lookup = (resolve: Resolve, options: object = {}) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((done) =>
      guardedLookup({ allowPrivate: false, resolve })('hooks.example.com', options as never, ((error: NodeJS.ErrnoException | null, address: unknown) => done({ error, address })) as never),
    );

  it('answers only public addresses, the one connected to', async () => {
    expect(await lookup(resolvingTo('10.0.0.1', '93.184.216.34'))).toEqual({ error: null, address: '93.184.216.34' });
    expect(await lookup(resolvingTo('10.0.0.1', '93.184.216.34'), { all: true })).toEqual({ error: null, address: [{ address: '93.184.216.34', family: 4 }] });
  });

  it('fails the connection when the name resolves to private addresses only (DNS changed since registration)', async () => {
    const { error } = await lookup(resolvingTo('127.0.0.1', '::1'));
    expect(error?.code).toBe('EWEBHOOKADDRESS');
  });
});
