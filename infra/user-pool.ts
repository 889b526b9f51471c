import { Construct } from 'constructs';
import { CognitoUserPool, type CognitoUserPoolLambdaConfig } from '@cdktf/provider-aws/lib/cognito-user-pool';
import { CognitoUserPoolClient } from '@cdktf/provider-aws/lib/cognito-user-pool-client';
import type { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { FUNCTIONS, type FunctionName, type FunctionSpec, type TriggerSlot } from '../functions/catalog.ts';
import { CLIENT_READ_ATTRIBUTES, CLIENT_WRITE_ATTRIBUTES, VERIFY_BEFORE_UPDATE } from '../functions/common/attributes.ts';
import type { ProjectFunction } from './lambda-function.ts';

/**
 * The password rules of the user pool, shared with the legacy pool: lazy migration sets the password a
 * user typed on the new pool, so any password the legacy pool accepted must pass here too.
 */
export const PASSWORD_RULES = {
  minimumLength: 12,
  requireLowercase: true,
  requireUppercase: true,
  requireNumbers: true,
  requireSymbols: true,
  temporaryPasswordValidityDays: 3,
} as const;

/** Slots filled only in custom-senders mode. */
const SENDER_SLOTS = ['custom_email_sender', 'custom_sms_sender'] as const satisfies readonly TriggerSlot[];
/** Slots filled only with passwordless sign-in. */
const CHALLENGE_SLOTS = ['define_auth_challenge', 'create_auth_challenge', 'verify_auth_challenge_response'] as const satisfies readonly TriggerSlot[];
type SenderSlot = (typeof SENDER_SLOTS)[number];
type ChallengeSlot = (typeof CHALLENGE_SLOTS)[number];
/** Slots a configuration may leave empty. */
const OPTIONAL_SLOTS: ReadonlySet<TriggerSlot> = new Set([...SENDER_SLOTS, ...CHALLENGE_SLOTS]);

/** The functions filling each `lambda_config` slot. Sender slots are present only in custom-senders mode, challenge slots only with passwordless sign-in. */
export type TriggerWiring = Readonly<Record<Exclude<TriggerSlot, SenderSlot | ChallengeSlot>, ProjectFunction>> & Readonly<Partial<Record<SenderSlot | ChallengeSlot, ProjectFunction>>>;

/**
 * The wiring of the deployed functions, each in its catalog slot. Refuses a configuration that leaves a
 * slot empty which every pool fills, naming the slot.
 */
export function triggerWiring(deployed: readonly (typeof FUNCTIONS)[number][], functions: Readonly<Partial<Record<FunctionName, ProjectFunction>>>): TriggerWiring {
  const wiring: Partial<Record<TriggerSlot, ProjectFunction>> = {};
  const slotOf = (spec: FunctionSpec): TriggerSlot | undefined => spec.trigger;
  for (const spec of deployed) {
    const slot = slotOf(spec);
    const fn = functions[spec.name];
    if (slot && fn) wiring[slot] = fn;
  }
  const required = FUNCTIONS.flatMap((f) => {
    const slot = slotOf(f);
    return slot && !OPTIONAL_SLOTS.has(slot) ? [slot] : [];
  });
  const empty = required.filter((slot) => !wiring[slot]);
  if (empty.length > 0) throw new Error(`No function fills the ${empty.join(', ')} trigger slot`);
  return wiring as TriggerWiring;
}

export interface UserPoolProps {
  /** Pool name (also the app client's name prefix). */
  readonly name: string;
  /** The trigger functions. */
  readonly triggers: TriggerWiring;
  /** KMS key ARN Cognito encrypts sender codes with; required when the sender slots are filled. */
  readonly senderKeyArn?: string;
  /** Event version of the pre-token-generation trigger. */
  readonly preTokenGenerationVersion: 'V1_0' | 'V2_0' | 'V3_0';
  /**
   * Passwordless sign-in: the client allows CUSTOM_AUTH and its sign-in session lasts as long as a link
   * or code (minutes). Requires the three challenge slots filled; absent, none may be.
   */
  readonly passwordless?: { readonly sessionMinutes: number };
  /** Cognito feature plan. */
  readonly tier: 'LITE' | 'ESSENTIALS' | 'PLUS';
  /** Sender address; an SES identity verified in this account. */
  readonly fromAddress: string;
  /** Sender display name. */
  readonly fromName: string;
  /** ARN of the sender's SES identity. */
  readonly sesIdentityArn: string;
  /** Refuse deletion of the pool. */
  readonly deletionProtection: boolean;
  /**
   * Cognito threat protection's mode (PLUS tier): `AUDIT` scores risk, `ENFORCED` also acts on it
   * through the pool's risk configuration (infra/threat-protection.ts). Absent: off.
   */
  readonly advancedSecurityMode?: 'AUDIT' | 'ENFORCED';
  /** Token validities of the app client. */
  readonly tokens: { readonly accessTokenMinutes: number; readonly idTokenMinutes: number; readonly refreshTokenDays: number };
}

/**
 * The user pool (email as case-insensitive username, self sign-up, SES delivery) with all its triggers
 * and a public app client. Each trigger may be invoked by this pool only.
 */
export class UserPool extends Construct {
  /** The pool. */
  readonly pool: CognitoUserPool;
  /** The public app client. */
  readonly client: CognitoUserPoolClient;
  /** One invoke permission per trigger, scoped to this pool. */
  readonly permissions: readonly LambdaPermission[];

  constructor(scope: Construct, id: string, props: UserPoolProps) {
    super(scope, id);
    const t = props.triggers;
    const senders = t.custom_email_sender !== undefined || t.custom_sms_sender !== undefined;
    if (senders && (!t.custom_email_sender || !t.custom_sms_sender || !props.senderKeyArn)) {
      throw new Error('Custom senders need both sender functions and a KMS key');
    }
    const challengeSlots = [t.define_auth_challenge, t.create_auth_challenge, t.verify_auth_challenge_response];
    const challenges = challengeSlots.every((fn) => fn !== undefined);
    if (challenges !== (props.passwordless !== undefined) || (!challenges && challengeSlots.some((fn) => fn !== undefined))) {
      throw new Error('Passwordless sign-in needs all three challenge functions, and the challenge functions need passwordless sign-in');
    }
    const lambdaConfig: CognitoUserPoolLambdaConfig = {
      preSignUp: t.pre_sign_up.arn,
      customMessage: t.custom_message.arn,
      postConfirmation: t.post_confirmation.arn,
      preAuthentication: t.pre_authentication.arn,
      postAuthentication: t.post_authentication.arn,
      userMigration: t.user_migration.arn,
      preTokenGenerationConfig: { lambdaArn: t.pre_token_generation.arn, lambdaVersion: props.preTokenGenerationVersion },
      ...(challenges
        ? { defineAuthChallenge: t.define_auth_challenge!.arn, createAuthChallenge: t.create_auth_challenge!.arn, verifyAuthChallengeResponse: t.verify_auth_challenge_response!.arn }
        : {}),
      ...(senders
        ? {
            kmsKeyId: props.senderKeyArn,
            customEmailSender: { lambdaArn: t.custom_email_sender!.arn, lambdaVersion: 'V1_0' },
            customSmsSender: { lambdaArn: t.custom_sms_sender!.arn, lambdaVersion: 'V1_0' },
          }
        : {}),
    };
    this.pool = new CognitoUserPool(this, 'pool', {
      name: props.name,
      userPoolTier: props.tier,
      usernameAttributes: ['email'],
      usernameConfiguration: { caseSensitive: false },
      autoVerifiedAttributes: ['email'],
      userAttributeUpdateSettings: { attributesRequireVerificationBeforeUpdate: [...VERIFY_BEFORE_UPDATE] },
      adminCreateUserConfig: { allowAdminCreateUserOnly: false },
      deletionProtection: props.deletionProtection ? 'ACTIVE' : 'INACTIVE',
      passwordPolicy: { ...PASSWORD_RULES, passwordHistorySize: props.tier === 'LITE' ? undefined : 5 },
      accountRecoverySetting: { recoveryMechanism: [{ name: 'verified_email', priority: 1 }] },
      emailConfiguration: {
        emailSendingAccount: 'DEVELOPER',
        fromEmailAddress: `${props.fromName} <${props.fromAddress}>`,
        sourceArn: props.sesIdentityArn,
      },
      lambdaConfig,
      ...(props.advancedSecurityMode ? { userPoolAddOns: { advancedSecurityMode: props.advancedSecurityMode } } : {}),
    });
    this.client = new CognitoUserPoolClient(this, 'client', {
      name: `${props.name}-app`,
      userPoolId: this.pool.id,
      generateSecret: false,
      explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', ...(props.passwordless ? ['ALLOW_CUSTOM_AUTH'] : []), 'ALLOW_REFRESH_TOKEN_AUTH'],
      // A magic link is bound to its sign-in session, so the session lasts as long as the link.
      ...(props.passwordless ? { authSessionValidity: props.passwordless.sessionMinutes } : {}),
      // Explicit lists rather than Cognito's defaults: the client writes the profile and never a verification
      // flag (a user who could set email_verified would verify an address without the code), stated and
      // tested here instead of left to whatever the default grants.
      readAttributes: [...CLIENT_READ_ATTRIBUTES],
      writeAttributes: [...CLIENT_WRITE_ATTRIBUTES],
      preventUserExistenceErrors: 'ENABLED',
      enableTokenRevocation: true,
      accessTokenValidity: props.tokens.accessTokenMinutes,
      idTokenValidity: props.tokens.idTokenMinutes,
      refreshTokenValidity: props.tokens.refreshTokenDays,
      tokenValidityUnits: [{ accessToken: 'minutes', idToken: 'minutes', refreshToken: 'days' }],
    });
    const wired = Object.values(props.triggers).filter((fn): fn is ProjectFunction => fn !== undefined);
    this.permissions = wired.map((fn) => fn.allowCognito(this.pool.arn));
  }

  /** Pool ARN, the source every trigger permission is scoped to. */
  get arn(): string {
    return this.pool.arn;
  }
}
