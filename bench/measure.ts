// Driving load and recording every response: closed loop with autocannon (S1–S5: as fast as
// the target answers on C connections) and an open-loop paced driver for S6 (a fixed request rate
// spread evenly over many keep-alive connections).
//
// Why not autocannon's overallRate for S6: autocannon 9 lowers `connections` to `overallRate` when
// the rate is the smaller (lib/run.js), so "1,000 connections at 500 req/s" becomes 500 connections
// at 1 req/s each; and every connection's per-second budget is reset by its own 1 s interval, all
// created in the same tick, so the 500 requests leave in one burst at the start of each second
// instead of one every 2 ms. Its latency correction for rated runs also assumes a 1 ms interval.
import http from 'node:http';
import autocannon from 'autocannon';
import type { Outgoing, Workload } from './scenarios.js';

export interface Window {
  /** Called when the measured window opens (after the warm-up), then when it closes. */
  open(): Promise<void>;
  close(): Promise<void>;
  /** Paced runs: called once the requests due in the window have been answered (or abandoned). */
  settled?(): Promise<void>;
}

export interface LoadResult {
  /** Length of the measured window in seconds. */
  seconds: number;
  /** Responses received in the window. */
  responses: number;
  /** Response times in ms, sorted ascending. */
  latencies: Float64Array;
  non2xx: number;
  /** Socket errors and timeouts (timeouts are also counted separately). */
  socketErrors: number;
  timeouts: number;
  /** 2xx responses whose body has an "errors" member. */
  bodyErrors: number;
  statusCodes: Record<string, number>;
  /** Paced runs: requests scheduled in the window, and the largest backlog of unsent requests. */
  scheduled?: number;
  maxBacklog?: number;
  /** Paced runs: requests due in the window still unanswered timeout + 2 s after it (counted as timeouts). */
  unanswered?: number;
  /**
   * Responses to divide the server's statement count by: closed loop, those of the window (opened
   * and closed under the same load, in-flight requests at both ends cancel out); paced, every
   * request sent between open() and settled() (an overloaded server also works on the requests
   * whose clients gave up on them).
   */
  statementResponses: number;
  /** Paced runs: responses (to any request) that arrived inside the window, i.e. the throughput achieved. */
  answeredInWindow?: number;
}

export const errorsOf = (result: LoadResult) => result.non2xx + result.socketErrors + result.bodyErrors;

export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

class Recorder {
  open = false;
  private values = new Float64Array(1 << 16);
  private count = 0;
  non2xx = 0;
  socketErrors = 0;
  timeouts = 0;
  bodyErrors = 0;
  statusCodes: Record<string, number> = {};

  response(status: number, ms: number): void {
    if (!this.open) return;
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = ms;
    this.statusCodes[status] = (this.statusCodes[status] ?? 0) + 1;
    if (status < 200 || status > 299) this.non2xx += 1;
  }

  body(status: number, body: string): void {
    if (this.open && status >= 200 && status <= 299 && body.includes('"errors"')) this.bodyErrors += 1;
  }

  error(timeout: boolean): void {
    if (!this.open) return;
    this.socketErrors += 1;
    if (timeout) this.timeouts += 1;
  }

  result(seconds: number): LoadResult {
    const latencies = this.values.slice(0, this.count).sort();
    return {
      seconds,
      responses: this.count,
      statementResponses: this.count,
      latencies,
      non2xx: this.non2xx,
      socketErrors: this.socketErrors,
      timeouts: this.timeouts,
      bodyErrors: this.bodyErrors,
      statusCodes: this.statusCodes,
    };
  }
}

export interface ClosedLoopOptions {
  origin: string;
  workload: Workload;
  connections: number;
  warmupSeconds: number;
  seconds: number;
  timeoutSeconds: number;
  window: Window;
}

/** C connections, each sending its next request as soon as the previous response arrived. */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<LoadResult> {
  const { workload } = options;
  const recorder = new Recorder();
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => (finished = resolve));
  const instance = autocannon({
    url: `${options.origin}${workload.path}`,
    method: 'POST',
    connections: options.connections,
    pipelining: 1,
    // Stopped by us after warm-up + window; this is only a backstop.
    duration: options.warmupSeconds + options.seconds + 30,
    timeout: options.timeoutSeconds,
    requests: [
      {
        setupRequest(request, context) {
          const outgoing: Outgoing = workload.next();
          (context as { tag?: unknown }).tag = outgoing.tag;
          request.method = 'POST';
          request.path = workload.path;
          request.headers = { ...outgoing.headers };
          request.body = outgoing.body;
          return request;
        },
        onResponse(status, body, context) {
          recorder.body(status, body);
          workload.onResponse?.((context as { tag?: unknown }).tag, status, body);
        },
      },
    ],
  }, () => finished());
  instance.on('response', (_client, status, _bytes, ms) => recorder.response(status, ms));
  instance.on('reqError', (error: Error) => recorder.error(/timed out/.test(error?.message ?? '')));

  await sleepMs(options.warmupSeconds * 1000);
  recorder.open = true;
  const opened = performance.now();
  await options.window.open();
  await sleepMs(Math.max(0, options.seconds * 1000 - (performance.now() - opened)));
  recorder.open = false;
  const seconds = (performance.now() - opened) / 1000;
  await options.window.close();
  instance.stop();
  await Promise.race([done, sleepMs(5_000)]);
  return recorder.result(seconds);
}

