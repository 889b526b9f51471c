/**
 * One cognito-local instance, composed from its library parts instead of its CLI so that the parts
 * that would hide trigger bugs can be replaced:
 *
 * - triggers are invoked through the local Lambda Invoke API with the event shapes real Cognito sends
 *   (version, region, callerContext, `cognito:user_status`), and a thrown error becomes Cognito's
 *   `<Trigger> failed with error <message>.` (cognito-local names the function instead);
 * - PostConfirmation, PostAuthentication and CustomMessage errors fail the call, as in Cognito
 *   (cognito-local logs and ignores them);
 * - custom sender codes are encrypted with the AWS Encryption SDK under the pool's KMS key with the
 *   `userpool-id` encryption context, and the senders are invoked asynchronously, as in Cognito
 *   (cognito-local uses no context and calls them synchronously);
 * - SMS goes to the CustomSMSSender trigger (cognito-local sends it to the email sender);
 * - Cognito's own mail (the `cognito` delivery mode) goes out through the local SES;
 * - sign-in names are case-insensitive when the pool says so;
 * - tokens are Cognito's (tokens.ts), and the calls cognito-local lacks or answers differently in
 *   sign-up, password reset and sign-out are served by targets.ts;
 * - state lives in memory, per instance.
 *
 * Each instance serves one set of triggers, so the legacy pool runs in its own instance with none.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { KeyringNode } from '@aws-crypto/client-node';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { CognitoServiceImpl } from 'cognito-local/lib/services/cognitoService.js';
import type { UserPoolService, User } from 'cognito-local/lib/services/userPoolService.js';
import type { Context } from 'cognito-local/lib/services/context.js';
import type { Services } from 'cognito-local/lib/services/index.js';
import type { StackPool } from '../stack.ts';
import { adopt, type Listening } from '../lib/http.ts';
import { attributeUpdateTargets, messageUser } from './attribute-updates.ts';
import { codeContext, encryptCode, kmsKeyring } from './code-encryption.ts';
import { sandboxTargets } from './targets.ts';
import { currentRequest, overridesOf, PoolTokens, type TokenOverrides } from './tokens.ts';

const require = createRequire(import.meta.url);
/* eslint-disable @typescript-eslint/no-require-imports */
const { CognitoServiceImpl: CognitoServiceImplCtor, USER_POOL_AWS_DEFAULTS } = require('cognito-local/lib/services/cognitoService.js') as typeof import('cognito-local/lib/services/cognitoService.js');
const { UserPoolServiceFactoryImpl } = require('cognito-local/lib/services/userPoolService.js') as typeof import('cognito-local/lib/services/userPoolService.js');
const { DateClock } = require('cognito-local/lib/services/clock.js') as typeof import('cognito-local/lib/services/clock.js');
const { TriggersService } = require('cognito-local/lib/services/triggers/triggers.js') as typeof import('cognito-local/lib/services/triggers/triggers.js');
const { UserMigration } = require('cognito-local/lib/services/triggers/userMigration.js') as typeof import('cognito-local/lib/services/triggers/userMigration.js');
const { otp } = require('cognito-local/lib/services/otp.js') as typeof import('cognito-local/lib/services/otp.js');
const { Router } = require('cognito-local/lib/server/Router.js') as typeof import('cognito-local/lib/server/Router.js');
const { createServer } = require('cognito-local/lib/server/server.js') as typeof import('cognito-local/lib/server/server.js');
const errors = require('cognito-local/lib/errors.js') as typeof import('cognito-local/lib/errors.js');
const pino = require('pino') as (options: object) => import('pino').Logger;
/* eslint-enable @typescript-eslint/no-require-imports */

