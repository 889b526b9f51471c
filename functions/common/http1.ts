/**
 * The synchronous triggers' HTTP/1.1 transport: kept-alive connections to one origin over `node:tls`
 * (or `node:net` for a plain-HTTP endpoint, as the sandbox's), with each answer read by
 * `http-parser-js`, which frames it (Content-Length, chunked or close-delimited) as Node's own parser does.
 *
 * Why not `node:http`: its client (the agent, `ClientRequest`, `IncomingMessage`, Node's native
 * parser binding and the stream machinery between them) runs for the first time in a cold
 * function's first call, and costs about 4 ms of CPU more than this module for the same request over
 * TLS, in every trigger that calls AWS (docs/performance.md). The requests these triggers send are
 * small JSON POSTs that the caller has already serialised and signed, so a request is one write.
 *
 * What it keeps from Node's kept-alive agent:
 * - a connection is reused only after its answer was read to the end, and only if the server did
 *   not ask to close it; one that closes or fails while idle is dropped from the pool;
 * - each answer is read by a parser of its own, and a connection on which the server sends bytes
 *   nobody asked for (while idle, or a second answer after the first) is closed;
 * - idle connections do not hold the process open (they are unreferenced, as the agent's free sockets are);
 * - TLS verifies the server's chain against Node's roots (and `NODE_EXTRA_CA_CERTS`) and checks the
 *   certificate's name, sending the host name as SNI;
 * - a connection that ends before its answer is complete fails with `ECONNRESET` ("socket hang up"),
 *   and socket errors keep their codes, so the caller's retry policy reads them as before.
 *
 * There is one connection per request in flight and no cap (the agent's was 50): a trigger has at most
 * a few requests in flight, and Lambda gives an environment one invocation at a time.
 *
 * Timeouts and retries are the caller's: it cancels a request with {@link PendingRequest.cancel}.
 */
import { HTTPParser } from 'http-parser-js';
import net from 'node:net';
import tls from 'node:tls';

/** Where the connections go. */
export interface Origin {
  readonly protocol: 'http:' | 'https:';
  /** As a URL gives it: a name, an IPv4 address, or an IPv6 address in brackets. */
  readonly hostname: string;
  /** Defaults to 443 for `https:` and 80 for `http:`. */
  readonly port?: number;
}