export interface PacedOptions {
  origin: string;
  workload: Workload;
  connections: number;
  /** Requests per second over all connections. */
  rate: number;
  warmupSeconds: number;
  seconds: number;
  timeoutSeconds: number;
  window: Window;
}

interface Scheduled {
  outgoing: Outgoing;
  /** performance.now() at which it was due: latency counts from here (no coordinated omission). */
  due: number;
  measured: boolean;
}

/**
 * Open loop: request k is due at start + k / rate and goes out on connection k mod C (each
 * connection one keep-alive socket, one request at a time, as one user's client would). A request
 * due while its connection is still busy waits, and the wait counts towards its latency.
 */
export async function runPaced(options: PacedOptions): Promise<LoadResult> {
  const { workload, rate, connections } = options;
  const url = new URL(options.origin);
  const recorder = new Recorder();
  const timeoutMs = options.timeoutSeconds * 1000;
  const slots = Array.from({ length: connections }, () => ({
    agent: new http.Agent({ keepAlive: true, maxSockets: 1 }),
    busy: false,
    queue: [] as Scheduled[],
  }));
  let backlog = 0;
  let maxBacklog = 0;
  let outstandingMeasured = 0;
  let settle: (() => void) | undefined;

  let abandoned = false;
  let answered = 0;
  let sent = 0;
  const finish = (slot: (typeof slots)[number], item: Scheduled, status: number, body: string, error?: Error) => {
    if (abandoned) return;
    if (!error) answered += 1;
    const ms = performance.now() - item.due;
    if (item.measured) {
      recorder.open = true; // the window is per request (by due time), not by arrival
      if (error) recorder.error(error.message === 'timeout');
      else {
        recorder.body(status, body);
        recorder.response(status, ms);
      }
      recorder.open = false;
      outstandingMeasured -= 1;
      if (outstandingMeasured === 0) settle?.();
    }
    if (!error) workload.onResponse?.(item.outgoing.tag, status, body);
    slot.busy = false;
    send(slot);
  };

  const send = (slot: (typeof slots)[number]) => {
    if (slot.busy) return;
    const item = slot.queue.shift();
    if (!item) return;
    backlog -= 1;
    sent += 1;
    slot.busy = true;
    let finished = false;
    const once = (status: number, body: string, error?: Error) => {
      if (finished) return;
      finished = true;
      finish(slot, item, status, body, error);
    };
    const request = http.request(
      {
        agent: slot.agent,
        hostname: url.hostname,
        port: url.port,
        path: workload.path,
        method: 'POST',
        headers: { ...item.outgoing.headers, 'content-length': item.outgoing.body.length },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => once(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
        response.on('error', (error) => once(0, '', error));
      },
    );
    request.setTimeout(timeoutMs, () => request.destroy(new Error('timeout')));
    request.on('error', (error) => once(0, '', error));
    request.end(item.outgoing.body);
  };

  const start = performance.now();
  const windowStart = start + options.warmupSeconds * 1000;
  const windowEnd = windowStart + options.seconds * 1000;
  const interval = 1000 / rate;
  let issued = 0;
  let scheduledInWindow = 0;
  let opened = false;
  let openPromise: Promise<void> = Promise.resolve();
  let answeredAtOpen = 0;
  let sentAtOpen = 0;

  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      if (!opened && now >= windowStart) {
        opened = true;
        answeredAtOpen = answered;
        sentAtOpen = sent;
        openPromise = options.window.open();
      }
      for (let due = start + issued * interval; due <= now && due < windowEnd; due = start + issued * interval) {
        const slot = slots[issued % connections]!;
        const measured = due >= windowStart;
        if (measured) {
          scheduledInWindow += 1;
          outstandingMeasured += 1;
        }
        slot.queue.push({ outgoing: workload.next(), due, measured });
        backlog += 1;
        issued += 1;
        send(slot);
      }
      maxBacklog = Math.max(maxBacklog, backlog);
      if (now >= windowEnd) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  await openPromise;
  const seconds = (performance.now() - windowStart) / 1000;
  const answeredInWindow = answered - answeredAtOpen;
  await options.window.close();
  // Requests due in the window may still be on their way: wait for them (each is bounded by the timeout).
  if (outstandingMeasured > 0) {
    await Promise.race([new Promise<void>((resolve) => (settle = resolve)), sleepMs(timeoutMs + 2_000)]);
  }
  // Whatever is still unanswered (queued behind a saturated target, or in flight) is an error:
  // dropping it silently would flatter an overloaded target.
  const unanswered = outstandingMeasured;
  const statementResponses = sent - sentAtOpen;
  await options.window.settled?.();
  abandoned = true;
  recorder.open = true;
  for (let index = 0; index < unanswered; index++) recorder.error(true);
  recorder.open = false;
  for (const slot of slots) slot.agent.destroy();
  const result = recorder.result(seconds);
  return { ...result, scheduled: scheduledInWindow, maxBacklog, unanswered, statementResponses, answeredInWindow };
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
