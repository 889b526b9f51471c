/**
 * The synchronous triggers' AWS client: one signed JSON request over HTTP/1.1 (`./http1.ts`), for the AWS JSON
 * protocol services they call (DynamoDB, Step Functions, Cognito user pools), and for the one REST-JSON
 * operation they call (SES v2 SendEmail, `POST /v2/email/outbound-emails`).
 *
 * Why not the SDK: each of these triggers makes one or two small JSON requests per invocation, while
 * an SDK client costs about 30 ms of CPU to load and as much again on its first call (middleware
 * stack, endpoint rules, schema serde, credential chain; docs/performance.md), all of it in front of
 * a user on every cold start. Signing is left to `@smithy/signature-v4`, the SDK's own SigV4 signer.
 *
 * What it keeps from the SDK, so that the functions' logic and its tests see no difference:
 * - the same {@link ClientBudget}: a connection timeout from the start of each request to its TCP
 *   connection, a request timeout (which here also covers reading the answer), and `maxAttempts`;
 * - the SDK's standard retry mode: throttling, transient (timeouts, resets, 500/502/503/504) errors
 *   retried with full-jitter exponential backoff (50 ms base, 1 s for throttling, Retry-After
 *   honoured), a retry quota per client, and every attempt sending the same bytes, which is what
 *   the lockout's attempt ids rely on (docs/lockout.md);
 * - credentials from the environment Lambda sets (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
 *   `AWS_SESSION_TOKEN`), the only source a function has;
 * - endpoint overrides as the SDK reads them (`AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`,
 *   `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`) and FIPS endpoints (`AWS_USE_FIPS_ENDPOINT`);
 * - errors named as the SDK names them (the service's error code, `TimeoutError` for timeouts and
 *   resets, `AbortError`), with `$fault`, `$metadata` and the error's own fields (a failed condition's `Item`).
 *
 * Endpoint, credentials and signer are resolved once, when the client is built at module scope.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { ClientBudget } from './budgets.ts';
import { ConnectionPool, type HttpResponse, type PendingRequest } from './http1.ts';

/** What identifies an AWS service's endpoint and signature. */
export interface AwsService {
  /** First label of the regional endpoint: `dynamodb`, `states`, `cognito-idp`, `email`. */
  readonly endpointPrefix: string;
  /** The SigV4 service name. */
  readonly signingName: string;
  /** The SDK's service id, as in `AWS_ENDPOINT_URL_<id>`. */
  readonly endpointId: string;
}

/** What identifies an AWS JSON-protocol service on the wire. */
export interface AwsJsonService extends AwsService {
  /** Prefix of the `X-Amz-Target` header. */
  readonly targetPrefix: string;
  /** The protocol version in the content type (`application/x-amz-json-1.0`). */
  readonly jsonVersion: '1.0' | '1.1';
}

export const DYNAMODB: AwsJsonService = { endpointPrefix: 'dynamodb', signingName: 'dynamodb', targetPrefix: 'DynamoDB_20120810', jsonVersion: '1.0', endpointId: 'DYNAMODB' };
export const STEP_FUNCTIONS: AwsJsonService = { endpointPrefix: 'states', signingName: 'states', targetPrefix: 'AWSStepFunctions', jsonVersion: '1.0', endpointId: 'SFN' };
export const COGNITO_USER_POOLS: AwsJsonService = {
  endpointPrefix: 'cognito-idp',
  signingName: 'cognito-idp',
  targetPrefix: 'AWSCognitoIdentityProviderService',
  jsonVersion: '1.1',
  endpointId: 'COGNITO_IDENTITY_PROVIDER',
};
/** SES v2, a REST-JSON service: its operations are called with {@link AwsJsonClient.callRest}. */
export const SES_V2: AwsService = { endpointPrefix: 'email', signingName: 'ses', endpointId: 'SESV2' };

/** Response metadata, as the SDK attaches it to outputs and errors. */
export interface ResponseMetadata {
  httpStatusCode?: number;
  requestId?: string;
  attempts?: number;
  totalRetryDelay?: number;
}

