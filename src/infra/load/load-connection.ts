import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ResponseReader } from './response-reader';

/**
 * One keep-alive connection of the load generator, with at most one request in flight. It writes
 * requests already encoded (replay-requests.ts) and reads answers with a ResponseReader into a read
 * buffer shared by all connections (answers are read to their end before the next read), so a request
 * allocates nothing here. A connection that fails or is closed is opened again for its next request.
 */

/** Where the requests go. */
export interface LoadTarget {
  host: string;
  port: number;
  /** https: TLS, not verified (staging endpoints often have certificates of their own), HTTP/1.1 by ALPN. */
  tls: boolean;
  /** The name sent for TLS; the host unless it is an IP address. */
  servername?: string;
}

/** What a connection tells the test about its request in flight. */
export interface ConnectionEvents {
  /** The request (its index in the test) was answered with this status at `at` (performance.now()). */
  answered(conn: LoadConnection, request: number, status: number, sentAt: number, at: number): void;
  /** The request got no answer: the connection failed or closed, timed out, or sent what is not HTTP. */
  failed(conn: LoadConnection, request: number, at: number): void;
}

export class LoadConnection {
  /** Index of the request in flight, -1 when none is. */
  request = -1;
  /** performance.now() when the request in flight was written. */
  sentAt = 0;
  private socket: Socket | undefined;
  private readonly reader = new ResponseReader();

  constructor(
    private readonly target: LoadTarget,
    private readonly readBuffer: Buffer,
    private readonly events: ConnectionEvents,
  ) {}

  /** Opens the connection ahead of the first request; resolves once connected or failed (never rejects). */
  open(): Promise<void> {
    if (this.socket) return Promise.resolve();
    const socket = this.connect();
    return new Promise((resolve) => {
      socket.once(this.target.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('close', () => resolve());
    });
  }

  /** Writes a request (its bytes and its index in the test); the connection must have none in flight. */
  send(bytes: Buffer, request: number): void {
    this.request = request;
    const socket = this.socket ?? this.connect();
    this.sentAt = performance.now();
    socket.write(bytes);
  }

  /** Gives up on the request in flight (it timed out): the connection is closed and opened again when next used. */
  abandon(): void {
    this.fail();
  }

  /** Closes the connection; a request in flight is dropped without a word. */
  close(): void {
    this.request = -1;
    this.drop();
  }

  private connect(): Socket {
    const { host, port, tls, servername } = this.target;
    let socket: Socket;
    if (tls) {
      socket = tlsConnect({ host, port, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
      socket.setNoDelay(true);
      socket.on('data', (chunk: Buffer) => this.onData(socket, chunk, chunk.length));
    } else {
      socket = netConnect({
        host,
        port,
        noDelay: true,
        onread: {
          buffer: this.readBuffer,
          callback: (n, buf) => {
            this.onData(socket, buf as Buffer, n);
            return true;
          },
        },
      });
    }
    // Every failure also closes the socket: the close handler counts the request.
    socket.on('error', () => {});
    socket.on('close', () => this.onClose(socket));
    this.socket = socket;
    return socket;
  }

  private onData(socket: Socket, buf: Buffer, n: number): void {
    if (socket !== this.socket) return;
    if (this.request === -1) {
      // An answer to nothing: the connection cannot be trusted with the next request.
      this.drop();
      return;
    }
    let status: number;
    try {
      status = this.reader.read(buf, 0, n);
    } catch {
      this.fail();
      return;
    }
    if (status === 0) return;
    if (this.reader.mustClose) this.drop();
    this.answer(status);
  }

  private onClose(socket: Socket): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    const status = this.reader.closed();
    this.reader.reset();
    if (this.request === -1) return;
    if (status !== 0) this.answer(status);
    else this.fail();
  }

  private answer(status: number): void {
    const request = this.request;
    this.request = -1;
    this.events.answered(this, request, status, this.sentAt, performance.now());
  }

  private fail(): void {
    this.drop();
    const request = this.request;
    if (request === -1) return;
    this.request = -1;
    this.events.failed(this, request, performance.now());
  }

  private drop(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.reader.reset();
    socket?.destroy();
  }
}
