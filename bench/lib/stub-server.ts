/**
 * A loopback HTTP server (HTTPS for the TLS rounds of bench/lib/tls.ts) that answers every remote call
 * the functions make, instantly and with a minimal valid response: DynamoDB, SES v2, Step Functions,
 * Cognito, KMS, Secrets Manager, SendGrid and Twilio. The functions reach it through the same
 * `AWS_ENDPOINT_URL_<SERVICE>` variables and API base URLs the sandbox uses, so the warm benchmark runs
 * the production code path unchanged while no time is spent anywhere but in our code, the SDK's
 * (de)serialisation and one loopback round trip.
 *
 * KMS is stateless: a data key's "ciphertext" is a marker followed by the plaintext key, so anything
 * encrypted through this stub can be decrypted through it again.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { BENCH_KMS_KEY_ARN, BENCH_REGION } from './env.ts';

const KMS_MARKER = Buffer.from('bench-kms:');
const ACCOUNT = '123456789012';

/** Per-operation overrides, e.g. `{ 'AWSCognitoIdentityProviderService.AdminGetUser': {...} }`. */
export type StubOverrides = Record<string, unknown>;

export interface StubServer {
  readonly url: string;
  /** Calls answered, by operation (`DynamoDB_20120810.PutItem`, `POST /v3/mail/send`, ...). */
  readonly calls: Map<string, number>;
  /** Requests no route knew; a non-empty list means the warm figures include error paths. */
  readonly unknown: string[];
  /** Replaces the per-operation responses (used per function). */
  setOverrides(overrides: StubOverrides): void;
  /** TLS connections accepted so far (0 for the plain-HTTP stub). */
  tlsConnections(): number;
  resetCounts(): void;
  close(): Promise<void>;
}

function kmsCiphertext(plaintext: Buffer): string {
  return Buffer.concat([KMS_MARKER, plaintext]).toString('base64');
}

