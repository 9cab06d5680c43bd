import WebSocket from 'ws';

/** Where a bench notice's seq is written in a frame: `"conversationId":"bench-<seq>"` by default. */
const DEFAULT_MARK = '"conversationId":"bench-';
const CONNECT_TIMEOUT_MS = 20_000;

export interface SubscriberEvents {
  /** A `next` carrying notice `seq` (read straight from the frame, no JSON.parse). */
  onNotice(sub: number, seq: number): void;
  /** Anything unexpected: an `error`/`complete` message, a `next` without a bench notice, a socket error. */
  onProblem(sub: number, what: string): void;
  /** The socket closed while subscribed, not by us (1006: the server terminated it, no close frame). */
  onClosed(sub: number, code: number, reason: string): void;
  /**
   * Optional, sees every frame first: true when it took the frame (a notice it reads itself, e.g.
   * one named by a UUID rather than a seq); the frames it leaves go on as without it.
   */
  onFrame?(sub: number, data: Buffer): boolean;
}

/**
 * A minimal graphql-transport-ws subscriber on `ws` (the protocol graphql-ws speaks): cheaper per
 * message than the full graphql-ws client, so the client process is not the bottleneck.
 */
export class Subscriber {
  private ws: WebSocket | undefined;
  private closing = false;
  private readonly mark: Buffer;

  constructor(
    readonly index: number,
    private readonly url: string,
    private readonly token: string,
    private readonly query: string,
    private readonly events: SubscriberEvents,
    mark: string = DEFAULT_MARK,
  ) {
    this.mark = Buffer.from(mark);
  }

  /** Connects, authenticates (`connection_init`), subscribes; resolves once `subscribe` is sent. */
  open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(this.url, 'graphql-transport-ws', { perMessageDeflate: false });
      this.ws = ws;
      let subscribed = false;
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`subscriber ${this.index}: no connection_ack in time`));
      }, CONNECT_TIMEOUT_MS);
      ws.on('open', () => {
        ws.send(
          JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${this.token}` } }),
        );
      });
      ws.on('message', (data: Buffer) => {
        if (this.events.onFrame?.(this.index, data)) return;
        const i = data.indexOf(this.mark);
        if (i >= 0) {
          let seq = 0;
          for (let j = i + this.mark.length; j < data.length; j++) {
            const c = data[j]!;
            if (c < 48 || c > 57) break;
            seq = seq * 10 + c - 48;
          }
          this.events.onNotice(this.index, seq);
          return;
        }
        const msg = JSON.parse(data.toString()) as { type: string; payload?: unknown };
        if (msg.type === 'connection_ack' && !subscribed) {
          subscribed = true;
          ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: this.query } }));
          clearTimeout(timer);
          resolve();
        } else if (msg.type === 'ping') {
          ws.send(JSON.stringify({ type: 'pong' }));
        } else if (msg.type !== 'pong') {
          this.events.onProblem(
            this.index,
            `${msg.type}: ${JSON.stringify(msg.payload ?? null).slice(0, 200)}`,
          );
        }
      });
      ws.on('close', (code, reason) => {
        clearTimeout(timer);
        if (!subscribed) reject(new Error(`subscriber ${this.index}: closed ${code} ${reason}`));
        else if (!this.closing) this.events.onClosed(this.index, code, reason.toString());
      });
      ws.on('error', (err) => {
        if (!subscribed) {
          clearTimeout(timer);
          reject(err);
        } else if (!this.closing) this.events.onProblem(this.index, `socket error ${err.message}`);
      });
    });
  }

  /** Closes the socket (1000); terminates it if the close handshake takes longer than 2 s. */
  close(): Promise<void> {
    this.closing = true;
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2_000);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      ws.close(1000);
    });
  }
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function inBatches<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