/** One request, already serialised and signed. */
export interface HttpRequest {
  readonly method: string;
  /** The request target: an absolute path, percent-encoded. */
  readonly path: string;
  /** Sent as given, in this order; `host` and `content-length` are the caller's (they are signed). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** A whole answer. */
export interface HttpResponse {
  readonly status: number;
  /** Lower-case names; a repeated header's values joined with `, `, as Node joins them. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** A request on its way. */
export interface PendingRequest {
  /** Settles once: with the whole answer, or with the socket's error. */
  readonly response: Promise<HttpResponse>;
  /** Destroys the request's connection while it is still answering this request: the response rejects, and the connection is never reused. Once the answer is in, it does nothing. */
  cancel(): void;
}

/** How a pool connects. */
export interface ConnectionPoolOptions {
  /**
   * Trust anchors that replace Node's roots, for a test's own certificate authority. Functions never
   * set it: on Lambda the chain is checked against Node's roots.
   */
  readonly ca?: string;
}

/** A request's own hooks. */
export interface RequestHooks {
  /** Called when the request's connection is established (TCP, before TLS): at once for a reused one. */
  readonly onConnect?: () => void;
}

/** An HTTP token (RFC 9110 section 5.6.2): what a method or header name may be. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header value: visible ASCII, spaces and tabs; never CR, LF, NUL or anything beyond ASCII. */
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;
/** A request target in origin form. */
const ORIGIN_FORM = /^\/[\x21-\x7e]*$/;

/** The request line and header block, refusing anything that could split the request. */
export function requestHead(request: HttpRequest): string {
  if (!TOKEN.test(request.method)) throw new TypeError(`invalid HTTP method ${JSON.stringify(request.method)}`);
  if (!ORIGIN_FORM.test(request.path)) throw new TypeError('invalid request path: it must be an absolute, percent-encoded path');
  let head = `${request.method} ${request.path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(request.headers)) {
    if (!TOKEN.test(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
    if (!FIELD_VALUE.test(value)) throw new TypeError(`invalid value for header ${name}`);
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}

function hangUp(): NodeJS.ErrnoException {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

/** One request's answer, as it is read. */
interface Exchange {
  readonly resolve: (response: HttpResponse) => void;
  readonly reject: (error: Error) => void;
  /** This exchange's own parser: bytes left over from an earlier answer never reach it. */
  readonly parser: InstanceType<typeof HTTPParser>;
  status: number;
  headers: Record<string, string>;
  chunks: Buffer[];
  keepAlive: boolean;
}

/** One connection and the request it is answering, if any. */
class Connection {
  readonly socket: net.Socket;
  private exchange: Exchange | undefined;
  /** Set once the socket has failed, ended or been destroyed: it is never used again. */
  closed = false;

  constructor(origin: Origin, ca: string | undefined, private readonly release: (connection: Connection) => void, private readonly drop: (connection: Connection) => void) {
    const port = origin.port ?? (origin.protocol === 'https:' ? 443 : 80);
    // A URL writes an IPv6 address in brackets ([::1]); a socket takes it without them.
    const host = origin.hostname.startsWith('[') && origin.hostname.endsWith(']') ? origin.hostname.slice(1, -1) : origin.hostname;
    this.socket =
      origin.protocol === 'https:'
        ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...(ca ? { ca } : {}) })
        : net.connect({ host, port });
    this.socket.setNoDelay(true);
    this.socket.setKeepAlive(true, 1_000);
    this.socket.on('data', (chunk: Buffer) => {
      if (!this.exchange) return this.fail(new Error('the server sent data outside any answer'));
      const parsed = this.exchange.parser.execute(chunk);
      if (parsed instanceof Error) this.fail(parsed);
    });
    this.socket.on('end', () => {
      // A close-delimited answer ends here (finish completes it); any other answer still open was cut short.
      this.exchange?.parser.finish();
      this.fail(hangUp());
    });
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(hangUp()));
  }

  /** Sends `head` and `body`, answering through `resolve` or `reject`; returns the exchange, for {@link cancel}. */
  send(head: string, body: string, resolve: (response: HttpResponse) => void, reject: (error: Error) => void): Exchange {
    const parser = new HTTPParser(HTTPParser.RESPONSE);
    const exchange: Exchange = { resolve, reject, parser, status: 0, headers: {}, chunks: [], keepAlive: false };
    // A second answer that nobody asked for, even in the same packet as this one, ends the connection.
    parser[HTTPParser.kOnHeadersComplete] = (info) => {
      if (this.exchange !== exchange) return this.fail(new Error('the server sent an answer nobody asked for'));
      exchange.status = info.statusCode;
      exchange.headers = headerRecord(info.headers);
      exchange.keepAlive = info.shouldKeepAlive;
    };
    parser[HTTPParser.kOnBody] = (chunk, offset, length) => {
      if (this.exchange === exchange) exchange.chunks.push(chunk.subarray(offset, offset + length));
    };
    parser[HTTPParser.kOnMessageComplete] = () => {
      if (this.exchange === exchange) this.complete(exchange);
    };
    this.exchange = exchange;
    this.socket.ref();
    this.socket.write(head + body);
    return exchange;
  }

  /** Ends the connection if it is still carrying `exchange`; once that answer is in, the connection is someone else's. */
  cancel(exchange: Exchange): void {
    if (this.exchange === exchange) this.fail(Object.assign(new Error('request cancelled'), { code: 'ECANCELED' }));
  }

  private complete(exchange: Exchange): void {
    // An interim answer (100 Continue and the like) comes before the real one, on the same exchange.
    if (exchange.status >= 100 && exchange.status < 200 && exchange.status !== 101) {
      exchange.chunks = [];
      return;
    }
    this.exchange = undefined;
    exchange.resolve({ status: exchange.status, headers: exchange.headers, body: Buffer.concat(exchange.chunks).toString('utf8') });
    if (exchange.keepAlive && !this.closed && exchange.status !== 101) {
      this.socket.unref();
      this.release(this);
    } else {
      this.destroy();
    }
  }

  /** Ends the connection: the request it carries, if any, rejects with `error`. */
  fail(error: Error): void {
    const exchange = this.exchange;
    this.exchange = undefined;
    this.destroy();
    exchange?.reject(error);
  }

  destroy(): void {
    if (!this.closed) {
      this.closed = true;
      this.drop(this);
    }
    this.socket.destroy();
  }
}

function headerRecord(flat: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase();
    const value = flat[i + 1]!;
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return headers;
}

/** Kept-alive HTTP/1.1 connections to one origin, opened as requests need them. */
export class ConnectionPool {
  private readonly idle: Connection[] = [];
  private readonly open = new Set<Connection>();

  constructor(private readonly origin: Origin, private readonly options: ConnectionPoolOptions = {}) {}

  /** Sends `request` on an idle connection, or on a new one. Throws at once on a request that is not valid HTTP. */
  request(request: HttpRequest, hooks: RequestHooks = {}): PendingRequest {
    const head = requestHead(request);
    // A connection that closes while idle has already left `idle` (see connect), so any found here is open.
    const chosen = this.idle.pop() ?? this.connect();
    let exchange: Exchange | undefined;
    const response = new Promise<HttpResponse>((resolve, reject) => {
      exchange = chosen.send(head, request.body, resolve, reject);
    });
    if (!chosen.socket.connecting) hooks.onConnect?.();
    else chosen.socket.once('connect', () => hooks.onConnect?.());
    return { response, cancel: () => chosen.cancel(exchange!) };
  }

  /** How many connections are open, idle or busy. */
  get size(): number {
    return this.open.size;
  }

  /** Closes every connection; requests in flight reject. */
  destroy(): void {
    // Each connection leaves `open` and `idle` as it is destroyed.
    for (const connection of [...this.open]) connection.destroy();
  }

  private connect(): Connection {
    const connection = new Connection(
      this.origin,
      this.options.ca,
      (free) => this.idle.push(free),
      (gone) => {
        this.open.delete(gone);
        const at = this.idle.indexOf(gone);
        if (at >= 0) this.idle.splice(at, 1);
      },
    );
    this.open.add(connection);
    return connection;
  }
}
