import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { loopbackCertificate, type LoopbackCertificate } from '../../../bench/lib/tls.ts';
import { ConnectionPool, requestHead, type HttpRequest } from '../../../functions/common/http1.ts';
import { closedPort } from '../../fixtures/http.ts';
import { rejection } from '../../fixtures/promises.ts';

const REQUEST: HttpRequest = {
  method: 'POST',
  path: '/',
  headers: { host: '127.0.0.1', 'content-type': 'application/x-amz-json-1.0', 'content-length': '10' },
  body: '{"a":"\u00e9"}',
};

/** A raw TCP (or TLS) server: each connection's bytes are recorded, and `answer` writes what the test wants back. */
interface RawServer {
  readonly port: number;
  /** Bytes received, one string per connection, in the order connections were accepted. */
  readonly received: string[];
  /** The server names (SNI) that TLS clients sent, in order. */
  readonly serverNames: string[];
  connections(): number;
  stop(): Promise<void>;
}

/** Calls `answer` once per complete request (a request here always carries a Content-Length body). */
async function rawServer(answer: (socket: net.Socket, index: number) => void, secure?: { key: string; cert: string }): Promise<RawServer> {
  const received: string[] = [];
  const serverNames: string[] = [];
  const sockets = new Set<net.Socket>();
  let requests = 0;
  const onSocket = (socket: net.Socket) => {
    const at = received.push('') - 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      received[at] += chunk.toString('latin1');
      pending += chunk.toString('latin1');
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(pending.slice(0, end))?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        pending = pending.slice(end + 4 + length);
        answer(socket, requests++);
      }
    });
  };
  const sni = (name: string, done: (error: Error | null, context?: tls.SecureContext) => void) => {
    serverNames.push(name);
    done(null);
  };
  const server = secure ? tls.createServer({ ...secure, SNICallback: sni }, onSocket) : net.createServer(onSocket);
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let accepted = 0;
  server.on(secure ? 'secureConnection' : 'connection', () => (accepted += 1));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    serverNames,
    connections: () => accepted,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const answer = (body: string, headers: Record<string, string> = {}) =>
  `HTTP/1.1 200 OK\r\n${Object.entries({ 'content-length': String(Buffer.byteLength(body)), ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n${body}`;

