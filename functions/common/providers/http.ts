/**
 * The one HTTP call the delivery providers make, with a hard deadline.
 *
 * SendGrid and Twilio are called through their documented REST APIs rather than their SDKs: each send
 * is a single POST, and the SDKs cost far more to load than the call itself. The request goes through
 * `node:https` (already loaded by the AWS SDK), not the global `fetch`, whose first call initialises
 * undici and costs a cold start tens of milliseconds (docs/senders-and-migration.md has the figures).
 * Connections are kept alive, so a warm sender skips the TLS handshake. Base URLs are configuration,
 * so the sandbox's local stand-ins receive the very same requests over plain HTTP.
 */
import http from 'node:http';
import https from 'node:https';

/** A response, read in full. */
export interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

/** Sends one POST and resolves with the response whatever its status; rejects on no response in time. */
export type HttpPost = (url: string, request: { headers: Record<string, string>; body: string; timeoutMs: number }) => Promise<HttpResponse>;

const agents = {
  'https:': new https.Agent({ keepAlive: true, maxSockets: 10 }),
  'http:': new http.Agent({ keepAlive: true, maxSockets: 10 }),
};

/** Responses larger than this are cut off; provider answers are a few hundred bytes. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** {@link HttpPost} over node:http(s) with keep-alive; the deadline covers connecting, sending and reading. */
export const httpPost: HttpPost = (url, { headers, body, timeoutMs }) =>
  new Promise<HttpResponse>((resolve, reject) => {
    const target = new URL(url);
    if (target.protocol !== 'https:' && target.protocol !== 'http:') return reject(new TypeError('Only http(s) URLs are supported'));
    const transport = target.protocol === 'https:' ? https : http;
    const req = transport.request(
      target,
      {
        method: 'POST',
        agent: agents[target.protocol],
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });

/** A provider refused or failed a request, or did not answer in time. Carries no request data. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  /** `sendgrid` or `twilio`. */
  readonly provider: string;
  /** HTTP status, or `undefined` when there was no response (timeout, connection refused). */
  readonly status: number | undefined;
  /** The provider's own error code when it sent one (Twilio's numeric codes); safe to log. */
  readonly providerCode: string | undefined;

  constructor(provider: string, status: number | undefined, providerCode?: string, options?: { cause?: unknown }) {
    super(status === undefined ? `${provider} did not answer` : `${provider} answered HTTP ${status}${providerCode ? ` (code ${providerCode})` : ''}`, options);
    this.provider = provider;
    this.status = status;
    this.providerCode = providerCode;
  }

  /** The credentials were refused: worth re-reading the secret before the retry (it may have been rotated). */
  get credentialsRejected(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/**
 * POSTs and resolves to the response body when the status is 2xx; otherwise rejects with a
 * {@link ProviderError}. Redirects are not followed (they would count as failures).
 */
export async function post(
  send: HttpPost,
  provider: string,
  url: string,
  request: { headers: Record<string, string>; body: string },
  timeoutMs: number,
  providerCodeOf: (body: string) => string | undefined = () => undefined,
): Promise<string> {
  let response: HttpResponse;
  try {
    response = await send(url, { ...request, timeoutMs });
  } catch (error) {
    throw new ProviderError(provider, undefined, undefined, { cause: error });
  }
  if (response.status < 200 || response.status > 299) {
    throw new ProviderError(provider, response.status, providerCodeOf(response.body));
  }
  return response.body;
}