/** Cognito's names for the trigger slots, as they appear in its error messages. */
export const TRIGGER_NAMES = {
  pre_sign_up: 'PreSignUp',
  custom_message: 'CustomMessage',
  post_confirmation: 'PostConfirmation',
  pre_authentication: 'PreAuthentication',
  post_authentication: 'PostAuthentication',
  pre_token_generation: 'PreTokenGeneration',
  user_migration: 'UserMigration',
  define_auth_challenge: 'DefineAuthChallenge',
  create_auth_challenge: 'CreateAuthChallenge',
  verify_auth_challenge_response: 'VerifyAuthChallengeResponse',
  custom_email_sender: 'CustomEmailSender',
  custom_sms_sender: 'CustomSMSSender',
} as const;
type Slot = keyof typeof TRIGGER_NAMES;
const SLOT_OF: Record<string, Slot> = Object.fromEntries(Object.entries(TRIGGER_NAMES).map(([slot, name]) => [name, slot as Slot]));

/** Calls a function on the local Lambda host through the Invoke API. */
export async function invokeLambda(lambdaUrl: string, functionName: string, event: unknown, async = false): Promise<{ functionError?: string; payload: unknown; status: number }> {
  const res = await fetch(`${lambdaUrl}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(async ? { 'x-amz-invocation-type': 'Event' } : {}) },
    body: JSON.stringify(event),
  });
  const text = await res.text();
  const functionError = res.headers.get('x-amz-function-error') ?? undefined;
  return { status: res.status, ...(functionError ? { functionError } : {}), payload: text ? JSON.parse(text) : null };
}

/** In-memory replacement of cognito-local's file store. */
class MemoryStore {
  constructor(private root: Record<string, unknown>) {}
  private walk(key: string | string[], create: boolean): { parent: Record<string, unknown>; last: string } | undefined {
    const path = Array.isArray(key) ? key : [key];
    let node = this.root;
    for (const k of path.slice(0, -1)) {
      if (node[k] === undefined || node[k] === null || typeof node[k] !== 'object') {
        if (!create) return undefined;
        node[k] = {};
      }
      node = node[k] as Record<string, unknown>;
    }
    return { parent: node, last: path[path.length - 1]! };
  }
  async delete(_ctx: Context, key: string | string[]) {
    const at = this.walk(key, false);
    if (at) delete at.parent[at.last];
  }
  async getRoot<T>() {
    return this.root as T;
  }
  async get<T>(_ctx: Context, key: string | string[], defaultValue?: T) {
    const at = this.walk(key, false);
    const value = at ? at.parent[at.last] : undefined;
    return (value ?? defaultValue ?? null) as T;
  }
  async set<T>(_ctx: Context, key: string | string[], value: T) {
    const at = this.walk(key, true)!;
    at.parent[at.last] = structuredClone(value);
  }
}

export interface BackendOptions {
  readonly pool: StackPool;
  readonly region: string;
  readonly accountId: string;
  readonly lambdaUrl: string;
  readonly kmsUrl?: string;
  readonly sesUrl: string;
  /** Issuer base of the tokens: the public Cognito endpoint. */
  readonly issuerBase: string;
  /** Where Cognito-delivered SMS is recorded (the SNS side of the `cognito` delivery mode). */
  readonly onCognitoSms?: (to: string, text: string) => void;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
}

/** One cognito-local instance serving one user pool (and its clients). */
export class CognitoBackend {
  private listening?: Listening;
  private cognito!: CognitoServiceImpl;
  readonly ctx: Context;
  private readonly ses: SESv2Client;
  private keyring?: KeyringNode;
  /** The tokens this pool issued, and the check of those presented to it. */
  tokens!: PoolTokens;

  constructor(readonly options: BackendOptions) {
    const logger = pino({ level: process.env.SANDBOX_COGNITO_LOG_LEVEL ?? 'silent' });
    this.ctx = { logger: logger as unknown as Context['logger'] };
    this.ses = new SESv2Client({ region: options.region, endpoint: options.sesUrl, credentials: options.credentials });
    if (options.pool.kmsKeyArn && options.kmsUrl) {
      this.keyring = kmsKeyring(options.pool.kmsKeyArn, { region: options.region, endpoint: options.kmsUrl, credentials: options.credentials }).keyring;
    }
  }

  get url(): string {
    return this.listening!.url;
  }

  /** The pool's user service, for the proxy's lookups. */
  async userPool(): Promise<UserPoolService> {
    return this.cognito.getUserPool(this.ctx, this.options.pool.id);
  }

  enabled(slot: Slot): boolean {
    return !!this.options.pool.triggers[slot];
  }

  /** A trigger event with the common fields real Cognito sends. */
  event(triggerSource: string, userName: string, clientId: string | null | undefined, request: object, response: object = {}, version = '1') {
    return {
      version,
      triggerSource,
      region: this.options.region,
      userPoolId: this.options.pool.id,
      userName,
      callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: clientId ?? 'CLIENT_ID_NOT_APPLICABLE' },
      request,
      response,
    };
  }

  /** Invokes a synchronous trigger; a function error becomes Cognito's UserLambdaValidationException. */
  async trigger(slot: Slot, event: ReturnType<CognitoBackend['event']>): Promise<Record<string, unknown>> {
    const functionName = this.options.pool.triggers[slot];
    if (!functionName) throw new Error(`${TRIGGER_NAMES[slot]} trigger not configured`);
    let result;
    try {
      result = await invokeLambda(this.options.lambdaUrl, functionName, event);
    } catch {
      throw new errors.CognitoError('UnexpectedLambdaException', `${TRIGGER_NAMES[slot]} invocation failed due to error AccessDeniedException.`);
    }
    if (result.status >= 300) throw new errors.CognitoError('UnexpectedLambdaException', `${TRIGGER_NAMES[slot]} invocation failed due to error ${result.status}.`);
    if (result.functionError) {
      const payload = (result.payload ?? {}) as { errorMessage?: string; errorType?: string };
      if (payload.errorType === 'Sandbox.Timedout') throw new errors.CognitoError('UnexpectedLambdaException', `${TRIGGER_NAMES[slot]} invocation failed due to error TimeoutException.`);
      throw new errors.UserLambdaValidationError(`${TRIGGER_NAMES[slot]} failed with error ${payload.errorMessage ?? 'Unhandled'}.`);
    }
    const response = (result.payload as { response?: unknown } | null)?.response;
    if (!response || typeof response !== 'object') throw new errors.InvalidLambdaResponseError();
    return response as Record<string, unknown>;
  }

  /** Encrypts a code as Cognito does for custom senders. */
  private async encryptCode(code: string): Promise<string> {
    if (!this.keyring) throw new errors.CognitoError('InvalidParameterException', 'A custom sender is configured without a KMS key');
    return encryptCode(this.keyring, code, codeContext(this.options.pool.id));
  }

  /** Hands a code to a custom sender, asynchronously, as Cognito does. */
  async customSender(slot: 'custom_email_sender' | 'custom_sms_sender', source: string, user: User, code: string, clientId: string | null, clientMetadata?: Record<string, string>): Promise<void> {
    const kind = slot === 'custom_email_sender' ? 'CustomEmailSender' : 'CustomSMSSender';
    const event = this.event(`${kind}_${source}`, user.Username, clientId, {
      type: slot === 'custom_email_sender' ? 'customEmailSenderRequestV1' : 'customSMSSenderRequestV1',
      code: await this.encryptCode(code),
      userAttributes: { ...recordOf(user), 'cognito:user_status': user.UserStatus ?? 'UNCONFIRMED' },
      clientMetadata: clientMetadata ?? {},
    });
    await invokeLambda(this.options.lambdaUrl, this.options.pool.triggers[slot]!, event, true);
  }

  /**
   * Starts cognito-local with one named step per way it differs from Cognito: case-insensitive
   * usernames, the pool and clients as the stack defines them, Cognito's trigger event shapes, the
   * triggers it calls differently or not at all, message delivery through the custom senders, and the
   * targets it lacks (attribute updates, sandbox targets).
   */
  async start(): Promise<void> {
    const pool = this.options.pool;
    const clock = new DateClock();
    const clientsStore = new MemoryStore({ Clients: {} });
    this.cognito = new CognitoServiceImplCtor('', clientsStore, {}, this.userPoolFactory(clock));
    (this.cognito as unknown as { userPools: unknown[] }).userPools = [];
    await this.createPool(new Date());

    const lambda = this.lambdaSeam();
    const triggers = new TriggersService(clock, this.cognito, lambda as never, {} as never);
    this.tokens = new PoolTokens(`${this.options.issuerBase}/${pool.id}`, async (ctx, user, client, clientMetadata, source, groups) => {
      if (!this.enabled('pre_token_generation')) return undefined;
      const groupConfiguration = { groupsToOverride: [...groups], iamRolesToOverride: [], preferredRole: undefined };
      return (await triggers.preTokenGeneration(ctx, { clientId: client.ClientId, clientMetadata, source: source as never, userAttributes: user.Attributes, username: user.Username, groupConfiguration, userPoolId: pool.id } as never)) as unknown as TokenOverrides;
    });
    const t = this.patchTriggers(triggers, lambda, clock);
    const messages = this.messageDelivery(t);

    const services = {
      clock,
      cognito: this.cognito,
      config: { UserPoolDefaults: { UsernameAttributes: [...pool.usernameAttributes] }, TriggerFunctions: {}, TokenConfig: { IssuerDomain: this.options.issuerBase }, LambdaClient: {}, KMSConfig: {}, ServerConfig: {} },
      messages,
      otp,
      tokenGenerator: this.tokens,
      triggers,
    } as unknown as Services;
    // Attribute changes, their codes and the client's write_attributes as Cognito handles them (attribute-updates.ts).
    const attributeTargets = attributeUpdateTargets({ pool, userPool: (ctx) => this.cognito.getUserPool(ctx, pool.id), deliver: messages.deliver, otp, now: () => clock.get() });
    const baseRouter = Router(services);
    const extra = {
      ...attributeTargets,
      ...sandboxTargets({
        backend: this,
        base: baseRouter as never,
        otp,
        tokens: this.tokens,
        deliver: (ctx, source, clientId, user, code, clientMetadata, delivery) => messages.deliver(ctx, source, clientId, pool.id, user, code, clientMetadata, delivery),
      }),
    };
    // Each call runs with its request at hand, for the token generator (which refresh token is in use).
    const router = (target: string) => {
      const handler = (extra[target] ?? baseRouter(target)) as (ctx: Context, req: Record<string, unknown>) => Promise<unknown>;
      return (ctx: Context, req: Record<string, unknown>) => currentRequest.run(req, () => handler(ctx, req));
    };
    const server = createServer(router as never, this.ctx.logger as never, { port: 0, hostname: '127.0.0.1', development: false }, services);
    this.listening = adopt((await (server as unknown as { start(): Promise<Server> }).start()) as Server);
  }

  /** cognito-local looks usernames up case-sensitively; a case-insensitive pool (as the stack's is) matches any case, and aliases. */
  private userPoolFactory(clock: InstanceType<typeof DateClock>) {
    const caseSensitive = this.options.pool.caseSensitive;
    const factory = new UserPoolServiceFactoryImpl(clock, { create: async (_ctx: Context, _id: string, defaults: object) => new MemoryStore(structuredClone(defaults) as Record<string, unknown>) });
    const baseCreate = factory.create.bind(factory);
    factory.create = async (ctx, clients, defaults) => {
      const service = await baseCreate(ctx, clients, defaults);
      if (!caseSensitive) {
        const lookup = service.getUserByUsername.bind(service);
        service.getUserByUsername = async (c, username) => {
          const exact = await lookup(c, username);
          if (exact) return exact;
          const wanted = username.toLowerCase();
          const users = await service.listUsers(c);
          return users.find((u) => u.Username.toLowerCase() === wanted || (u.Attributes ?? []).some((a) => (a.Name === 'email' || a.Name === 'sub') && a.Value?.toLowerCase() === wanted)) ?? null;
        };
      }
      return service;
    };
    return factory;
  }

  /** The pool and its app clients as the synthesized stack defines them. */
  private async createPool(now: Date): Promise<void> {
    const pool = this.options.pool;
    await this.cognito.createUserPool(this.ctx, {
      ...USER_POOL_AWS_DEFAULTS,
      Id: pool.id,
      Name: pool.name,
      Arn: pool.arn,
      CreationDate: now,
      LastModifiedDate: now,
      UsernameAttributes: [...pool.usernameAttributes],
      UsernameConfiguration: { CaseSensitive: pool.caseSensitive },
      AutoVerifiedAttributes: [...pool.autoVerifiedAttributes],
      Policies: {
        PasswordPolicy: {
          MinimumLength: pool.passwordPolicy.minimumLength,
          RequireLowercase: pool.passwordPolicy.requireLowercase,
          RequireUppercase: pool.passwordPolicy.requireUppercase,
          RequireNumbers: pool.passwordPolicy.requireNumbers,
          RequireSymbols: pool.passwordPolicy.requireSymbols,
          TemporaryPasswordValidityDays: pool.passwordPolicy.temporaryPasswordValidityDays,
        },
      },
      MfaConfiguration: 'OFF',
    });
    const userPool = await this.cognito.getUserPool(this.ctx, pool.id);
    for (const c of pool.clients) {
      await userPool.saveAppClient(this.ctx, {
        ClientId: c.id,
        ClientName: c.name,
        UserPoolId: pool.id,
        CreationDate: now,
        LastModifiedDate: now,
        ExplicitAuthFlows: [...c.explicitAuthFlows],
        PreventUserExistenceErrors: c.preventUserExistenceErrors ? 'ENABLED' : 'LEGACY',
        ...(c.accessTokenValidity !== undefined ? { AccessTokenValidity: c.accessTokenValidity } : {}),
        ...(c.idTokenValidity !== undefined ? { IdTokenValidity: c.idTokenValidity } : {}),
        ...(c.refreshTokenValidity !== undefined ? { RefreshTokenValidity: c.refreshTokenValidity } : {}),
        TokenValidityUnits: { AccessToken: c.tokenValidityUnits?.AccessToken ?? 'hours', IdToken: c.tokenValidityUnits?.IdToken ?? 'hours', RefreshToken: c.tokenValidityUnits?.RefreshToken ?? 'days' },
      } as never);
    }

  }

  /** The Lambda seam cognito-local's triggers call; event shapes and errors are Cognito's. */
  private lambdaSeam() {
    const pool = this.options.pool;
    return {
      enabled: (name: string) => !!SLOT_OF[name] && this.enabled(SLOT_OF[name]!),
      invoke: async (_ctx: Context, name: string, e: Record<string, unknown>) => {
        const slot = SLOT_OF[name]!;
        const attributes = (e.userAttributes ?? {}) as Record<string, string>;
        const common = (request: object, response: object = {}, version = '1') => this.event(String(e.triggerSource), String(e.username), e.clientId as string | null, request, response, version);
        switch (name) {
          case 'PreSignUp':
            return this.trigger(slot, common({ userAttributes: attributes, validationData: e.validationData ?? null, clientMetadata: e.clientMetadata ?? {} }, { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false }));
          case 'UserMigration':
            return this.trigger(slot, common({ password: e.password, validationData: e.validationData ?? {}, clientMetadata: e.clientMetadata ?? {} }, { userAttributes: {}, finalUserStatus: undefined, messageAction: undefined, desiredDeliveryMediums: undefined, forceAliasCreation: undefined }));
          case 'PostConfirmation':
            return this.trigger(slot, common({ userAttributes: attributes, clientMetadata: e.clientMetadata ?? {} }));
          case 'PostAuthentication':
            return this.trigger(slot, common({ userAttributes: { ...attributes, 'cognito:user_status': 'CONFIRMED' }, newDeviceUsed: false, clientMetadata: e.clientMetadata ?? {} }));
          case 'CustomMessage':
            return this.trigger(slot, common({ userAttributes: attributes, codeParameter: e.codeParameter, usernameParameter: e.usernameParameter ?? null, linkParameter: '{##Click Here##}', clientMetadata: e.clientMetadata ?? {} }, { smsMessage: null, emailMessage: null, emailSubject: null }));
          case 'PreTokenGeneration': {
            // V3_0 sends user sign-ins in the V2 shape, with version "3".
            const v2 = pool.preTokenGenerationVersion !== 'V1_0';
            const event = common(
              {
                userAttributes: { ...attributes, 'cognito:user_status': 'CONFIRMED' },
                groupConfiguration: { groupsToOverride: [], iamRolesToOverride: [], preferredRole: null },
                ...(v2 ? { scopes: ['aws.cognito.signin.user.admin'] } : {}),
                clientMetadata: e.clientMetadata ?? {},
              },
              v2 ? { claimsAndScopeOverrideDetails: null } : { claimsOverrideDetails: null },
              pool.preTokenGenerationVersion === 'V3_0' ? '3' : v2 ? '2' : '1',
            );
            return overridesOf(await this.trigger(slot, event), v2);
          }
          default:
            throw new Error(`Unsupported trigger ${name}`);
        }
      },
    };
  }

  /**
   * The triggers cognito-local calls in another shape (post confirmation, post authentication, custom
   * message) or leaves a gap in (a migrated user without a `sub`).
   */
  private patchTriggers(triggers: InstanceType<typeof TriggersService>, lambda: ReturnType<CognitoBackend['lambdaSeam']>, clock: InstanceType<typeof DateClock>): Record<string, unknown> {
    const pool = this.options.pool;
    const t = triggers as unknown as Record<string, unknown>;
    t.postConfirmation = async (ctx: Context, p: { clientId: string | null; clientMetadata?: object; source: string; userAttributes: Array<{ Name: string; Value?: string }>; username: string }) => {
      await lambda.invoke(ctx, 'PostConfirmation', { ...p, triggerSource: p.source, userAttributes: recordFromList(p.userAttributes) });
    };
    t.postAuthentication = async (ctx: Context, p: { clientId: string; clientMetadata?: object; source: string; userAttributes: Array<{ Name: string; Value?: string }>; username: string }) => {
      await lambda.invoke(ctx, 'PostAuthentication', { ...p, triggerSource: p.source, userAttributes: recordFromList(p.userAttributes) });
    };
    t.customMessage = async (ctx: Context, p: { clientId: string | null; clientMetadata?: object; code: string; source: string; userAttributes: Array<{ Name: string; Value?: string }>; username: string }) => {
      const response = (await lambda.invoke(ctx, 'CustomMessage', { ...p, triggerSource: p.source, codeParameter: '{####}', usernameParameter: p.source === 'CustomMessage_AdminCreateUser' ? '{username}' : null, userAttributes: recordFromList(p.userAttributes) })) as { emailMessage?: string | null; emailSubject?: string | null; smsMessage?: string | null };
      checkCustomMessage(p.source, response);
      const fill = (s?: string | null) => (s ? s.replaceAll('{####}', p.code).replaceAll('{username}', p.username) : undefined);
      return { emailMessage: fill(response.emailMessage), emailSubject: response.emailSubject ?? undefined, smsMessage: fill(response.smsMessage) };
    };
    // cognito-local creates the migrated user without a `sub`; Cognito always assigns one.
    const migrate = UserMigration({ clock, lambda: lambda as never, cognitoClient: this.cognito });
    t.userMigration = async (ctx: Context, p: Parameters<typeof migrate>[1]) => {
      const user = await migrate(ctx, p);
      if ((user.Attributes ?? []).some((a) => a.Name === 'sub')) return user;
      const sub = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(user.Username) ? user.Username : randomUUID();
      const withSub = { ...user, Attributes: [...(user.Attributes ?? []), { Name: 'sub', Value: sub }] };
      await (await this.cognito.getUserPool(ctx, pool.id)).saveUser(ctx, withSub);
      return withSub;
    };

    return t;
  }

  /** Codes go to the custom senders when the pool has them, otherwise through custom message and SES, as Cognito sends them. */
  private messageDelivery(t: Record<string, unknown>) {
    const pool = this.options.pool;
    return {
      deliver: async (ctx: Context, source: string, clientId: string | null, _userPoolId: string, storedUser: User, code: string, clientMetadata: Record<string, string> | undefined, delivery: { AttributeName?: string; DeliveryMedium?: string; Destination?: string }) => {
        const user = messageUser(storedUser, source, delivery.AttributeName);
        const sms = delivery.DeliveryMedium === 'SMS';
        if (!sms && this.enabled('custom_email_sender') && source !== 'Authentication') return this.customSender('custom_email_sender', source, user, code, clientId, clientMetadata);
        if (sms && this.enabled('custom_sms_sender')) return this.customSender('custom_sms_sender', source, user, code, clientId, clientMetadata);
        const custom = this.enabled('custom_message')
          ? await (t.customMessage as (c: Context, p: object) => Promise<{ emailMessage?: string; emailSubject?: string; smsMessage?: string }>)(ctx, { clientId, clientMetadata, code, source: `CustomMessage_${source}`, userAttributes: user.Attributes, username: user.Username })
          : {};
        const text = source === 'AdminCreateUser' ? `Your username is ${user.Username} and temporary password is ${code}.` : `Your verification code is ${code}.`;
        if (sms) {
          this.options.onCognitoSms?.(delivery.Destination ?? '', custom.smsMessage ?? text);
          return;
        }
        const html = custom.emailMessage ?? text;
        await this.ses.send(
          new SendEmailCommand({
            FromEmailAddress: pool.emailFrom,
            Destination: { ToAddresses: [delivery.Destination ?? ''] },
            Content: { Simple: { Subject: { Data: custom.emailSubject ?? (source === 'AdminCreateUser' ? 'Your temporary password' : 'Your verification code') }, Body: { Html: { Data: html } } } },
          }),
        );
      },
    };
  }

  async stop(): Promise<void> {
    await this.listening?.close();
  }
}

function recordFromList(attributes: Array<{ Name: string; Value?: string }> | undefined): Record<string, string> {
  return Object.fromEntries((attributes ?? []).filter((a) => a.Value !== undefined).map((a) => [a.Name, a.Value!]));
}

function recordOf(user: User): Record<string, string> {
  return recordFromList(user.Attributes as Array<{ Name: string; Value?: string }>);
}

/** Cognito refuses custom messages without the code placeholder, or over its size limits. */
function checkCustomMessage(source: string, r: { emailMessage?: string | null; smsMessage?: string | null }): void {
  const needsCode = source !== 'CustomMessage_AccountTakeOverNotification';
  const bad = (why: string) => new errors.CognitoError('InvalidLambdaResponseException', `Invalid lambda response: ${why}`);
  if (needsCode && r.emailMessage && !r.emailMessage.includes('{####}')) throw bad('emailMessage does not contain the code parameter {####}');
  if (needsCode && r.smsMessage && !r.smsMessage.includes('{####}')) throw bad('smsMessage does not contain the code parameter {####}');
  if (source === 'CustomMessage_AdminCreateUser' && r.emailMessage && !r.emailMessage.includes('{username}')) throw bad('emailMessage does not contain the username parameter {username}');
  if (r.emailMessage && r.emailMessage.length > 20_000) throw bad('emailMessage is longer than 20,000 characters');
  if (r.smsMessage && r.smsMessage.length > 140) throw bad('smsMessage is longer than 140 characters');
}
