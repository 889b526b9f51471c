/**
 * Cross-origin access to the sandbox's endpoints: browser apps served from this machine may call them
 * (as they call AWS's public endpoints), web pages from anywhere else may not.
 */
import { expect } from 'chai';
import { bodyServer, isLoopbackOrigin, listen, sendJson, withCors, type Listening } from '../../../sandbox/lib/http.ts';

describe('sandbox HTTP helpers: withCors', () => {
  let server: Listening;
  let handled = 0;

  before(async () => {
    server = await listen(bodyServer(withCors((_req, res) => (handled++, sendJson(res, 200, { ok: true }, { 'x-amzn-errortype': 'None' })), ['x-amzn-ErrorType'])));
  });
  after(() => server.close());
  beforeEach(() => (handled = 0));

  const preflight = (origin: string) => fetch(server.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-amz-target,x-amz-user-agent' } });

  it('tells loopback origins apart from every other', () => {
    for (const origin of ['http://127.0.0.1:3000', 'http://localhost:5173', 'https://localhost', 'http://[::1]:8080']) expect(isLoopbackOrigin(origin), origin).to.equal(true);
    for (const origin of ['https://evil.example', 'http://127.0.0.1.evil.example', 'http://localhost.evil.example:3000', 'http://10.0.0.1:3000', 'file://', 'null', '']) expect(isLoopbackOrigin(origin), origin).to.equal(false);
  });

  it('grants a preflight from a page on this machine the headers it asks for, without calling the handler', async () => {
    const answer = await preflight('http://127.0.0.1:3000');
    expect(answer.status).to.equal(204);
    expect(answer.headers.get('access-control-allow-origin')).to.equal('http://127.0.0.1:3000');
    expect(answer.headers.get('access-control-allow-headers')).to.equal('content-type,x-amz-target,x-amz-user-agent');
    expect(answer.headers.get('access-control-allow-methods')).to.include('POST');
    expect(handled).to.equal(0);
  });

  it('lets such a page read the answer and the exposed headers', async () => {
    const answer = await fetch(server.url, { method: 'POST', headers: { origin: 'http://localhost:3000' }, body: '{}' });
    expect(answer.headers.get('access-control-allow-origin')).to.equal('http://localhost:3000');
    expect(answer.headers.get('access-control-expose-headers')).to.equal('x-amzn-ErrorType');
    expect(answer.headers.get('vary')).to.equal('Origin');
    expect(handled).to.equal(1);
  });

  it('refuses a preflight from any other origin, and grants its requests nothing', async () => {
    const answer = await preflight('https://evil.example');
    expect(answer.status).to.equal(403);
    expect(answer.headers.get('access-control-allow-origin')).to.equal(null);
    const direct = await fetch(server.url, { method: 'POST', headers: { origin: 'https://evil.example' }, body: '{}' });
    expect(direct.headers.get('access-control-allow-origin')).to.equal(null);
  });

  it('leaves requests without an Origin (SDKs, curl) as they were', async () => {
    const answer = await fetch(server.url, { method: 'POST', body: '{}' });
    expect(answer.status).to.equal(200);
    expect(answer.headers.get('access-control-allow-origin')).to.equal(null);
  });
});
