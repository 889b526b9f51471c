import { SignatureV4 } from '@smithy/signature-v4';
import { expect } from 'chai';
import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loopbackCertificate } from '../../../bench/lib/tls.ts';
import { AwsJsonClient, COGNITO_USER_POOLS, DYNAMODB, RETRY, SES_V2, STEP_FUNCTIONS, resolveEndpoint } from '../../../functions/common/aws-json.ts';
import { SYNC_TRIGGER_BUDGET, type ClientBudget } from '../../../functions/common/budgets.ts';
import { closedPort } from '../../fixtures/http.ts';
import { rejection } from '../../fixtures/promises.ts';
import { awsJsonError, awsRestError, FORWARD, startBlackHole, startFaultProxy, type FaultProxy, type ProxiedRequest, type ProxyAction } from '../../reliability/lib/net.ts';

const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIAUNITTEST00000000', AWS_SECRET_ACCESS_KEY: 'unit-test-secret', AWS_SESSION_TOKEN: 'unit-test-session-token' };

/** An endpoint whose every answer comes from `answer`, recording each request. */
async function endpoint(answer: (request: ProxiedRequest) => ProxyAction): Promise<FaultProxy> {
  const proxy = await startFaultProxy('http://127.0.0.1:9');
  proxy.policy = answer;
  return proxy;
}

const ok = (body: object = {}): ProxyAction => ({ kind: 'respond', status: 200, body: JSON.stringify(body) });

function dynamo(url: string, options: { budget?: ClientBudget; env?: NodeJS.ProcessEnv; random?: () => number } = {}): AwsJsonClient {
  return new AwsJsonClient({
    service: DYNAMODB,
    budget: options.budget ?? SYNC_TRIGGER_BUDGET,
    env: { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_DYNAMODB: url, ...CREDENTIALS, ...options.env },
    random: options.random ?? (() => 0),
  });
}

