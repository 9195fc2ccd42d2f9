// A request that trickles in is cut off after the request timeout; an event stream (a long response) is not.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function runtime(): Promise<TestRuntime> {
  const rt = await startTestRuntime({}, { requestTimeoutMs: 400, streams: { pingMs: 100 } });
  cleanups.push(() => rt.stop());
  return rt;
}

describe('request timeout', () => {
  it('answers 408 and closes a connection whose body never finishes', async () => {
    const rt = await runtime();
    const socket = connect(rt.port, '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    await new Promise<void>((r) => socket.once('connect', () => r()));
    let received = '';
    socket.setEncoding('utf8').on('data', (d: string) => (received += d));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.write(`POST /v1/threads HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${rt.token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"title":"`);
    // One byte every 50 ms: alive, but the body would take a minute.
    const drip = setInterval(() => socket.writable && socket.write('x'), 50);
    cleanups.push(() => clearInterval(drip));
    await closed;
    expect(received).toMatch(/^HTTP\/1\.1 408/);
  });

  it('keeps an event stream open well past the request timeout', async () => {
    const rt = await runtime();
    const stream = await rt.events('/v1/events');
    cleanups.push(() => stream.close());
    const opened = Date.now();
    // Pings keep coming long after the request timeout has passed several times over.
    await stream.waitForComment(() => Date.now() - opened > 1_500, 5_000);
    const t = await rt.newThread();
    await stream.waitFor((e) => e.event === 'thread.created' && e.data.thread_id === t.id);
  });
});