/** An error answer from the service, named by its error code (`ConditionalCheckFailedException`, ...). */
export class AwsServiceError extends Error {
  override readonly name: string;
  /** Who is at fault, as the SDK says it: `server` for 5xx answers. */
  readonly $fault: 'client' | 'server';
  readonly $metadata: ResponseMetadata;

  constructor(name: string, message: string, metadata: ResponseMetadata, fields: Record<string, unknown>) {
    super(message);
    // The error's own members (e.g. the Item of a failed condition) first, so they cannot replace ours.
    Object.assign(this, fields);
    this.name = name;
    this.$fault = (metadata.httpStatusCode ?? 0) >= 500 ? 'server' : 'client';
    this.$metadata = metadata;
  }
}

/** The SDK's throttling error codes (standard retry mode). */
const THROTTLING = new Set([
  'BandwidthLimitExceeded', 'EC2ThrottledException', 'LimitExceededException', 'PriorRequestNotComplete', 'ProvisionedThroughputExceededException',
  'RequestLimitExceeded', 'RequestThrottled', 'RequestThrottledException', 'SlowDown', 'ThrottledException', 'Throttling', 'ThrottlingException',
  'TooManyRequestsException', 'TransactionInProgressException',
]);
const TRANSIENT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);
/** Socket errors the SDK's HTTP handler renames `TimeoutError` (a connection cut short is `ECONNRESET`). */
const TIMEOUT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);
/** Socket error codes the SDK's standard retry mode retries as transient (a refused connection too, under its own name). */
const RETRIED_CODES = new Set([...TIMEOUT_CODES, 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** The standard retry mode's figures (the SDK's 2026 retry configuration). */
export const RETRY = {
  baseDelayMs: 50,
  throttlingBaseDelayMs: 1_000,
  maxDelayMs: 20_000,
  /** A Retry-After hint may lengthen a delay by at most this much. */
  maxRetryAfterExtraMs: 5_000,
  initialCapacity: 500,
  transientCost: 14,
  throttlingCost: 5,
  successRefund: 1,
} as const;

type RetryKind = 'throttling' | 'transient';

function retryKind(error: unknown): RetryKind | undefined {
  if (!(error instanceof Error) || error.name === 'AbortError') return undefined;
  const status = (error as { $metadata?: ResponseMetadata }).$metadata?.httpStatusCode;
  if (status === 429 || THROTTLING.has(error.name)) return 'throttling';
  const code = (error as { code?: unknown }).code;
  const byCode = typeof code === 'string' && RETRIED_CODES.has(code);
  if (TRANSIENT_NAMES.has(error.name) || byCode || TRANSIENT_STATUS.has(status ?? 0)) return 'transient';
  return undefined;
}

/** The SDK's reading of an error code: `ns#Code:details,more` → `Code`. */
function errorCode(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw === '') return undefined;
  const code = raw.split(',')[0]!.split(':')[0]!;
  return code.includes('#') ? code.split('#')[1] : code;
}