class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', typeof secret === 'string' ? secret : Buffer.from(secret as Uint8Array));
  }
  update(data: Uint8Array) {
    this.hash.update(data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

describe('AWS JSON client (functions/common/aws-json.ts)', function () {
  this.timeout(20_000);
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });
  async function serve(answer: (request: ProxiedRequest) => ProxyAction): Promise<FaultProxy> {
    const proxy = await endpoint(answer);
    stops.push(() => proxy.stop());
    return proxy;
  }

  it('sends the operation as X-Amz-Target with the JSON body and the service protocol\'s content type', async () => {
    const server = await serve(() => ok({ Item: { pk: { S: 'a' } } }));
    const output = await dynamo(server.url).call('GetItem', { TableName: 't', Key: { pk: { S: 'a' } } });
    expect(output).to.deep.include({ Item: { pk: { S: 'a' } } });
    expect(output.$metadata).to.include({ httpStatusCode: 200, attempts: 1 });
    const { request } = server.log[0]!;
    expect(request).to.include({ method: 'POST', url: '/' });
    expect(request.headers).to.include({ 'x-amz-target': 'DynamoDB_20120810.GetItem', 'content-type': 'application/x-amz-json-1.0' });
    expect(JSON.parse(request.body)).to.deep.equal({ TableName: 't', Key: { pk: { S: 'a' } } });
  });

  it('signs with SigV4 for the service and region, with the environment\'s credentials and session token', async () => {
    const server = await serve(() => ok());
    await dynamo(server.url).call('PutItem', { TableName: 't', Item: {} });
    const { headers, body } = server.log[0]!.request;
    expect(headers['x-amz-security-token']).to.equal(CREDENTIALS.AWS_SESSION_TOKEN);
    const auth = String(headers.authorization);
    const date = String(headers['x-amz-date']);
    expect(auth).to.match(new RegExp(`^AWS4-HMAC-SHA256 Credential=${CREDENTIALS.AWS_ACCESS_KEY_ID}/${date.slice(0, 8)}/eu-west-1/dynamodb/aws4_request, SignedHeaders=`));
    const signed = /SignedHeaders=([^,]+)/.exec(auth)![1]!.split(';');
    expect(signed).to.include.members(['host', 'content-type', 'x-amz-date', 'x-amz-security-token', 'x-amz-target']);
    // An independent signer over what arrived must reach the same signature.
    const verifier = new SignatureV4({
      service: 'dynamodb',
      region: 'eu-west-1',
      sha256: NodeSha256,
      credentials: { accessKeyId: CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: CREDENTIALS.AWS_SECRET_ACCESS_KEY, sessionToken: CREDENTIALS.AWS_SESSION_TOKEN },
      applyChecksum: false,
    });
    const received = Object.fromEntries(signed.map((name) => [name, String(headers[name])]));
    const expected = await verifier.sign(
      { method: 'POST', protocol: 'http:', hostname: '127.0.0.1', path: '/', query: {}, headers: received, body },
      { signingDate: new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`) },
    );
    expect(auth).to.equal(expected.headers.authorization);
  });

  it('calls an HTTPS endpoint over a verified chain, kept alive across calls, and refuses one it cannot verify', async function () {
    this.timeout(60_000);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'aws-json-tls-'));
    stops.push(() => rm(dir, { recursive: true, force: true }));
    const certificate = await loopbackCertificate(dir);
    const hosts: string[] = [];
    const server = https.createServer({ key: certificate.key, cert: certificate.chain }, (request, response) => {
      hosts.push(String(request.headers.host));
      request.resume();
      request.on('end', () => response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{"Count":1}'));
    });
    let connections = 0;
    server.on('secureConnection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new AwsJsonClient({ service: DYNAMODB, budget: SYNC_TRIGGER_BUDGET, env: { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_DYNAMODB: url, ...CREDENTIALS }, ca: await readFile(certificate.rootFile, 'utf8') });
    stops.push(async () => client.destroy());
    expect(await client.call('Query', {})).to.deep.include({ Count: 1 });
    expect(await client.call('Query', {})).to.deep.include({ Count: 1 });
    expect(connections).to.equal(1);
    expect(hosts).to.deep.equal([url.slice('https://'.length), url.slice('https://'.length)]);
    const untrusting = dynamo(url);
    stops.push(async () => untrusting.destroy());
    const error = await rejection(untrusting.call('Query', {}));
    expect(error).to.have.property('code').that.matches(/CERT|SIGNATURE|ISSUER/);
    expect(error).to.not.have.property('name', 'TimeoutError');
    expect(hosts).to.have.length(2);
  });

  it('fails a call as the SDK does when the environment holds no credentials, and still loads', async () => {
    const server = await serve(() => ok());
    const client = dynamo(server.url, { env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' } });
    const error = await rejection(client.call('GetItem', {}));
    expect(error).to.include({ name: 'CredentialsProviderError', message: 'Unable to find environment variable credentials.' });
    expect(server.log).to.have.length(0);
  });

  describe('REST-JSON (SES v2)', () => {
    const SEND_EMAIL = { FromEmailAddress: 'no-reply@example.com', Destination: { ToAddresses: ['frodo@gmail.com'] }, Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } } } };
    function ses(url: string, env: NodeJS.ProcessEnv = {}): AwsJsonClient {
      return new AwsJsonClient({ service: SES_V2, budget: SYNC_TRIGGER_BUDGET, env: { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_SESV2: url, ...CREDENTIALS, ...env }, random: () => 0 });
    }

    it('POSTs the JSON body to the operation\'s path under the endpoint\'s own, without X-Amz-Target, signed for ses with the session token', async () => {
      const server = await serve(() => ok({ MessageId: 'm-1' }));
      const output = await ses(`${server.url}/base/`).callRest('POST', '/v2/email/outbound-emails', SEND_EMAIL);
      expect(output).to.deep.include({ MessageId: 'm-1' });
      const { request } = server.log[0]!;
      expect(request).to.include({ method: 'POST', url: '/base/v2/email/outbound-emails' });
      expect(request.headers).to.include({ 'content-type': 'application/json', 'x-amz-security-token': CREDENTIALS.AWS_SESSION_TOKEN });
      expect(request.headers).to.not.have.property('x-amz-target');
      expect(String(request.headers.authorization)).to.match(/\/eu-west-1\/ses\/aws4_request, /);
      expect(JSON.parse(request.body)).to.deep.equal(SEND_EMAIL);
    });

    it('resolves the regional endpoint email.<region> when no override is set', () => {
      expect(resolveEndpoint(SES_V2, 'eu-west-1', {})).to.deep.equal({ protocol: 'https:', hostname: 'email.eu-west-1.amazonaws.com', path: '/' });
    });

    it('names an error from X-Amzn-ErrorType, takes its message from the body, and does not retry a client fault', async () => {
      const server = await serve(() => awsRestError('MessageRejected', 400, 'Email address is not verified.'));
      const error = await rejection(ses(server.url).callRest('POST', '/v2/email/outbound-emails', SEND_EMAIL));
      expect(error).to.include({ name: 'MessageRejected', message: 'Email address is not verified.', $fault: 'client' });
      expect(server.log).to.have.length(1);
    });

    it('retries throttling with the same bytes, within the budget\'s attempts', async () => {
      const server = await serve(() => awsRestError('TooManyRequestsException', 429, 'Rate exceeded'));
      const error = await rejection(ses(server.url).callRest('POST', '/v2/email/outbound-emails', SEND_EMAIL));
      expect(error).to.include({ name: 'TooManyRequestsException' });
      expect(server.log).to.have.length(SYNC_TRIGGER_BUDGET.maxAttempts);
      expect(new Set(server.log.map((entry) => entry.request.body)).size).to.equal(1);
    });

    it('refuses an AWS JSON call on a REST-JSON service, naming the method to use', async () => {
      const error = await rejection(ses('http://127.0.0.1:9').call('SendEmail', SEND_EMAIL));
      expect(error).to.have.property('message').that.matches(/callRest/);
    });
  });

  describe('endpoints', () => {
    it('uses the regional endpoint, with the China partition\'s suffix and FIPS when asked', () => {
      expect(resolveEndpoint(DYNAMODB, 'eu-west-1', {})).to.deep.equal({ protocol: 'https:', hostname: 'dynamodb.eu-west-1.amazonaws.com', path: '/' });
      expect(resolveEndpoint(STEP_FUNCTIONS, 'cn-north-1', {}).hostname).to.equal('states.cn-north-1.amazonaws.com.cn');
      expect(resolveEndpoint(COGNITO_USER_POOLS, 'us-gov-west-1', { AWS_USE_FIPS_ENDPOINT: 'true' }).hostname).to.equal('cognito-idp-fips.us-gov-west-1.amazonaws.com');
    });

    it('takes AWS_ENDPOINT_URL_<SERVICE> before AWS_ENDPOINT_URL, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true', () => {
      const env = { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000', AWS_ENDPOINT_URL: 'http://localhost:4566' };
      expect(resolveEndpoint(DYNAMODB, 'eu-west-1', env)).to.deep.equal({ protocol: 'http:', hostname: '127.0.0.1', port: 8000, path: '/' });
      expect(resolveEndpoint(STEP_FUNCTIONS, 'eu-west-1', env)).to.deep.include({ hostname: 'localhost', port: 4566 });
      expect(resolveEndpoint(COGNITO_USER_POOLS, 'eu-west-1', { AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: 'https://cognito.local' }).hostname).to.equal('cognito.local');
      expect(resolveEndpoint(DYNAMODB, 'eu-west-1', { ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }).hostname).to.equal('dynamodb.eu-west-1.amazonaws.com');
    });

    it('refuses at construction, naming the variable, what it cannot honour', () => {
      const build = (env: NodeJS.ProcessEnv) => () => new AwsJsonClient({ service: DYNAMODB, budget: SYNC_TRIGGER_BUDGET, env: { ...CREDENTIALS, ...env } });
      expect(build({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_DYNAMODB: 'not a url' })).to.throw('AWS_ENDPOINT_URL_DYNAMODB is not a URL');
      expect(build({ AWS_REGION: 'eu-west-1', AWS_USE_DUALSTACK_ENDPOINT: 'true' })).to.throw(/AWS_USE_DUALSTACK_ENDPOINT/);
      expect(build({})).to.throw(/AWS_REGION is not set/);
      expect(build({ AWS_REGION: 'mars-1' })).to.throw(/unknown AWS region/);
    });
  });

  describe('errors', () => {
    it('names an error answer by its code as the SDK does, and keeps its fields and metadata', async () => {
      const item = { pk: { S: 'a' }, attempts: { N: '3' } };
      const server = await serve(() => ({
        kind: 'respond',
        status: 400,
        body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', message: 'The conditional request failed', Item: item }),
        headers: { 'x-amzn-requestid': 'req-1' },
      }));
      const error = await rejection(dynamo(server.url).call('UpdateItem', {}));
      expect(error).to.include({ name: 'ConditionalCheckFailedException', message: 'The conditional request failed', $fault: 'client' });
      expect(error).to.have.deep.property('Item', item);
      expect(error).to.have.deep.property('$metadata', { httpStatusCode: 400, requestId: 'req-1', attempts: 1, totalRetryDelay: 0 });
      // Not retried: a failed condition is an answer.
      expect(server.log).to.have.length(1);
    });

    it('prefers the X-Amzn-ErrorType header and strips its details', async () => {
      const server = await serve(() => ({ kind: 'respond', status: 400, body: '{"message":"m"}', headers: { 'x-amzn-errortype': 'ExecutionAlreadyExists:http://internal.amazon.com/' } }));
      expect(await rejection(new AwsJsonClient({ service: STEP_FUNCTIONS, budget: SYNC_TRIGGER_BUDGET, env: { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: server.url, ...CREDENTIALS } }).call('StartExecution', {}))).to.include({
        name: 'ExecutionAlreadyExists',
      });
    });
  });

  describe('retries (the SDK\'s standard mode)', () => {
    it('retries throttling, 5xx and resets up to maxAttempts, sending the same body every time', async () => {
      for (const [fault, action] of [
        ['ThrottlingException', awsJsonError('ThrottlingException', 400)],
        ['ProvisionedThroughputExceededException', awsJsonError('com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', 400)],
        ['InternalServerError', awsJsonError('InternalServerError', 500)],
        ['ServiceUnavailable', awsJsonError('ServiceUnavailable', 503)],
        ['reset', { kind: 'reset' }],
      ] as Array<[string, ProxyAction]>) {
        let seen = 0;
        const server = await serve((request) => (++seen === 1 ? action : FORWARD(request) && ok({ ok: fault })));
        const output = await dynamo(server.url).call('UpdateItem', { attemptId: 'a-1' });
        expect(output, fault).to.deep.include({ ok: fault });
        expect(output.$metadata.attempts, fault).to.equal(2);
        const [first, second] = server.log.map((l) => l.request);
        expect(second!.body, fault).to.equal(first!.body);
        expect(first!.headers['amz-sdk-request'], fault).to.equal('attempt=1; max=2');
        expect(second!.headers['amz-sdk-request'], fault).to.equal('attempt=2; max=2');
        expect(second!.headers['amz-sdk-invocation-id'], fault).to.equal(first!.headers['amz-sdk-invocation-id']);
      }
    });

    it('gives up after maxAttempts with the last error, named TimeoutError for a reset', async () => {
      const server = await serve(() => ({ kind: 'reset' }));
      const error = await rejection(dynamo(server.url).call('UpdateItem', {}));
      expect(error).to.have.property('name', 'TimeoutError');
      expect(error).to.have.nested.property('$metadata.attempts', 2);
      expect(server.log).to.have.length(SYNC_TRIGGER_BUDGET.maxAttempts);
    });

    it('retries a refused connection, which keeps its own name as with the SDK\'s HTTP handler', async () => {
      const error = await rejection(dynamo(`http://127.0.0.1:${await closedPort()}`).call('UpdateItem', {}));
      expect(error).to.include({ code: 'ECONNREFUSED' });
      expect(error).to.not.have.property('name', 'TimeoutError');
      expect(error).to.have.nested.property('$metadata.attempts', SYNC_TRIGGER_BUDGET.maxAttempts);
    });

    it('does not retry client errors', async () => {
      const server = await serve(() => awsJsonError('ValidationException', 400));
      expect(await rejection(dynamo(server.url).call('UpdateItem', {}))).to.have.property('name', 'ValidationException');
      expect(server.log).to.have.length(1);
    });

    it('waits a full-jitter backoff from a 50 ms base, 1 s for throttling, and honours x-amz-retry-after', async () => {
      const cases: Array<[string, ProxyAction, number]> = [
        ['transient', awsJsonError('InternalServerError', 500), 0.5 * RETRY.baseDelayMs],
        ['throttling', awsJsonError('ThrottlingException', 400), 0.5 * RETRY.throttlingBaseDelayMs],
        ['hint', { ...awsJsonError('InternalServerError', 500), headers: { 'x-amzn-errortype': 'InternalServerError', 'x-amz-retry-after': '300' } } as ProxyAction, 300],
      ];
      for (const [name, action, delay] of cases) {
        let seen = 0;
        const server = await serve(() => (++seen === 1 ? action : ok()));
        const output = await dynamo(server.url, { random: () => 0.5 }).call('UpdateItem', {});
        expect(output.$metadata.totalRetryDelay, name).to.equal(delay);
      }
    });

    it('stops retrying when the client\'s retry quota is spent, and refills it with successes', async () => {
      let failing = true;
      const server = await serve(() => (failing ? awsJsonError('InternalServerError', 500) : ok()));
      const client = dynamo(server.url);
      const retries = Math.floor(RETRY.initialCapacity / RETRY.transientCost);
      for (let i = 0; i < retries + 3; i++) await rejection(client.call('UpdateItem', {}));
      // Each call is one request plus a retry while the quota lasts.
      expect(server.log).to.have.length(retries + 3 + retries);
      // Each success without a retry gives one token back; enough of them buy one more retry.
      failing = false;
      for (let i = 0; i < RETRY.transientCost; i++) await client.call('UpdateItem', {});
      failing = true;
      const before = server.log.length;
      await rejection(client.call('UpdateItem', {}));
      expect(server.log.length - before).to.equal(2);
    });

    it('gives up on a hung dependency after the request timeout of each attempt', async () => {
      const hole = await startBlackHole();
      stops.push(() => hole.stop());
      const budget = { connectionTimeoutMs: 500, requestTimeoutMs: 300, maxAttempts: 2 };
      const started = performance.now();
      const error = await rejection(dynamo(hole.url, { budget }).call('GetItem', {}));
      const elapsed = performance.now() - started;
      expect(error).to.include({ name: 'TimeoutError', code: 'ETIMEDOUT' });
      expect(elapsed).to.be.within(2 * budget.requestTimeoutMs, 2 * budget.requestTimeoutMs + 1_000);
      expect(hole.connections()).to.equal(2);
    });

    it('stops at once, without retrying, when the caller aborts', async () => {
      const hole = await startBlackHole();
      stops.push(() => hole.stop());
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 100);
      const started = performance.now();
      const error = await rejection(dynamo(hole.url).call('GetItem', {}, { abortSignal: abort.signal }));
      expect(error).to.have.property('name', 'AbortError');
      expect(performance.now() - started).to.be.below(SYNC_TRIGGER_BUDGET.requestTimeoutMs);
      expect(hole.connections()).to.equal(1);
    });
  });
});
