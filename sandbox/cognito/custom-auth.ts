/**
 * Sign-in with CUSTOM_AUTH, as Cognito runs it: the Define / Create / Verify loop of the challenge
 * triggers, driven by InitiateAuth and RespondToAuthChallenge (cognito-local has neither).
 *
 * InitiateAuth (after the proxy's PreAuthentication) calls DefineAuthChallenge with an empty session,
 * then CreateAuthChallenge for the challenge it names, and answers CUSTOM_CHALLENGE with the public
 * parameters and a Session. Each RespondToAuthChallenge calls VerifyAuthChallengeResponse with the
 * private parameters and the answer, adds the result to the session and asks DefineAuthChallenge
 * again: another challenge, a failure (`Incorrect username or password.`), or tokens. Tokens are issued
 * through cognito-local's password flow, as for SRP, so PostAuthentication and PreTokenGeneration run
 * exactly as on any sign-in. As in Cognito, InitiateAuth's ClientMetadata reaches only
 * PreAuthentication; RespondToAuthChallenge's reaches the three challenge triggers.
 *
 * The Session is the server's state (user, session so far, private parameters), sealed: a client can
 * neither read the private parameters nor change them, a session is answered once, and it expires
 * after the app client's auth session validity. A user unknown to the pool goes through the same
 * loop with `userNotFound` when the client prevents user-existence errors.
 */
import { randomBytes } from 'node:crypto';
import type { CognitoBackend } from './backend.ts';
import { CognitoApiError, incorrectCredentials } from './errors.ts';
import { Sealer } from './sealed.ts';

type Body = Record<string, unknown>;
type StringMap = Record<string, string>;

interface ChallengeResult {
  readonly challengeName: string;
  readonly challengeResult: boolean;
  readonly challengeMetadata?: string;
}

/** What the Session carries between two calls. */
interface CustomState {
  readonly id: string;
  readonly pool: string;
  readonly client: string;
  /** The user's username, or what was typed for an unknown user. */
  readonly userName: string;
  readonly userNotFound: boolean;
  readonly session: readonly ChallengeResult[];
  readonly challengeName: string;
  readonly privateChallengeParameters: StringMap;
  readonly challengeMetadata?: string;
  readonly issuedAt: number;
}

export interface CustomAuthOptions {
  readonly now?: () => number;
}

/** What the proxy does next: answer the client, or finish the sign-in with the password flow. */
export type CustomAuthStep = { readonly respond: Body } | { readonly signIn: { USERNAME: string; PASSWORD: string } };

const DEFAULT_SESSION_MINUTES = 3;

/** CUSTOM_AUTH for every pool behind one endpoint. */
export class CustomAuthSignIn {
  private readonly sealer = new Sealer<CustomState>();
  /** Sessions already answered, by id, with their expiry. */
  private readonly used = new Map<string, number>();
  private readonly now: () => number;

