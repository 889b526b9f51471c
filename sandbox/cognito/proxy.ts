/**
 * The public Cognito endpoint of the sandbox: a thin proxy in front of the cognito-local instances.
 *
 * It routes each call to the instance holding the pool (by UserPoolId, ClientId or the token's
 * issuer), and adds what cognito-local lacks where the gap would hide a bug in our triggers:
 * - the PreAuthentication trigger before a password sign-in (a throw blocks it), including the
 *   `userNotFound` call for unknown users when the client prevents user-existence errors;
 * - PreSignUp for AdminCreateUser;
 * - the pool's password policy on every call that sets a password (InvalidPasswordException);
 * - Cognito's errors for failed sign-ins: NotAuthorizedException `Incorrect username or password.`
 *   where cognito-local says InvalidPasswordException or `User not authorized`, and for disabled users;
 * - USER_SRP_AUTH (srp-auth.ts), finished through the password flow once the password is proven;
 * - CUSTOM_AUTH (custom-auth.ts): the Define / Create / Verify loop of the challenge triggers, finished
 *   the same way once DefineAuthChallenge issues tokens;
 * - GetTokensFromRefreshToken, as the refresh flow of InitiateAuth;
 * - the check of every access token presented (tokens.ts), and the pool's discovery document.
 * The full list of differences from Cognito is in docs/sandbox.md.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyServer, listen, withCors, type Listening } from '../lib/http.ts';
import type { PasswordPolicy } from '../stack.ts';
import { checkSignUpWrites } from './attribute-updates.ts';
import type { CognitoBackend } from './backend.ts';
import { CustomAuthSignIn, type CustomAuthStep } from './custom-auth.ts';
import { SrpSignIn } from './srp-auth.ts';

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const SYMBOLS = `^$*.[]{}()?"!@#%&/\\,><':;|_~\`=+- `;

/** The reason a password breaks the policy, in Cognito's words, or undefined when it conforms. */
export function passwordProblem(password: string, policy: PasswordPolicy): string | undefined {
  if (password.length < policy.minimumLength) return 'Password not long enough';
  if (policy.requireLowercase && !/[a-z]/.test(password)) return 'Password must have lowercase characters';
  if (policy.requireUppercase && !/[A-Z]/.test(password)) return 'Password must have uppercase characters';
  if (policy.requireNumbers && !/[0-9]/.test(password)) return 'Password must have numeric characters';
  if (policy.requireSymbols && ![...password].some((c) => SYMBOLS.includes(c))) return 'Password must have symbol characters';
  return undefined;
}

class ProxyError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function sendAws(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(text), ...(status >= 400 && typeof body === 'object' && body && '__type' in body ? { 'x-amzn-errortype': String((body as { __type: string }).__type) } : {}) });
  res.end(text);
}

function issuerPool(token: unknown): string | undefined {
  if (typeof token !== 'string') return undefined;
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: string };
    return payload.iss?.split('/').pop();
  } catch {
    return undefined;
  }
}

const AUTH_TARGETS = new Set(['InitiateAuth', 'AdminInitiateAuth']);
const TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';

/** A call the proxy answers itself, or sends on as another call. */
type LocalHandling = { respond: unknown } | { forward: { operation: string; body: Record<string, unknown> } } | undefined;

/** The rest of a sign-in whose user is proven: cognito-local's password flow, with the call's ClientMetadata. */
function passwordFlow(body: Record<string, unknown>, proven: { USERNAME: string; PASSWORD: string }): LocalHandling {
  return { forward: { operation: 'InitiateAuth', body: { ClientId: body.ClientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: proven, ...(body.ClientMetadata ? { ClientMetadata: body.ClientMetadata } : {}) } } };
}

export class CognitoProxy {
  private listening?: Listening;
  /** Calls that reached the proxy, by operation, for tests. */
  readonly calls: Array<{ operation: string; at: number }> = [];
  private readonly srp = new SrpSignIn();
  private readonly custom = new CustomAuthSignIn();

  constructor(private readonly backends: readonly CognitoBackend[]) {}

  get url(): string {
    return this.listening!.url;
  }

  private backendFor(body: Record<string, unknown>): CognitoBackend {
    const poolId = (body.UserPoolId as string | undefined) ?? issuerPool(body.AccessToken) ?? issuerPool(body.Token);
    const clientId = body.ClientId as string | undefined;
    const found =
      (poolId && this.backends.find((b) => b.options.pool.id === poolId)) ||
      (clientId && this.backends.find((b) => b.options.pool.clients.some((c) => c.id === clientId)));
    return found || this.backends[0]!;
  }

