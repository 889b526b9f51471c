/**
 * Small HTTP helpers shared by the sandbox's stand-in services: loopback-only listening, body
 * reading, and the AWS JSON protocol's response and error shapes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Every sandbox service binds here and nowhere else. */
export const LOOPBACK = '127.0.0.1';

/** A started HTTP server and how to stop it, closing keep-alive sockets too. */
export interface Listening {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (port 0 picks a free one) and tracks sockets so `close` never hangs. */
export async function listen(server: Server, port = 0): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, LOOPBACK, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return adopt(server);
}

/** Wraps a server that is already listening. */
export function adopt(server: Server): Listening {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    url: `http://${LOOPBACK}:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Request handler that may be async; thrown errors become 500s. */
export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => unknown;

/** A server whose handler receives the whole body. */
export function bodyServer(handler: Handler): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      Promise.resolve()
        .then(() => handler(req, res, Buffer.concat(chunks)))
        .catch((error: unknown) => {
          if (!res.headersSent) sendJson(res, 500, { message: error instanceof Error ? error.message : String(error) });
          else res.end();
        });
    });
  });
}

/** Whether `origin` is a page served from this machine (127.0.0.1, localhost or ::1, any port). */
export function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && (url.hostname === LOOPBACK || url.hostname === 'localhost' || url.hostname === '[::1]');
  } catch {
    return false;
  }
}

/**
 * Lets browser apps call a service cross-origin, as AWS's public endpoints do, but only from pages
 * served on this machine: the sandbox accepts any credentials, so a web page elsewhere must not reach it.
 * Answers preflights itself; `exposeHeaders` are the response headers scripts may read.
 */
export function withCors(handler: Handler, exposeHeaders: readonly string[] = []): Handler {
  return (req, res, body) => {
    const origin = req.headers.origin;
    const allowed = typeof origin === 'string' && isLoopbackOrigin(origin);
    if (allowed) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
      if (exposeHeaders.length > 0) res.setHeader('access-control-expose-headers', exposeHeaders.join(', '));
    }
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      res.writeHead(
        allowed ? 204 : 403,
        allowed
          ? { 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '', 'access-control-max-age': '600', 'content-length': 0 }
          : { 'content-length': 0 },
      );
      return res.end();
    }
    return handler(req, res, body);
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** An error in the AWS JSON protocol, which the SDK turns into an exception of that name. */
export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** The JSON protocol's operation name, from `X-Amz-Target: <Service>.<Operation>`. */
export function awsOperation(req: IncomingMessage): string | undefined {
  const target = req.headers['x-amz-target'];
  if (typeof target !== 'string') return undefined;
  return target.slice(target.lastIndexOf('.') + 1);
}

/** Serves one AWS JSON-protocol service from a table of operations. */
export function awsJsonHandler(
  version: '1.0' | '1.1',
  operations: Record<string, (input: Record<string, unknown>) => unknown | Promise<unknown>>,
): Handler {
  const contentType = `application/x-amz-json-${version}`;
  return async (req, res, body) => {
    const operation = awsOperation(req);
    try {
      const op = operation ? operations[operation] : undefined;
      if (!op) throw new AwsError('UnknownOperationException', `Operation ${operation ?? '(none)'} is not served by the sandbox`);
      const input = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
      const output = (await op(input)) ?? {};
      const text = JSON.stringify(output);
      res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    } catch (error) {
      const aws = error instanceof AwsError ? error : new AwsError('InternalFailure', error instanceof Error ? error.message : String(error), 500);
      const text = JSON.stringify({ __type: aws.type, message: aws.message });
      res.writeHead(aws.status, { 'content-type': contentType, 'x-amzn-errortype': aws.type, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    }
  };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(everyMs);
  }
}