describe('HTTP/1.1 transport (functions/common/http1.ts)', function () {
  this.timeout(20_000);
  const stops: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });
  async function serve(respond: (socket: net.Socket, index: number) => void, secure?: { key: string; cert: string }): Promise<RawServer> {
    const server = await rawServer(respond, secure);
    stops.push(() => server.stop());
    return server;
  }
  function pool(port: number, options: { protocol?: 'http:' | 'https:'; hostname?: string; ca?: string } = {}): ConnectionPool {
    const connections = new ConnectionPool({ protocol: options.protocol ?? 'http:', hostname: options.hostname ?? '127.0.0.1', port }, options.ca ? { ca: options.ca } : {});
    stops.push(() => connections.destroy());
    return connections;
  }

  describe('the request', () => {
    it('sends the request line, the headers in order and the UTF-8 body, and reads a Content-Length answer', async () => {
      const server = await serve((socket) => socket.write(answer('{"ok":"\u00fc"}', { 'x-amzn-RequestId': 'r-1' })));
      const response = await pool(server.port).request(REQUEST).response;
      expect(response).to.deep.equal({ status: 200, headers: { 'content-length': '11', 'x-amzn-requestid': 'r-1' }, body: '{"ok":"\u00fc"}' });
      expect(Buffer.from(server.received[0]!, 'latin1').toString('utf8')).to.equal(
        'POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: 10\r\n\r\n{"a":"\u00e9"}',
      );
    });

    it('refuses, before connecting, a method, path, header name or value that could split the request or is not ASCII', async () => {
      const server = await serve((socket) => socket.write(answer('{}')));
      const connections = pool(server.port);
      for (const bad of [
        { ...REQUEST, method: 'POST /evil' },
        { ...REQUEST, path: '/ HTTP/1.1\r\nx: y' },
        { ...REQUEST, path: 'relative' },
        { ...REQUEST, headers: { 'x-a\r\nx-b': '1' } },
        { ...REQUEST, headers: { 'x-amz-target': 'GetItem\r\nx-injected: 1' } },
        { ...REQUEST, headers: { 'x-amz-target': 'GetItem\n' } },
        { ...REQUEST, headers: { 'x-amz-target': 'Get\u0000Item' } },
        { ...REQUEST, headers: { 'x-amz-target': 'Get\u00e9Item' } },
      ]) {
        expect(() => connections.request(bad), JSON.stringify(bad)).to.throw(TypeError);
      }
      expect(connections.size).to.equal(0);
      expect(server.connections()).to.equal(0);
      expect(requestHead(REQUEST)).to.match(/^POST \/ HTTP\/1\.1\r\n/);
    });
  });

  describe('framing the answer', () => {
    it('reads a chunked answer, joining repeated headers as Node does', async () => {
      const server = await serve((socket) =>
        socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Seen: a\r\nX-Seen: b\r\n\r\n5\r\n{"ok"\r\n5\r\n:true\r\n1\r\n}\r\n0\r\n\r\n'),
      );
      const response = await pool(server.port).request(REQUEST).response;
      expect(response.body).to.equal('{"ok":true}');
      expect(response.headers['x-seen']).to.equal('a, b');
    });

    it('reads an answer that ends with the connection, and does not reuse that connection', async () => {
      const server = await serve((socket) => socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"ok":1}'));
      const connections = pool(server.port);
      expect((await connections.request(REQUEST).response).body).to.equal('{"ok":1}');
      expect((await connections.request(REQUEST).response).body).to.equal('{"ok":1}');
      expect(server.connections()).to.equal(2);
    });

    it('closes a connection whose answer says Connection: close, even while the server keeps it open', async () => {
      const server = await serve((socket) => socket.write(answer('{}', { connection: 'close' })));
      const connections = pool(server.port);
      await connections.request(REQUEST).response;
      expect(connections.size).to.equal(0);
      await connections.request(REQUEST).response;
      expect(server.connections()).to.equal(2);
    });

    it('ends a connection on which the server sends a second answer nobody asked for, even in the same packet', async () => {
      const server = await serve((socket, index) => socket.write(index === 0 ? `${answer('{"first":1}')}${answer('{"unasked":1}')}` : answer('{"second":1}')));
      const connections = pool(server.port);
      expect((await connections.request(REQUEST).response).body).to.equal('{"first":1}');
      expect(connections.size).to.equal(0);
      expect((await connections.request(REQUEST).response).body).to.equal('{"second":1}');
      expect(server.connections()).to.equal(2);
    });

    it('reads the next answer afresh when bytes of a partial extra answer followed the last one', async () => {
      const server = await serve((socket, index) => socket.write(index === 0 ? `${answer('{"first":1}')}HTTP/1.1 200 OK\r\ncontent-le` : answer('{"second":1}')));
      const connections = pool(server.port);
      expect((await connections.request(REQUEST).response).body).to.equal('{"first":1}');
      expect(await connections.request(REQUEST).response).to.deep.include({ status: 200, body: '{"second":1}' });
    });

    it('skips an interim 100 Continue answer and returns the final one', async () => {
      const server = await serve((socket) => socket.write(`HTTP/1.1 100 Continue\r\n\r\n${answer('{"final":true}')}`));
      const response = await pool(server.port).request(REQUEST).response;
      expect(response).to.include({ status: 200, body: '{"final":true}' });
    });

    it('reads an error status as an answer, not as a failure, so the caller can name the error', async () => {
      const server = await serve((socket) => socket.write(answer('{"__type":"ThrottlingException"}').replace('200 OK', '400 Bad Request')));
      const response = await pool(server.port).request(REQUEST).response;
      expect(response).to.include({ status: 400, body: '{"__type":"ThrottlingException"}' });
    });

    it('fails with ECONNRESET, "socket hang up", when the connection ends before the answer is complete', async () => {
      const server = await serve((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"cut":'));
      const connections = pool(server.port);
      const error = await rejection(connections.request(REQUEST).response);
      expect(error).to.include({ code: 'ECONNRESET', message: 'socket hang up' });
      expect(connections.size).to.equal(0);
    });

    it('fails on an answer that is not HTTP, and drops the connection', async () => {
      const server = await serve((socket) => socket.write('SSH-2.0-OpenSSH_9.6\r\n\r\n'));
      const connections = pool(server.port);
      const error = await rejection<Error>(connections.request(REQUEST).response);
      expect(error).to.be.instanceOf(Error);
      expect(error.message).to.match(/parse error/i);
      expect(connections.size).to.equal(0);
    });

    it('connects to an IPv6 address written in brackets, as a URL gives it', async function () {
      const server = net.createServer((socket) => socket.once('data', () => socket.end(answer('{"v6":true}'))));
      const listening = await new Promise<boolean>((resolve) => server.once('error', () => resolve(false)).listen(0, '::1', () => resolve(true)));
      if (!listening) this.skip();
      stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const connections = pool((server.address() as net.AddressInfo).port, { hostname: '[::1]' });
      expect((await connections.request(REQUEST).response).body).to.equal('{"v6":true}');
    });

    it('keeps a refused connection\'s error code, for the caller\'s retry policy', async () => {
      expect(await rejection(pool(await closedPort()).request(REQUEST).response)).to.include({ code: 'ECONNREFUSED' });
    });
  });

  describe('kept-alive connections', () => {
    it('reuses a connection once its answer is read, and opens one per request in flight', async () => {
      const server = await serve((socket, index) => socket.write(answer(JSON.stringify({ index }))));
      const connections = pool(server.port);
      await connections.request(REQUEST).response;
      await connections.request(REQUEST).response;
      expect(server.connections()).to.equal(1);
      await Promise.all([connections.request(REQUEST).response, connections.request(REQUEST).response, connections.request(REQUEST).response]);
      expect(server.connections()).to.equal(3);
      expect(connections.size).to.equal(3);
      await Promise.all([connections.request(REQUEST).response, connections.request(REQUEST).response]);
      expect(server.connections()).to.equal(3);
    });

    it('drops an idle connection the server closed, and connects again for the next request', async () => {
      const server = await serve((socket) => {
        socket.write(answer('{}'));
        setTimeout(() => socket.end(), 20);
      });
      const connections = pool(server.port);
      await connections.request(REQUEST).response;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(connections.size).to.equal(0);
      expect((await connections.request(REQUEST).response).status).to.equal(200);
      expect(server.connections()).to.equal(2);
    });

    it('destroys a cancelled request\'s connection and never reuses it', async () => {
      let answered = 0;
      const server = await serve((socket) => {
        if (answered++ > 0) socket.write(answer('{}'));
      });
      const connections = pool(server.port);
      const first = connections.request(REQUEST);
      await new Promise((resolve) => setTimeout(resolve, 50));
      first.cancel();
      expect(await rejection(first.response)).to.include({ code: 'ECANCELED' });
      expect(connections.size).to.equal(0);
      expect((await connections.request(REQUEST).response).status).to.equal(200);
      expect(server.connections()).to.equal(2);
    });

    it('does nothing when a request is cancelled after its answer is in, leaving the connection to the next request', async () => {
      const server = await serve((socket) => socket.write(answer('{}')));
      const connections = pool(server.port);
      const first = connections.request(REQUEST);
      await first.response;
      const second = connections.request(REQUEST);
      first.cancel();
      expect((await second.response).status).to.equal(200);
      expect(server.connections()).to.equal(1);
    });

    it('reports the connection as established at once when it reuses one, and after connecting when it opens one', async () => {
      const server = await serve((socket) => socket.write(answer('{}')));
      const connections = pool(server.port);
      const events: string[] = [];
      const first = connections.request(REQUEST, { onConnect: () => events.push('connected') });
      events.push('sent');
      await first.response;
      connections.request(REQUEST, { onConnect: () => events.push('reused') });
      events.push('sent again');
      expect(events).to.deep.equal(['sent', 'connected', 'reused', 'sent again']);
    });

    it('lets the process exit while a connection is idle', async () => {
      const server = await serve((socket) => socket.write(answer('{"ok":true}')));
      const script = [
        `import { ConnectionPool } from ${JSON.stringify(path.resolve('functions/common/http1.ts'))};`,
        `const pool = new ConnectionPool({ protocol: 'http:', hostname: '127.0.0.1', port: ${server.port} });`,
        `const response = await pool.request(${JSON.stringify(REQUEST)}).response;`,
        'console.log(response.body);',
      ].join('\n');
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const killer = setTimeout(() => child.kill(), 10_000);
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      clearTimeout(killer);
      expect(out.trim()).to.equal('{"ok":true}');
      expect(code, 'the child exited by itself').to.equal(0);
      expect(server.connections()).to.equal(1);
    });
  });

  describe('TLS', function () {
    this.timeout(60_000);
    let dir: string;
    let certificate: LoopbackCertificate;
    let root: string;
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'http1-tls-'));
      certificate = await loopbackCertificate(dir);
      root = await readFile(certificate.rootFile, 'utf8');
    });
    after(() => rm(dir, { recursive: true, force: true }));
    const secure = () => ({ key: certificate.key, cert: certificate.chain });

    it('verifies the server\'s chain up to a trusted root and reuses the connection', async () => {
      const server = await serve((socket) => socket.write(answer('{"tls":true}')), secure());
      const connections = pool(server.port, { protocol: 'https:', ca: root });
      let connected = 0;
      expect((await connections.request(REQUEST, { onConnect: () => (connected += 1) }).response).body).to.equal('{"tls":true}');
      expect(connected, 'onConnect fires for a TLS connection too').to.equal(1);
      expect((await connections.request(REQUEST).response).body).to.equal('{"tls":true}');
      expect(server.connections()).to.equal(1);
      expect(server.serverNames, 'no SNI for an IP address').to.deep.equal([]);
    });

    it('refuses a server whose chain it cannot verify, before sending anything', async () => {
      const server = await serve((socket) => socket.write(answer('{}')), secure());
      const error = await rejection(pool(server.port, { protocol: 'https:' }).request(REQUEST).response);
      expect(error).to.have.property('code').that.matches(/CERT|SIGNATURE|ISSUER/);
      expect(server.received.join('')).to.equal('');
    });

    it('refuses a certificate that does not name the host, and sends the host name as SNI', async () => {
      const server = await serve((socket) => socket.write(answer('{}')), secure());
      const error = await rejection(pool(server.port, { protocol: 'https:', hostname: 'localhost', ca: root }).request({ ...REQUEST, headers: { ...REQUEST.headers, host: 'localhost' } }).response);
      expect(error).to.include({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
      expect(server.serverNames).to.deep.equal(['localhost']);
      expect(server.received.join('')).to.equal('');
    });
  });
});