  private async beforeForward(operation: string, body: Record<string, unknown>, backend: CognitoBackend): Promise<void> {
    checkSignUpWrites(operation, body, backend.options.pool);
    // cognito-local only decodes access tokens; Cognito checks them.
    if (typeof body.AccessToken === 'string') backend.tokens.checkAccessToken(body.AccessToken);
    const policy = backend.options.pool.passwordPolicy;
    const check = (password: unknown) => {
      if (typeof password !== 'string') return;
      const problem = passwordProblem(password, policy);
      if (problem) throw new ProxyError('InvalidPasswordException', `Password did not conform with policy: ${problem}`);
    };
    switch (operation) {
      case 'SignUp':
      case 'AdminSetUserPassword':
      case 'ConfirmForgotPassword':
        return check(body.Password);
      case 'ChangePassword':
        return check(body.ProposedPassword);
      case 'RespondToAuthChallenge':
      case 'AdminRespondToAuthChallenge':
        return check((body.ChallengeResponses as Record<string, unknown> | undefined)?.NEW_PASSWORD);
      case 'AdminCreateUser':
        check(body.TemporaryPassword);
        return this.preSignUpForAdminCreateUser(body, backend);
      case 'InitiateAuth':
      case 'AdminInitiateAuth':
        return this.preAuthentication(body, backend);
    }
  }

  private async preSignUpForAdminCreateUser(body: Record<string, unknown>, backend: CognitoBackend): Promise<void> {
    if (!backend.enabled('pre_sign_up')) return;
    const attributes = ((body.UserAttributes as Array<{ Name: string; Value: string }> | undefined) ?? []).slice();
    const username = String(body.Username ?? '');
    const emailPool = backend.options.pool.usernameAttributes.includes('email');
    if (emailPool && !attributes.some((a) => a.Name === 'email')) attributes.push({ Name: 'email', Value: username });
    let sub = attributes.find((a) => a.Name === 'sub')?.Value;
    if (!sub) {
      sub = randomUUID();
      attributes.unshift({ Name: 'sub', Value: sub });
    }
    const record = Object.fromEntries(attributes.map((a) => [a.Name, a.Value]));
    const event = backend.event('PreSignUp_AdminCreateUser', emailPool ? sub : username, null, { userAttributes: record, validationData: body.ValidationData ?? null, clientMetadata: body.ClientMetadata ?? {} }, { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false });
    const response = await backend.trigger('pre_sign_up', event);
    if (response.autoVerifyEmail && !attributes.some((a) => a.Name === 'email_verified')) attributes.push({ Name: 'email_verified', Value: 'true' });
    if (response.autoVerifyPhone && !attributes.some((a) => a.Name === 'phone_number_verified')) attributes.push({ Name: 'phone_number_verified', Value: 'true' });
    body.UserAttributes = attributes;
  }

  private async preAuthentication(body: Record<string, unknown>, backend: CognitoBackend): Promise<void> {
    const flow = String(body.AuthFlow ?? '');
    if (flow !== 'USER_PASSWORD_AUTH' && flow !== 'ADMIN_USER_PASSWORD_AUTH' && flow !== 'USER_SRP_AUTH' && flow !== 'CUSTOM_AUTH') return;
    const params = (body.AuthParameters ?? {}) as Record<string, string>;
    const typed = params.USERNAME;
    if (!typed) return;
    const pool = await backend.userPool();
    const user = await pool.getUserByUsername(backend.ctx, typed);
    if (user && user.Enabled === false) throw new ProxyError('NotAuthorizedException', 'User is disabled.');
    if (!backend.enabled('pre_authentication')) return;
    const client = backend.options.pool.clients.find((c) => c.id === body.ClientId);
    if (!user && !client?.preventUserExistenceErrors) return;
    const attributes = user ? Object.fromEntries((user.Attributes ?? []).map((a) => [a.Name, a.Value ?? ''])) : {};
    const request = user
      ? { userAttributes: { ...attributes, 'cognito:user_status': user.UserStatus ?? 'CONFIRMED' }, validationData: body.ClientMetadata ?? {} }
      : { userAttributes: {}, validationData: body.ClientMetadata ?? {}, userNotFound: true };
    const event = backend.event('PreAuthentication_Authentication', user ? user.Username : typed, String(body.ClientId ?? ''), request);
    await backend.trigger('pre_authentication', event);
  }