  constructor(options: CustomAuthOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** InitiateAuth with AuthFlow CUSTOM_AUTH. */
  async initiate(body: Body, backend: CognitoBackend): Promise<CustomAuthStep> {
    const client = this.client(body, backend);
    if (!client.explicitAuthFlows.includes('ALLOW_CUSTOM_AUTH')) throw new CognitoApiError('InvalidParameterException', 'CUSTOM_AUTH flow not enabled for this client');
    if (!backend.enabled('define_auth_challenge') || !backend.enabled('create_auth_challenge') || !backend.enabled('verify_auth_challenge_response')) {
      throw new CognitoApiError('InvalidParameterException', 'Custom auth lambda trigger is not configured for the user pool.');
    }
    const typed = ((body.AuthParameters ?? {}) as Record<string, unknown>).USERNAME;
    if (typeof typed !== 'string' || !typed) throw new CognitoApiError('InvalidParameterException', 'Missing required parameter USERNAME');
    const user = await (await backend.userPool()).getUserByUsername(backend.ctx, typed);
    if (!user && !client.preventUserExistenceErrors) throw new CognitoApiError('UserNotFoundException', 'User does not exist.');
    if (user?.UserStatus === 'UNCONFIRMED') throw new CognitoApiError('UserNotConfirmedException', 'User is not confirmed.');
    const state = { pool: backend.options.pool.id, client: client.id, userName: user ? user.Username : typed, userNotFound: !user };
    return this.next(backend, state, [], undefined);
  }

  /** RespondToAuthChallenge with ChallengeName CUSTOM_CHALLENGE. */
  async respond(body: Body, backend: CognitoBackend): Promise<CustomAuthStep> {
    const state = this.sealer.open(body.Session);
    if (!state || state.pool !== backend.options.pool.id || state.client !== body.ClientId) throw new CognitoApiError('NotAuthorizedException', 'Invalid session for the user.');
    const client = this.client(body, backend);
    const now = this.now();
    if (now - state.issuedAt > (client.authSessionValidity ?? DEFAULT_SESSION_MINUTES) * 60_000) {
      throw new CognitoApiError('NotAuthorizedException', 'Invalid session for the user, session is expired.');
    }
    const responses = (body.ChallengeResponses ?? {}) as Record<string, unknown>;
    if (typeof responses.ANSWER !== 'string') throw new CognitoApiError('InvalidParameterException', 'Missing required parameter ANSWER');
    for (const [id, expiry] of this.used) if (expiry < now) this.used.delete(id);
    if (this.used.has(state.id)) throw new CognitoApiError('NotAuthorizedException', 'Invalid session for the user.');
    this.used.set(state.id, now + 15 * 60_000);

    const clientMetadata = (body.ClientMetadata ?? {}) as StringMap;
    const verified = await backend.trigger(
      'verify_auth_challenge_response',
      backend.event('VerifyAuthChallengeResponse_Authentication', state.userName, state.client, {
        userAttributes: await this.attributes(backend, state),
        privateChallengeParameters: state.privateChallengeParameters,
        challengeAnswer: responses.ANSWER,
        ...(state.userNotFound ? { userNotFound: true } : {}),
        clientMetadata,
      }, { answerCorrect: false }),
    );
    const result: ChallengeResult = { challengeName: state.challengeName, challengeResult: verified.answerCorrect === true, ...(state.challengeMetadata ? { challengeMetadata: state.challengeMetadata } : {}) };
    return this.next(backend, state, [...state.session, result], clientMetadata);
  }

  /** Asks DefineAuthChallenge what follows `session`, and carries it out. */
  private async next(backend: CognitoBackend, base: Pick<CustomState, 'pool' | 'client' | 'userName' | 'userNotFound'>, session: readonly ChallengeResult[], clientMetadata: StringMap | undefined): Promise<CustomAuthStep> {
    const userAttributes = await this.attributes(backend, base);
    const common = { userAttributes, session, ...(base.userNotFound ? { userNotFound: true } : {}), ...(clientMetadata ? { clientMetadata } : {}) };
    const decision = await backend.trigger('define_auth_challenge', backend.event('DefineAuthChallenge_Authentication', base.userName, base.client, common, { challengeName: undefined, issueTokens: false, failAuthentication: false }));
    if (decision.failAuthentication === true) throw incorrectCredentials();
    if (decision.issueTokens === true) {
      // Cognito never issues tokens to a user it does not have, whatever the trigger says.
      if (base.userNotFound) throw incorrectCredentials();
      const user = await (await backend.userPool()).getUserByUsername(backend.ctx, base.userName);
      if (!user) throw incorrectCredentials();
      return { signIn: { USERNAME: user.Username, PASSWORD: user.Password ?? '' } };
    }
    const challengeName = typeof decision.challengeName === 'string' ? decision.challengeName : '';
    if (challengeName !== 'CUSTOM_CHALLENGE') throw new CognitoApiError('InvalidLambdaResponseException', 'Invalid lambda response: challengeName must be CUSTOM_CHALLENGE');
    const created = await backend.trigger(
      'create_auth_challenge',
      backend.event('CreateAuthChallenge_Authentication', base.userName, base.client, { ...common, challengeName }, { publicChallengeParameters: {}, privateChallengeParameters: {}, challengeMetadata: '' }),
    );
    const state: CustomState = {
      ...base,
      id: randomBytes(12).toString('hex'),
      session,
      challengeName,
      privateChallengeParameters: (created.privateChallengeParameters ?? {}) as StringMap,
      ...(typeof created.challengeMetadata === 'string' && created.challengeMetadata ? { challengeMetadata: created.challengeMetadata } : {}),
      issuedAt: this.now(),
    };
    const publicParameters = (created.publicChallengeParameters ?? {}) as StringMap;
    return { respond: { ChallengeName: challengeName, Session: this.sealer.seal(state), ChallengeParameters: { ...publicParameters, USERNAME: base.userName } } };
  }

  private client(body: Body, backend: CognitoBackend) {
    const client = backend.options.pool.clients.find((c) => c.id === body.ClientId);
    if (!client) throw new CognitoApiError('ResourceNotFoundException', 'User pool client does not exist.');
    return client;
  }

  /** The user's attributes as the challenge triggers see them; none for an unknown user. */
  private async attributes(backend: CognitoBackend, state: Pick<CustomState, 'userName' | 'userNotFound'>): Promise<StringMap> {
    if (state.userNotFound) return {};
    const user = await (await backend.userPool()).getUserByUsername(backend.ctx, state.userName);
    if (!user) return {};
    return { ...Object.fromEntries((user.Attributes ?? []).map((a) => [a.Name, a.Value ?? ''])), 'cognito:user_status': user.UserStatus ?? 'CONFIRMED' };
  }
}
