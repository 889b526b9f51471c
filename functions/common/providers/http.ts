/**
 * The one HTTP call the delivery providers make, with a hard deadline.
 *
 * SendGrid and Twilio are called through their documented REST APIs with Node's built-in `fetch`
 * rather than their SDKs: each send is a single POST, and the SDKs cost far more to load than the
 * call itself (measurements in docs/senders-and-migration.md). Base URLs are configuration, so the
 * sandbox's local stand-ins receive the very same requests over plain HTTP.
 */

/** The subset of `fetch` the providers use; tests pass a stub. */
export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

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
 * {@link ProviderError}. The deadline covers connecting, sending and reading the whole body.
 */
export async function post(
  fetchImpl: Fetch,
  provider: string,
  url: string,
  init: { headers: Record<string, string>; body: string },
  timeoutMs: number,
  providerCodeOf: (body: string) => string | undefined = () => undefined,
): Promise<string> {
  let response: Response;
  let body: string;
  try {
    response = await fetchImpl(url, { method: 'POST', headers: init.headers, body: init.body, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    body = await response.text();
  } catch (error) {
    throw new ProviderError(provider, undefined, undefined, { cause: error });
  }
  if (response.status < 200 || response.status > 299) {
    throw new ProviderError(provider, response.status, providerCodeOf(body));
  }
  return body;
}
