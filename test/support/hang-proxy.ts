// A TCP proxy in front of a server that can be made to hang: it then accepts connections and answers nothing, as a wedged runtime would.
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface HangProxy {
  url: string;
  /** From now on nothing gets through, either way, on old connections or new ones; none is closed. */
  hang(): void;
  /** Lets everything through again, also what was held while hung. */
  resume(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

export async function startHangProxy(target: { port: number }): Promise<HangProxy> {
  let hung = false;
  const pairs = new Set<Pair>();
  const held = new Set<Socket>();
  const sockets = new Set<Socket>();

  const join = (client: Socket) => {
    const upstream = connect(target.port, '127.0.0.1');
    sockets.add(upstream);
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  };

  const server = createServer((client) => {
    sockets.add(client);
    if (hung) {
      // Accepted, and then silence: the kernel takes the request bytes, nobody reads them.
      held.add(client);
      client.pause();
      client.on('error', () => client.destroy()).on('close', () => held.delete(client));
      return;
    }
    join(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hang() {
      hung = true;
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    resume() {
      hung = false;
      for (const { client, upstream } of pairs) {
        client.pipe(upstream);
        upstream.pipe(client);
      }
      for (const client of held) {
        held.delete(client);
        client.removeAllListeners('close');
        join(client);
        client.resume();
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      const closed = once(server, 'close');
      server.close();
      await closed;
    },
  };
}
