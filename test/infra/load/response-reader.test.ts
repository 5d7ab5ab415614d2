import { ResponseError, ResponseReader } from '../../../src/infra/load/response-reader';

/** Feeds the text in pieces of `size` bytes; the statuses of the responses that ended, in order. */
function readInPieces(reader: ResponseReader, text: string, size: number): number[] {
  const bytes = Buffer.from(text, 'latin1');
  const ended: number[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    // A bigger buffer around the piece, as the shared read buffer is.
    const buf = Buffer.concat([Buffer.from('xx'), bytes.subarray(at, at + size), Buffer.from('yy')]);
    const status = reader.read(buf, 2, buf.length - 2);
    if (status) ended.push(status);
  }
  return ended;
}

const ok = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}';
const chunkedAnswer =
  'HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1a\r\n' +
  'abcdefghijklmnopqrstuvwxyz\r\n0\r\nx-trailer: 1\r\n\r\n';

describe('ResponseReader', () => {
  it.each([1, 2, 3, 7, 64, 10_000])('finds where answers end, in pieces of %i bytes', (size) => {
    const reader = new ResponseReader();
    expect(readInPieces(reader, ok, size)).toEqual([200]);
    expect(readInPieces(reader, chunkedAnswer, size)).toEqual([503]);
    expect(readInPieces(reader, 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n', size)).toEqual([204]);
    expect(readInPieces(reader, 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n', size)).toEqual([404]);
    expect(readInPieces(reader, 'HTTP/1.1 100 Continue\r\n\r\n' + ok, size)).toEqual([200]);
    expect(reader.mustClose).toBe(false);
    expect(reader.midResponse).toBe(false);
  });

  it('says when the server closes the connection after its answer', () => {
    const reader = new ResponseReader();
    expect(readInPieces(reader, 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok', 100)).toEqual([
      200,
    ]);
    expect(reader.mustClose).toBe(true);
    reader.reset();
    expect(readInPieces(reader, 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok', 100)).toEqual([200]);
    expect(reader.mustClose).toBe(true);
    reader.reset();
    expect(
      readInPieces(reader, 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok', 100),
    ).toEqual([200]);
    expect(reader.mustClose).toBe(false);
  });

  it('ends an answer without a length when the connection closes, and not before', () => {
    const reader = new ResponseReader();
    expect(readInPieces(reader, 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nsome body', 4)).toEqual([]);
    expect(reader.midResponse).toBe(true);
    expect(reader.closed()).toBe(200);
    // A connection that closes midway through a sized answer leaves it unanswered.
    reader.reset();
    expect(readInPieces(reader, 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', 100)).toEqual([]);
    expect(reader.closed()).toBe(0);
  });

  it('refuses what is not an HTTP/1.x answer, and bytes after the answer', () => {
    expect(() => new ResponseReader().read(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'), 0, 19)).toThrow(ResponseError);
    expect(() => readInPieces(new ResponseReader(), 'HTTP/1.1 101 Switching Protocols\r\n\r\n', 100)).toThrow(
      'switched protocols',
    );
    expect(() =>
      readInPieces(new ResponseReader(), 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 100),
    ).toThrow('chunk size');
    expect(() => readInPieces(new ResponseReader(), ok + 'HTTP/1.1 200 OK\r\n', 1000)).toThrow('after its answer');
    expect(() => readInPieces(new ResponseReader(), 'HTTP/1.1 200 OK\r\nx: ' + 'a'.repeat(70_000), 1000)).toThrow(
      'over 64 KiB',
    );
  });
});
