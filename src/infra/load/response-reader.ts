/**
 * Reads HTTP/1.x responses off a connection's bytes, as they arrive in pieces, for a load generator that
 * keeps one request in flight per connection: it finds where each response ends (Content-Length,
 * chunked, or the connection closing) and its status, and nothing else. Bodies are skipped without being
 * copied; only a head split across reads is put together.
 */

const enum State {
  Head,
  Body,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  UntilClose,
}

const crlfcrlf = Buffer.from('\r\n\r\n');
const contentLength = /\r\ncontent-length[ \t]*:[ \t]*(\d+)[ \t]*(?=\r\n)/i;
const chunked = /\r\ntransfer-encoding[ \t]*:[^\r]*\bchunked\b/i;
const connectionClose = /\r\nconnection[ \t]*:[^\r]*\bclose\b/i;
const connectionKeepAlive = /\r\nconnection[ \t]*:[^\r]*\bkeep-alive\b/i;

/** The connection sent something that is not an HTTP/1.x response. */
export class ResponseError extends Error {}

export class ResponseReader {
  private state = State.Head;
  /** Bytes of a head or a chunk-size line not yet complete. */
  private pending: Buffer | undefined;
  /** Body or chunk bytes still to skip. */
  private remaining = 0;
  private status = 0;
  /** The server closes the connection after this response. */
  private closes = false;

  /** The connection must be closed after the response that just ended (HTTP/1.0, `Connection: close`). */
  get mustClose(): boolean {
    return this.closes;
  }

  /** A response has begun and not ended: the connection closing now leaves it unanswered, unless it ends at close. */
  get midResponse(): boolean {
    return this.state !== State.Head || this.pending !== undefined;
  }

  /**
   * Reads `buf[start, end)`. Returns the status of the final response that ended in these bytes, or 0 when
   * none did (an interim 1xx answer is skipped). Throws a ResponseError on bytes that are not a response,
   * or on bytes after the response ended (only one request is in flight).
   */
  read(buf: Buffer, start: number, end: number): number {
    let at = start;
    let ended = 0;
    while (at < end) {
      if (ended) throw new ResponseError('the server sent bytes after its answer, with no request in flight');
      switch (this.state) {
        case State.Head: {
          let data = buf;
          let from = at;
          let searchFrom = at;
          if (this.pending) {
            data = Buffer.concat([this.pending, buf.subarray(at, end)]);
            searchFrom = Math.max(0, this.pending.length - 3);
            from = 0;
          }
          const dataEnd = this.pending ? data.length : end;
          const headEnd = data.indexOf(crlfcrlf, searchFrom);
          if (headEnd === -1 || headEnd + 4 > dataEnd) {
            if (dataEnd - from > 64 * 1024) throw new ResponseError('a response head over 64 KiB');
            this.pending = Buffer.from(data.subarray(from, dataEnd));
            return 0;
          }
          const consumedOfBuf = this.pending ? headEnd + 4 - this.pending.length : headEnd + 4 - at;
          this.pending = undefined;
          at += consumedOfBuf;
          if (this.beginBody(data.toString('latin1', from, headEnd + 2))) ended = this.status;
          break;
        }
        case State.Body: {
          const take = Math.min(this.remaining, end - at);
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) ended = this.finish();
          break;
        }
        case State.ChunkSize:
        case State.Trailers: {
          const nl = buf.indexOf(10, at);
          if (nl === -1 || nl >= end) {
            this.pending = this.pending
              ? Buffer.concat([this.pending, buf.subarray(at, end)])
              : Buffer.from(buf.subarray(at, end));
            if (this.pending.length > 8 * 1024) throw new ResponseError('a chunk line over 8 KiB');
            return ended;
          }
          const line = (this.pending ? this.pending.toString('latin1') : '') + buf.toString('latin1', at, nl);
          this.pending = undefined;
          at = nl + 1;
          const text = line.endsWith('\r') ? line.slice(0, -1) : line;
          if (this.state === State.Trailers) {
            if (text === '') ended = this.finish();
            break;
          }
          const size = parseInt(text, 16);
          if (!/^[0-9a-f]+/i.test(text) || !Number.isFinite(size))
            throw new ResponseError(`a chunk size that is not hexadecimal: ${JSON.stringify(text.slice(0, 20))}`);
          if (size === 0) this.state = State.Trailers;
          else {
            this.remaining = size;
            this.state = State.ChunkData;
          }
          break;
        }
        case State.ChunkData: {
          const take = Math.min(this.remaining, end - at);
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.remaining = 2;
            this.state = State.ChunkEnd;
          }
          break;
        }
        case State.ChunkEnd: {
          // The CRLF after a chunk's data.
          const take = Math.min(this.remaining, end - at);
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = State.ChunkSize;
          break;
        }
        case State.UntilClose:
          return 0;
      }
    }
    return ended;
  }

  /** The connection closed: the status of a response that ends with the connection, else 0. */
  closed(): number {
    if (this.state !== State.UntilClose) return 0;
    return this.finish();
  }

  /** Starts over for a new connection. */
  reset(): void {
    this.state = State.Head;
    this.pending = undefined;
    this.remaining = 0;
    this.status = 0;
    this.closes = false;
  }

  /** Reads a head (status line and headers, each line ending in CRLF); true when the response ends with it. */
  private beginBody(head: string): boolean {
    if (!head.startsWith('HTTP/1.') || (head.charCodeAt(12) !== 32 && head.charCodeAt(12) !== 13))
      throw new ResponseError(`not an HTTP/1.x status line: ${JSON.stringify(head.slice(0, 40))}`);
    const status = Number(head.slice(9, 12));
    if (!Number.isInteger(status) || status < 100)
      throw new ResponseError(`not an HTTP/1.x status line: ${JSON.stringify(head.slice(0, 40))}`);
    if (status < 200) {
      if (status === 101)
        throw new ResponseError('the server switched protocols, which a replayed request never asks for');
      return false; // 100 Continue, 103 Early Hints: the answer follows
    }
    this.status = status;
    const http10 = head.charCodeAt(7) === 48; // HTTP/1.0
    this.closes = connectionClose.test(head) || (http10 && !connectionKeepAlive.test(head));
    if (status === 204 || status === 304) return this.finish() !== 0;
    if (chunked.test(head)) {
      this.state = State.ChunkSize;
      return false;
    }
    const length = contentLength.exec(head);
    if (length) {
      this.remaining = Number(length[1]);
      if (this.remaining === 0) return this.finish() !== 0;
      this.state = State.Body;
      return false;
    }
    this.state = State.UntilClose;
    this.closes = true;
    return false;
  }

  private finish(): number {
    this.state = State.Head;
    this.remaining = 0;
    return this.status;
  }
}