function defaultAwsResponse(target: string, body: Record<string, unknown>): unknown {
  const [service = '', op = ''] = target.split('.');
  switch (service) {
    case 'DynamoDB_20120810':
      if (op === 'Query' || op === 'Scan') return { Items: [], Count: 0, ScannedCount: 0 };
      if (op === 'BatchWriteItem') return { UnprocessedItems: {} };
      if (op === 'BatchGetItem') return { Responses: {}, UnprocessedKeys: {} };
      return {};
    case 'AWSStepFunctions':
      if (op === 'StartExecution') {
        return { executionArn: `arn:aws:states:${BENCH_REGION}:${ACCOUNT}:execution:bench:${String(body.name ?? 'x')}`, startDate: Date.now() / 1000 };
      }
      return {};
    case 'AWSCognitoIdentityProviderService':
      if (op === 'AdminGetUser' || op === 'GetUser') {
        return {
          Username: String(body.Username ?? 'frodo'),
          UserStatus: 'UNCONFIRMED',
          Enabled: true,
          UserCreateDate: Date.now() / 1000 - 86_400,
          UserLastModifiedDate: Date.now() / 1000 - 86_400,
          UserAttributes: [
            { Name: 'sub', Value: '0b8f0a5e-0000-4000-8000-000000000001' },
            { Name: 'email', Value: 'frodo@gmail.com' },
            { Name: 'email_verified', Value: 'true' },
            { Name: 'name', Value: 'Frodo Baggins' },
            { Name: 'given_name', Value: 'Frodo' },
          ],
        };
      }
      if (op === 'InitiateAuth' || op === 'AdminInitiateAuth') {
        return { AuthenticationResult: { AccessToken: 'bench.access.token', IdToken: 'bench.id.token', RefreshToken: 'bench-refresh', ExpiresIn: 3600, TokenType: 'Bearer' } };
      }
      return {};
    case 'TrentService': {
      if (op === 'GenerateDataKey') {
        const key = randomBytes(Number(body.NumberOfBytes ?? 32));
        return { KeyId: BENCH_KMS_KEY_ARN, Plaintext: key.toString('base64'), CiphertextBlob: kmsCiphertext(key) };
      }
      if (op === 'Encrypt') {
        return { KeyId: BENCH_KMS_KEY_ARN, CiphertextBlob: kmsCiphertext(Buffer.from(String(body.Plaintext ?? ''), 'base64')) };
      }
      if (op === 'Decrypt') {
        const blob = Buffer.from(String(body.CiphertextBlob ?? ''), 'base64');
        return { KeyId: BENCH_KMS_KEY_ARN, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT', Plaintext: blob.subarray(KMS_MARKER.length).toString('base64') };
      }
      return {};
    }
    case 'secretsmanager':
      if (op === 'GetSecretValue') {
        const id = String(body.SecretId ?? '');
        const value = id.includes('twilio')
          ? { accountSid: 'AC00000000000000000000000000000000', authToken: 'bench-auth-token', fromNumber: '+15005550006' }
          : { apiKey: 'SG.bench-api-key' };
        return { ARN: id, Name: id.split(':').pop(), VersionId: 'v1', SecretString: JSON.stringify(value), VersionStages: ['AWSCURRENT'], CreatedDate: 1_700_000_000 };
      }
      return {};
    default:
      return undefined;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': 'bench-request' });
  res.end(text);
}

/** How the stub is served: plain HTTP unless a key and certificate chain (PEM) are given. */
export interface StubOptions {
  readonly tls?: { readonly key: string; readonly cert: string };
}

/** Starts the stub on a free loopback port. */
export async function startStubServer(options: StubOptions = {}): Promise<StubServer> {
  const calls = new Map<string, number>();
  const unknown: string[] = [];
  let overrides: StubOverrides = {};
  const count = (key: string) => calls.set(key, (calls.get(key) ?? 0) + 1);

  const listener: RequestListener = async (req, res) => {
    const raw = await readBody(req);
    const target = req.headers['x-amz-target'];
    const url = new URL(req.url ?? '/', 'http://stub');
    if (typeof target === 'string') {
      count(target);
      let body: Record<string, unknown> = {};
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        // A body that is not JSON still gets an answer; the call count shows it happened.
      }
      const reply = target in overrides ? overrides[target] : defaultAwsResponse(target, body);
      if (reply === undefined) {
        unknown.push(target);
        send(res, 400, { __type: 'UnknownOperationException', message: `bench stub has no answer for ${target}` }, 'application/x-amz-json-1.1');
        return;
      }
      const json10 = target.startsWith('DynamoDB_') || target.startsWith('AWSStepFunctions');
      send(res, 200, reply, json10 ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1');
      return;
    }
    const route = `${req.method} ${url.pathname.replace(/\/Accounts\/[^/]+\//, '/Accounts/{sid}/')}`;
    count(route);
    if (route in overrides) return send(res, 200, overrides[route]);
    if (req.method === 'GET' && url.pathname === '/ping') return send(res, 200, { ok: true });
    if (req.method === 'POST' && url.pathname === '/v2/email/outbound-emails') return send(res, 200, { MessageId: 'bench-message-id' });
    if (req.method === 'POST' && url.pathname === '/v3/mail/send') return send(res, 202, undefined);
    if (req.method === 'POST' && /^\/2010-04-01\/Accounts\/[^/]+\/Messages\.json$/.test(url.pathname)) {
      return send(res, 201, { sid: 'SM00000000000000000000000000000000', status: 'queued', to: '+15005550006', date_created: new Date().toUTCString() });
    }
    unknown.push(route);
    send(res, 404, { message: `bench stub has no route for ${route}` });
  };
  const server: Server | HttpsServer = options.tls ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, listener) : createServer(listener);
  let secured = 0;
  server.on('secureConnection', () => secured++);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    tlsConnections: () => secured,
    calls,
    unknown,
    setOverrides(next) {
      overrides = next;
    },
    resetCounts() {
      calls.clear();
      unknown.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
