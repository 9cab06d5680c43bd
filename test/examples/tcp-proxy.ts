import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A real TCP proxy in front of a server, so a test can lose the connection the way a phone does:
 * `cut()` destroys both sockets of every open connection (no close frame, no HTTP answer), `down`
 * refuses new connections (accepted, then destroyed at once), and `cutOnNextAnswer()` forwards a
 * request but destroys the pair when the first byte of the answer arrives (the server has done the
 * work; the client never hears of it).
 */
export class TcpProxy {
  private readonly server: Server;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private cutArmed: (() => void) | undefined;
  /** New connections are refused while set. */
  down = false;
  /** Connections forwarded to the server. */
  accepted = 0;
  /** Connections refused while `down`. */
  refused = 0;
  /** Client chunks that start an HTTP POST (one per request on plain HTTP/1.1). */
  posts = 0;
  /** Connections destroyed by `cut()` or `cutOnNextAnswer()`. */
  cuts = 0;

  private constructor(private readonly targetPort: number) {
    this.server = createServer((client) => this.accept(client));
  }

  /** Listens on a free port of 127.0.0.1 and forwards to `target` (an `http://127.0.0.1:<port>` URL). */
  static async start(target: string): Promise<TcpProxy> {
    const proxy = new TcpProxy(Number(new URL(target).port));
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('not listening');
    return address.port;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}/graphql`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/graphql`;
  }

  /** Open connections. */
  get open(): number {
    return this.pairs.size;
  }

  private accept(client: Socket): void {
    if (this.down) {
      this.refused++;
      client.destroy();
      return;
    }
    this.accepted++;
    const upstream = connect(this.targetPort, '127.0.0.1');
    const pair = { client, upstream };
    this.pairs.add(pair);
    const drop = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      if (chunk.subarray(0, 5).toString('latin1') === 'POST ') this.posts++;
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk: Buffer) => {
      const armed = this.cutArmed;
      if (armed) {
        this.cutArmed = undefined;
        this.cuts++;
        drop();
        armed();
        return;
      }
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  }

  /** Destroys both sockets of every open connection; returns how many there were. */
  cut(): number {
    const n = this.pairs.size;
    for (const { client, upstream } of [...this.pairs]) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    this.cuts += n;
    return n;
  }

  /** Destroys the connection that next carries an answer, before the client gets any of it. */
  cutOnNextAnswer(): Promise<void> {
    return new Promise((resolve) => {
      this.cutArmed = resolve;
    });
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
