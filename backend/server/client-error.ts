/**
 * What Node's HTTP parser refuses before express sees a request (a request line and headers over
 * http.maxHeaderSize, a malformed request, one that took too long to arrive) is answered like every other API
 * error: JSON `{error, field?}`. Node's own answer is a bare status line with an empty body (`431` and nothing
 * else for a long query string), which a client cannot tell from a proxy's.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';

interface ParserError extends Error {
  code?: string;
}

/** Status, message and field for a parser error code, as Node's default handler chooses the status. */
function answerFor(err: ParserError): { status: number; error: string; field?: string } {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        error: `the request line and headers exceed ${http.maxHeaderSize} bytes: shorten the URL's query string (the usual cause) or the headers`,
        field: 'url',
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, error: 'chunk extensions too large', field: 'body' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, error: 'the request did not arrive in time' };
    default:
      return { status: 400, error: `malformed HTTP request (${err.code ?? 'unparseable'})` };
  }
}

/** The server's 'clientError' listener: a JSON answer when nothing was sent on the socket yet, then close it. */
export function answerClientError(err: ParserError, socket: Duplex & { bytesWritten?: number }): void {
  // As Node's default: write only on a socket that can take it and has no response started on it.
  if (err.code === 'ECONNRESET' || !socket.writable || (socket.bytesWritten ?? 0) > 0) {
    socket.destroy();
    return;
  }
  const { status, error, field } = answerFor(err);
  const body = JSON.stringify(field === undefined ? { error } : { error, field });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Bad Request'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body
  );
}