  /** Calls cognito-local cannot serve as Cognito does, after the checks of `beforeForward`. */
  private async handleLocally(operation: string, body: Record<string, unknown>, backend: CognitoBackend): Promise<LocalHandling> {
    if (operation === 'InitiateAuth' && body.AuthFlow === 'USER_SRP_AUTH') return { respond: await this.srp.initiate(body, backend) };
    if (operation === 'RespondToAuthChallenge' && body.ChallengeName === 'PASSWORD_VERIFIER') {
      // The password is proven: the rest of the sign-in is the password flow's, triggers included.
      return passwordFlow(body, await this.srp.verify(body, backend));
    }
    if (operation === 'InitiateAuth' && body.AuthFlow === 'CUSTOM_AUTH') return this.customStep(await this.custom.initiate(body, backend), body);
    if (operation === 'RespondToAuthChallenge' && body.ChallengeName === 'CUSTOM_CHALLENGE') return this.customStep(await this.custom.respond(body, backend), body);
    if (operation === 'GetTokensFromRefreshToken') {
      // The refresh flow of InitiateAuth, under the name Amplify v6 calls.
      return { forward: { operation: 'InitiateAuth', body: { ClientId: body.ClientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: body.RefreshToken }, ...(body.ClientMetadata ? { ClientMetadata: body.ClientMetadata } : {}) } } };
    }
    return undefined;
  }

  /** A custom-auth step: the next challenge for the client, or tokens through the password flow. */
  private customStep(step: CustomAuthStep, body: Record<string, unknown>): LocalHandling {
    return 'respond' in step ? { respond: step.respond } : passwordFlow(body, step.signIn);
  }

  /** Cognito's answer where cognito-local's differs. */
  private mapError(operation: string, type: string, message: string, body: Record<string, unknown>): { type: string; message: string } {
    const refresh = body.AuthFlow === 'REFRESH_TOKEN_AUTH' || body.AuthFlow === 'REFRESH_TOKEN';
    if (AUTH_TARGETS.has(operation) && refresh && type === 'NotAuthorizedException') return { type, message: 'Invalid Refresh Token' };
    if (AUTH_TARGETS.has(operation) && (type === 'InvalidPasswordException' || (type === 'NotAuthorizedException' && message === 'User not authorized'))) {
      return { type: 'NotAuthorizedException', message: 'Incorrect username or password.' };
    }
    if (AUTH_TARGETS.has(operation) && type === 'UserNotFoundException') return { type: 'NotAuthorizedException', message: 'Incorrect username or password.' };
    return { type, message };
  }

  private async handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const target = req.headers['x-amz-target'];
    if (req.method !== 'POST' || typeof target !== 'string') {
      // JWKS and health: pass through to the pool's instance. The OpenID configuration names this endpoint.
      const poolId = (req.url ?? '/').split('/')[1];
      const backend = this.backends.find((b) => b.options.pool.id === poolId) ?? this.backends[0]!;
      if (/^\/[^/]+\/\.well-known\/openid-configuration(\?.*)?$/.test(req.url ?? '')) return this.openIdConfiguration(res, poolId);
      const upstream = await fetch(`${backend.url}${req.url ?? '/'}`, { method: req.method ?? 'GET' });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
      return;
    }
    const operation = target.slice(target.lastIndexOf('.') + 1);
    this.calls.push({ operation, at: Date.now() });
    let body: Record<string, unknown>;
    try {
      body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
    } catch {
      return sendAws(res, 400, { __type: 'SerializationException', message: 'Malformed JSON' });
    }
    const backend = this.backendFor(body);
    let forward = { operation, body };
    try {
      await this.beforeForward(operation, body, backend);
      const local = await this.handleLocally(operation, body, backend);
      if (local && 'respond' in local) return sendAws(res, 200, local.respond);
      if (local) forward = local.forward;
    } catch (error) {
      if (error instanceof ProxyError) return sendAws(res, 400, { __type: error.type, message: error.message });
      const e = error as { code?: string; message?: string };
      if (typeof e.code === 'string') return sendAws(res, 400, { __type: e.code, message: e.message });
      throw error;
    }
    const upstream = await fetch(`${backend.url}/`, {
      method: 'POST',
      headers: { 'content-type': CONTENT_TYPE, 'x-amz-target': forward.operation === operation ? target : `${TARGET_PREFIX}${forward.operation}` },
      body: JSON.stringify(forward.body),
    });
    const text = await upstream.text();
    if (upstream.status >= 400) {
      let parsed: { __type?: string; message?: string } = {};
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        /* not JSON: pass through */
      }
      if (parsed.__type) {
        const mapped = this.mapError(forward.operation, parsed.__type, parsed.message ?? '', forward.body);
        return sendAws(res, upstream.status, { __type: mapped.type, message: mapped.message });
      }
    }
    sendAws(res, upstream.status, text);
  }

  /**
   * The pool's discovery document: its issuer is the tokens' `iss` and its keys are where this
   * endpoint serves them, whatever address the sandbox listens on.
   */
  private openIdConfiguration(res: ServerResponse, poolId: string | undefined): void {
    const json = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (!this.backends.some((b) => b.options.pool.id === poolId)) return json(404, { message: `User pool ${poolId} does not exist.` });
    const issuer = `${this.url}/${poolId}`;
    json(200, {
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'email', 'phone', 'profile'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'token_use', 'cognito:username', 'email', 'email_verified', 'phone_number', 'phone_number_verified', 'name'],
    });
  }

  async start(port = 0): Promise<void> {
    // Browser apps (Amplify's defaults) call Cognito cross-origin and read its error headers, as from AWS.
    this.listening = await listen(bodyServer(withCors((req, res, body) => this.handle(req, res, body), ['x-amzn-RequestId', 'x-amzn-ErrorType', 'x-amzn-ErrorMessage', 'Date'])), port);
  }

  async stop(): Promise<void> {
    await this.listening?.close();
  }
}