/** What the signer hashes: text or bytes. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

/** SHA-256 and HMAC-SHA-256 for the signer, from Node's OpenSSL. */
class Sha256 {
  private hash;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
  update(data: Uint8Array): void {
    this.hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

function bytes(data: SourceData): Buffer | string {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** Where the client sends its requests. */
export interface Endpoint {
  readonly protocol: 'http:' | 'https:';
  readonly hostname: string;
  readonly port?: number;
  readonly path: string;
}

/** The regional endpoint, or the one the environment configures, as the SDK resolves it. Throws, naming the variable, on a setting it cannot honour. */
export function resolveEndpoint(service: AwsService, region: string, env: NodeJS.ProcessEnv): Endpoint {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS !== 'true') {
    for (const name of [`AWS_ENDPOINT_URL_${service.endpointId}`, 'AWS_ENDPOINT_URL']) {
      const value = env[name];
      if (!value) continue;
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        throw new Error(`${name} is not a URL: ${JSON.stringify(value.slice(0, 100))}`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${name} must be an http or https URL, not ${url.protocol}`);
      return { protocol: url.protocol, hostname: url.hostname, ...(url.port ? { port: Number(url.port) } : {}), path: url.pathname || '/' };
    }
  }
  if (env.AWS_USE_DUALSTACK_ENDPOINT === 'true') throw new Error('AWS_USE_DUALSTACK_ENDPOINT is set, but this client only knows the IPv4 endpoints: unset it or set AWS_ENDPOINT_URL');
  if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region)) throw new Error(`unknown AWS region ${JSON.stringify(region.slice(0, 40))}: set AWS_REGION, or AWS_ENDPOINT_URL_${service.endpointId}`);
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  const fips = env.AWS_USE_FIPS_ENDPOINT === 'true' ? '-fips' : '';
  return { protocol: 'https:', hostname: `${service.endpointPrefix}${fips}.${region}.${suffix}`, path: '/' };
}

/** How a client is built. */
export interface AwsJsonClientOptions {
  readonly service: AwsService;
  readonly budget: ClientBudget;
  /** Defaults to `AWS_REGION`, which Lambda sets. */
  readonly region?: string;
  /** Where configuration is read; defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** The backoff's jitter, a number in [0, 1); tests fix it. */
  readonly random?: () => number;
  /** Trust anchors replacing Node's roots for an `https:` endpoint: a test's own authority. Functions never set it. */
  readonly ca?: string;
}

/** Per-call options, as the SDK's `send` takes them. */
export interface CallOptions {
  readonly abortSignal?: AbortSignal;
}

type Answer = HttpResponse;

/** One request's line and protocol headers, before the shared ones are added and it is signed. */
interface RequestLine {
  readonly method: 'POST' | 'PUT';
  readonly path: string;
  readonly headers: Record<string, string>;
}

/** One AWS service, called operation by operation: AWS JSON with {@link call}, REST-JSON with {@link callRest}. */
export class AwsJsonClient {
  readonly endpoint: Endpoint;
  readonly region: string;
  private readonly service: AwsService;
  private readonly budget: ClientBudget;
  private readonly signer: SignatureV4 | undefined;
  private readonly connections: ConnectionPool;
  private readonly host: string;
  private readonly random: () => number;
  /** The retry quota: retries spend from it, successes refill it (standard retry mode). */
  private capacity: number = RETRY.initialCapacity;

  constructor(options: AwsJsonClientOptions) {
    const env = options.env ?? process.env;
    this.service = options.service;
    this.budget = options.budget;
    this.region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? '';
    if (!this.region) throw new Error(`AWS_REGION is not set: the ${options.service.endpointPrefix} client needs a region`);
    this.endpoint = resolveEndpoint(options.service, this.region, env);
    this.host = this.endpoint.port ? `${this.endpoint.hostname}:${this.endpoint.port}` : this.endpoint.hostname;
    this.random = options.random ?? Math.random;
    this.connections = new ConnectionPool(this.endpoint, options.ca ? { ca: options.ca } : {});
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    // Without credentials a call fails as the SDK's would; the module still loads, as with the SDK.
    this.signer =
      accessKeyId && secretAccessKey
        ? new SignatureV4({
            service: options.service.signingName,
            region: this.region,
            credentials: { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) },
            sha256: Sha256,
            uriEscapePath: true,
            applyChecksum: false,
          })
        : undefined;
  }

  /**
   * Calls `operation` with `input` (the wire shape) and resolves its output, with `$metadata`.
   * Retries as the SDK's standard mode does; rejects with the last error when it gives up.
   */
  async call<Output extends object = Record<string, unknown>>(operation: string, input: object, options: CallOptions = {}): Promise<Output & { $metadata: ResponseMetadata }> {
    const service = this.service as Partial<AwsJsonService>;
    if (!service.targetPrefix || !service.jsonVersion) throw new Error(`${this.service.endpointPrefix} is not an AWS JSON service: call its operations with callRest`);
    const line: RequestLine = {
      method: 'POST',
      path: this.endpoint.path,
      headers: { 'content-type': `application/x-amz-json-${service.jsonVersion}`, 'x-amz-target': `${service.targetPrefix}.${operation}` },
    };
    return this.send<Output>(line, input, options);
  }

  /**
   * Calls a REST-JSON operation: `input` (its whole body; the operations called here take no path or
   * query members) sent with `method` to `path` under the endpoint's own path. Timeouts, retries,
   * signature and errors are those of {@link call}; the error's name comes from `X-Amzn-ErrorType`.
   */
  async callRest<Output extends object = Record<string, unknown>>(
    method: RequestLine['method'],
    path: `/${string}`,
    input: object,
    options: CallOptions = {},
  ): Promise<Output & { $metadata: ResponseMetadata }> {
    const line: RequestLine = { method, path: `${this.endpoint.path.replace(/\/+$/, '')}${path}`, headers: { 'content-type': 'application/json' } };
    return this.send<Output>(line, input, options);
  }

  private async send<Output extends object>(line: RequestLine, input: object, options: CallOptions): Promise<Output & { $metadata: ResponseMetadata }> {
    // Serialised once: every attempt of this call sends exactly these bytes.
    const body = JSON.stringify(input);
    const invocationId = randomUUID();
    const signal = options.abortSignal;
    let totalRetryDelay = 0;
    let retryCost: number | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        if (signal?.aborted) throw abortError(signal);
        const answer = await this.exchange(line, body, { invocationId, attempt }, signal);
        const metadata: ResponseMetadata = { httpStatusCode: answer.status, requestId: requestId(answer.headers), attempts: attempt, totalRetryDelay };
        if (answer.status < 200 || answer.status >= 300) throw serviceError(answer, metadata);
        this.capacity = Math.min(RETRY.initialCapacity, this.capacity + (retryCost ?? RETRY.successRefund));
        const output = (answer.body ? JSON.parse(answer.body) : {}) as Output;
        return Object.assign(output, { $metadata: metadata });
      } catch (error) {
        const kind = retryKind(error);
        const cost = kind === 'throttling' ? RETRY.throttlingCost : RETRY.transientCost;
        if (!kind || attempt >= this.budget.maxAttempts || this.capacity < cost || signal?.aborted) throw withAttempts(error, attempt, totalRetryDelay);
        this.capacity -= cost;
        retryCost = cost;
        const base = kind === 'throttling' ? RETRY.throttlingBaseDelayMs : RETRY.baseDelayMs;
        let delay = Math.floor(this.random() * Math.min(base * 2 ** (attempt - 1), RETRY.maxDelayMs));
        const hint = retryAfterMs(error);
        if (hint !== undefined) delay = Math.max(delay, Math.min(hint, delay + RETRY.maxRetryAfterExtraMs));
        totalRetryDelay += delay;
        await sleep(delay, signal);
      }
    }
  }

  /** Closes the kept-alive connections. */
  destroy(): void {
    this.connections.destroy();
  }

  /** One signed request and its whole answer, within the budget's timeouts. */
  private async exchange(line: RequestLine, body: string, attempt: { invocationId: string; attempt: number }, signal: AbortSignal | undefined): Promise<Answer> {
    if (!this.signer) {
      throw Object.assign(new Error('Unable to find environment variable credentials.'), { name: 'CredentialsProviderError' });
    }
    const signed = await this.signer.sign({
      method: line.method,
      protocol: this.endpoint.protocol,
      hostname: this.endpoint.hostname,
      ...(this.endpoint.port ? { port: this.endpoint.port } : {}),
      path: line.path,
      query: {},
      headers: {
        ...line.headers,
        host: this.host,
        'content-length': String(Buffer.byteLength(body)),
        'amz-sdk-invocation-id': attempt.invocationId,
        'amz-sdk-request': `attempt=${attempt.attempt}; max=${this.budget.maxAttempts}`,
      },
      body,
    });
    const { connectionTimeoutMs, requestTimeoutMs } = this.budget;
    return new Promise<Answer>((resolve, reject) => {
      let connecting: NodeJS.Timeout | undefined;
      let connected = false;
      let pending: PendingRequest;
      try {
        pending = this.connections.request(
          // Node's kept-alive agent sends this header too; it is not signed.
          { method: line.method, path: line.path, headers: { ...signed.headers, connection: 'keep-alive' }, body },
          {
            onConnect: () => {
              connected = true;
              clearTimeout(connecting);
            },
          },
        );
      } catch (error) {
        reject(error);
        return;
      }
      let settled = false;
      const settle = (error: Error | undefined, answer?: Answer) => {
        if (settled) return;
        settled = true;
        clearTimeout(connecting);
        clearTimeout(overall);
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(answer!);
      };
      const fail = (error: Error) => {
        pending.cancel();
        settle(error);
      };
      const overall = setTimeout(() => fail(timeoutError(`a request has exceeded the configured ${requestTimeoutMs} ms requestTimeout`, 'ETIMEDOUT')), requestTimeoutMs);
      if (!connected) {
        connecting = setTimeout(
          () => fail(timeoutError(`the request socket did not establish a connection with the server within the configured timeout of ${connectionTimeoutMs} ms`)),
          connectionTimeoutMs,
        );
      }
      const onAbort = () => fail(abortError(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      pending.response.then(
        (answer) => settle(undefined, answer),
        (error: NodeJS.ErrnoException) => settle(TIMEOUT_CODES.has(error.code ?? '') ? Object.assign(error, { name: 'TimeoutError' }) : error),
      );
    });
  }
}

function requestId(headers: Answer['headers']): string | undefined {
  const id = headers['x-amzn-requestid'] ?? headers['x-amz-request-id'];
  return typeof id === 'string' ? id : undefined;
}

function serviceError(answer: Answer, metadata: ResponseMetadata): AwsServiceError {
  let parsed: unknown;
  try {
    parsed = answer.body ? JSON.parse(answer.body) : {};
  } catch {
    parsed = {};
  }
  const { __type, code, message, Message, ...fields } = (parsed !== null && typeof parsed === 'object' ? parsed : {}) as Record<string, unknown>;
  const name = errorCode(answer.headers['x-amzn-errortype']) ?? errorCode(code) ?? errorCode(__type) ?? 'UnknownError';
  const text = typeof message === 'string' ? message : typeof Message === 'string' ? Message : name;
  const error = new AwsServiceError(name, text, metadata, fields);
  const retryAfter = retryAfterHeader(answer.headers);
  if (retryAfter !== undefined) Object.defineProperty(error, RETRY_AFTER, { value: retryAfter });
  return error;
}

const RETRY_AFTER = Symbol('retryAfterMs');

/** A `Retry-After` (seconds or an HTTP date) or `x-amz-retry-after` (milliseconds) hint, in milliseconds from now. */
function retryAfterHeader(headers: Answer['headers']): number | undefined {
  const amz = headers['x-amz-retry-after'];
  if (typeof amz === 'string' && Number.isFinite(Number(amz))) return Number(amz);
  const value = headers['retry-after'];
  if (typeof value !== 'string') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function retryAfterMs(error: unknown): number | undefined {
  return error instanceof AwsServiceError ? ((error as unknown as Record<symbol, number | undefined>)[RETRY_AFTER]) : undefined;
}

function timeoutError(message: string, code?: string): Error {
  return Object.assign(new Error(message), { name: 'TimeoutError', ...(code ? { code } : {}) });
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('Request aborted', { cause: signal.reason }), { name: 'AbortError' });
}

function withAttempts(error: unknown, attempts: number, totalRetryDelay: number): unknown {
  if (!(error instanceof Error)) return error;
  const carrier = error as Error & { $metadata?: ResponseMetadata };
  carrier.$metadata = { ...carrier.$metadata, attempts, totalRetryDelay };
  return error;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
