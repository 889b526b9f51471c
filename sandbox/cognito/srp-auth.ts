/**
 * Sign-in with USER_SRP_AUTH, as Cognito answers it, for the library default of both JavaScript
 * clients (amazon-cognito-identity-js and Amplify).
 *
 * InitiateAuth answers PASSWORD_VERIFIER with SALT, SRP_B, SECRET_BLOCK, USERNAME and
 * USER_ID_FOR_SRP. The secret block is the server's state for the next step (b, B, A, the user, the
 * client, when it was issued), sealed with AES-GCM under a key that lives as long as the sandbox,
 * so a client can neither read nor change it. RespondToAuthChallenge checks the block, the
 * timestamp and PASSWORD_CLAIM_SIGNATURE; once the password is proven, the proxy finishes the
 * sign-in through cognito-local's password flow, so user status, MFA, PostAuthentication,
 * PreTokenGeneration and the tokens are exactly those of USER_PASSWORD_AUTH.
 *
 * A user unknown to the pool gets what Cognito documents: with PreventUserExistenceErrors, a
 * simulated challenge (the same salt and USER_ID_FOR_SRP for the same name every time) and then
 * `Incorrect username or password.`; without it, UserNotFoundException. The user migration trigger
 * is not called, because SRP never shows the server the password the trigger would check.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { CognitoBackend } from './backend.ts';
import { CognitoApiError, incorrectCredentials } from './errors.ts';
import { Sealer } from './sealed.ts';
import { canonicalTimestamp, claimSignature, g, modPow, N, parseA, poolNameOf, serverKeys, sessionKey, signatureMatches, verifier } from './srp.ts';

/** What the secret block carries between the two steps. */
interface SrpState {
  /** Random id: a block is accepted once. */
  readonly id: string;
  readonly pool: string;
  readonly client: string;
  /** The user's username, or null for the simulated challenge of an unknown user. */
  readonly user: string | null;
  readonly salt: string;
  readonly A: string;
  readonly b: string;
  readonly B: string;
  readonly issuedAt: number;
}

export interface SrpOptions {
  /** How long the challenge may be answered: the app client's auth session validity (Cognito's default, 3 minutes). */
  readonly sessionValidityMs?: number;
  readonly now?: () => number;
}

type Body = Record<string, unknown>;

/** USER_SRP_AUTH for every pool behind one endpoint. */
export class SrpSignIn {
  private readonly sealer = new Sealer<SrpState>();
  private readonly saltKey = randomBytes(32);
  /** Blocks already answered, by id, with their expiry. */
  private readonly used = new Map<string, number>();
  private readonly sessionValidityMs: number;
  private readonly now: () => number;

