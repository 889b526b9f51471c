/**
 * Network fault injection on loopback: a black-hole TCP server (accepts, never answers) and an HTTP
 * proxy whose per-request policy can forward, delay, hang, reset the connection or answer with an
 * AWS-shaped error, so the real SDK clients meet real network failures and deserialize real error classes.
 */
import http from 'node:http';
import net from 'node:net';

/** A server that was started by a test and must be stopped by it. */
export interface Stoppable {
  stop(): Promise<void>;
}

/** A TCP server that accepts every connection and never sends a byte. */
export interface BlackHole extends Stoppable {
  readonly url: string;
  /** Connections accepted so far. */
  readonly connections: () => number;
}

/** Starts a black hole on a free loopback port. */
export async function startBlackHole(): Promise<BlackHole> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => accepted,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What the proxy does with one request. */
export type ProxyAction =
  | { kind: 'forward'; delayMs?: number }
  /** The upstream processes the request, but its answer is dropped and the connection reset. */
  | { kind: 'forward-drop-answer' }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'respond'; status: number; body: string; headers?: Record<string, string> };

/** What a policy sees of a request. */
export interface ProxiedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** 1-based number of this request since the proxy started. */
  readonly seq: number;
}

export type ProxyPolicy = (request: ProxiedRequest) => ProxyAction;

export const FORWARD: ProxyPolicy = () => ({ kind: 'forward' });

/** An HTTP proxy in front of one upstream, with a policy that a test can change at any time. */
export interface FaultProxy extends Stoppable {
  readonly url: string;
  policy: ProxyPolicy;
  /** Every request seen, with the action taken. */
  readonly log: Array<{ request: ProxiedRequest; action: ProxyAction['kind'] }>;
}

/** Starts a proxy on a free loopback port that forwards to `upstream` unless the policy says otherwise. */
export async function startFaultProxy(upstream: string, policy: ProxyPolicy = FORWARD): Promise<FaultProxy> {
  const target = new URL(upstream);
  const sockets = new Set<net.Socket>();
  const pending = new Set<NodeJS.Timeout>();
  let seq = 0;
  const proxy: FaultProxy = {
    url: '',
    policy,
    log: [],
    stop: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seq += 1;
      const body = Buffer.concat(chunks);
      const request: ProxiedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: body.toString('utf8'), seq };
      const action = proxy.policy(request);
      proxy.log.push({ request, action: action.kind });
      switch (action.kind) {
        case 'hang':
          return;
        case 'reset':
          req.socket.destroy();
          return;
        case 'respond':
          res.writeHead(action.status, { 'content-type': 'application/x-amz-json-1.0', ...action.headers });
          res.end(action.body);
          return;
        case 'forward-drop-answer': {
          const upstreamReq = http.request(
            { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
            (upstreamRes) => {
              upstreamRes.resume();
              upstreamRes.on('end', () => req.socket.destroy());
            },
          );
          upstreamReq.on('error', () => req.socket.destroy());
          upstreamReq.end(body);
          return;
        }
        case 'forward': {
          const send = () => {
            const upstreamReq = http.request(
              { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
              (upstreamRes) => {
                res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
                upstreamRes.pipe(res);
              },
            );
            upstreamReq.on('error', () => req.socket.destroy());
            upstreamReq.end(body);
          };
          if (action.delayMs) {
            const t = setTimeout(() => {
              pending.delete(t);
              send();
            }, action.delayMs);
            pending.add(t);
          } else send();
        }
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      for (const t of pending) clearTimeout(t);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return proxy;
}

/** An AWS JSON-protocol error answer, which the SDK turns into the named exception class. */
export function awsJsonError(type: string, status = 400, message = 'injected by the reliability suite'): ProxyAction {
  return { kind: 'respond', status, body: JSON.stringify({ __type: type, message }), headers: { 'x-amzn-errortype': type } };
}

/** An AWS REST-JSON error answer (SES v2), which the SDK turns into the named exception class. */
export function awsRestError(type: string, status: number, message = 'injected by the reliability suite'): ProxyAction {
  return {
    kind: 'respond',
    status,
    body: JSON.stringify({ message }),
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': type },
  };
}

/** Milliseconds taken by `fn`, with its outcome. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const t0 = performance.now();
  try {
    const value = await fn();
    return { ms: performance.now() - t0, value };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}