  constructor(options: SrpOptions = {}) {
    this.sessionValidityMs = options.sessionValidityMs ?? 3 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** InitiateAuth with AuthFlow USER_SRP_AUTH: the PASSWORD_VERIFIER challenge. */
  async initiate(body: Body, backend: CognitoBackend): Promise<Body> {
    const pool = backend.options.pool;
    const clientId = String(body.ClientId ?? '');
    const client = pool.clients.find((c) => c.id === clientId);
    if (!client) throw new CognitoApiError('ResourceNotFoundException', 'User pool client does not exist.');
    if (client.explicitAuthFlows.length && !client.explicitAuthFlows.includes('ALLOW_USER_SRP_AUTH')) {
      throw new CognitoApiError('InvalidParameterException', 'USER_SRP_AUTH is not enabled for the client.');
    }
    const params = (body.AuthParameters ?? {}) as Record<string, unknown>;
    const typed = params.USERNAME;
    if (typeof typed !== 'string' || !typed) throw new CognitoApiError('InvalidParameterException', 'Missing required parameter USERNAME');
    if (params.SRP_A === undefined) throw new CognitoApiError('InvalidParameterException', 'Missing required parameter SRP_A');
    const A = parseA(params.SRP_A);
    if (A === undefined) throw new CognitoApiError('InvalidParameterException', 'SRP_A is not a valid SRP value');

    const user = await (await backend.userPool()).getUserByUsername(backend.ctx, typed);
    if (!user && !client.preventUserExistenceErrors) throw new CognitoApiError('UserNotFoundException', 'User does not exist.');
    if (user?.UserStatus === 'RESET_REQUIRED') throw new CognitoApiError('PasswordResetRequiredException', 'Password reset required for the user');
    const userId = user ? user.Username : this.simulatedUserId(pool.id, typed);
    const salt = this.saltFor(pool.id, userId);
    // For an unknown user the verifier is a random group element: the answer looks like any other.
    const v = user ? verifier(poolNameOf(pool.id), userId, user.Password ?? '', salt) : modPow(g, BigInt(`0x${randomBytes(32).toString('hex')}`), N);
    const { b, B } = serverKeys(v);
    const state: SrpState = { id: randomBytes(12).toString('hex'), pool: pool.id, client: clientId, user: user ? user.Username : null, salt, A: A.toString(16), b: b.toString(16), B: B.toString(16), issuedAt: this.now() };
    return {
      ChallengeName: 'PASSWORD_VERIFIER',
      ChallengeParameters: { SALT: salt, SECRET_BLOCK: this.sealer.seal(state), SRP_B: state.B, USERNAME: userId, USER_ID_FOR_SRP: userId },
    };
  }

  /**
   * RespondToAuthChallenge with PASSWORD_VERIFIER: checks the proof of password and returns the
   * user's username and password, for the proxy to finish the sign-in with the password flow.
   */
  async verify(body: Body, backend: CognitoBackend): Promise<{ USERNAME: string; PASSWORD: string }> {
    const responses = (body.ChallengeResponses ?? {}) as Record<string, unknown>;
    for (const name of ['PASSWORD_CLAIM_SIGNATURE', 'PASSWORD_CLAIM_SECRET_BLOCK', 'TIMESTAMP']) {
      if (typeof responses[name] !== 'string') throw new CognitoApiError('InvalidParameterException', `Missing required parameter ${name}`);
    }
    const blockText = responses.PASSWORD_CLAIM_SECRET_BLOCK as string;
    const state = this.sealer.open(blockText);
    if (!state || state.pool !== backend.options.pool.id || state.client !== body.ClientId) throw incorrectCredentials();
    const now = this.now();
    if (now - state.issuedAt > this.sessionValidityMs) throw new CognitoApiError('NotAuthorizedException', 'Invalid session for the user, session is expired.');
    const timestamp = canonicalTimestamp(responses.TIMESTAMP);
    if (!timestamp) throw new CognitoApiError('InvalidParameterException', 'TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.');
    this.forgetExpired(now);
    if (this.used.has(state.id)) throw incorrectCredentials();
    this.used.set(state.id, state.issuedAt + this.sessionValidityMs);
    if (state.user === null) throw incorrectCredentials();
    const user = await (await backend.userPool()).getUserByUsername(backend.ctx, state.user);
    if (!user || user.Username !== state.user) throw incorrectCredentials();
    const poolName = poolNameOf(state.pool);
    const password = user.Password ?? '';
    const key = sessionKey(BigInt(`0x${state.A}`), BigInt(`0x${state.B}`), BigInt(`0x${state.b}`), verifier(poolName, user.Username, password, state.salt));
    const expected = claimSignature(key, poolName, user.Username, Buffer.from(blockText, 'base64'), timestamp);
    if (!signatureMatches(expected, responses.PASSWORD_CLAIM_SIGNATURE)) throw incorrectCredentials();
    return { USERNAME: user.Username, PASSWORD: password };
  }

  /** A salt that stays the same for a user while the sandbox runs, as a stored one would. */
  private saltFor(poolId: string, userId: string): string {
    return BigInt(`0x${createHmac('sha256', this.saltKey).update(`salt:${poolId}:${userId}`).digest('hex').slice(0, 32)}`).toString(16);
  }

  /** The UUID Cognito answers for a name no user has: the same one for the same name. */
  private simulatedUserId(poolId: string, typed: string): string {
    const h = createHmac('sha256', this.saltKey).update(`user:${poolId}:${typed.toLowerCase()}`).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16]!, 16) % 4]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  private forgetExpired(now: number): void {
    for (const [id, expiry] of this.used) if (expiry < now) this.used.delete(id);
  }
}
