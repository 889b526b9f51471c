/**
 * The single list of deployable functions. The build, the stack, the sandbox and the benchmark all
 * read it, so a function added here is bundled, deployed, served locally and measured everywhere.
 */

/** How a function is invoked, which decides its timeout and who may call it. */
export type FunctionKind =
  /** Called synchronously by Cognito, which gives up after 5 s. */
  | 'sync-trigger'
  /** Called asynchronously by Cognito (custom senders); Lambda retries when it throws. */
  | 'async-trigger'
  /** Called by the sign-up reminder state machine. */
  | 'workflow-task'
  /**
   * Off the user's path, driven by an event source mapping on the table's stream; Lambda retries the
   * records it reports as failed.
   */
  | 'async-task';

/** The Cognito `lambda_config` slot a trigger fills. */
export type TriggerSlot =
  | 'pre_sign_up'
  | 'custom_message'
  | 'post_confirmation'
  | 'pre_authentication'
  | 'post_authentication'
  | 'pre_token_generation'
  | 'user_migration'
  | 'define_auth_challenge'
  | 'create_auth_challenge'
  | 'verify_auth_challenge_response'
  | 'custom_email_sender'
  | 'custom_sms_sender';

export interface FunctionSpec {
  /** Folder under `functions/`, bundle under `dist/`, and suffix of the deployed function name. */
  readonly name: string;
  readonly kind: FunctionKind;
  /** Present for Cognito triggers. */
  readonly trigger?: TriggerSlot;
  readonly description: string;
}

export const FUNCTIONS = [
  { name: 'pre-sign-up', kind: 'sync-trigger', trigger: 'pre_sign_up', description: 'Allows listed email domains and starts the sign-up reminder workflow' },
  { name: 'custom-message', kind: 'sync-trigger', trigger: 'custom_message', description: 'Personalises every message Cognito sends' },
  { name: 'post-confirmation', kind: 'sync-trigger', trigger: 'post_confirmation', description: 'Saves the confirmed user, which queues the welcome email' },
  { name: 'pre-authentication', kind: 'sync-trigger', trigger: 'pre_authentication', description: 'Counts sign-in attempts and locks out after too many' },
  { name: 'post-authentication', kind: 'sync-trigger', trigger: 'post_authentication', description: 'Audits each sign-in and clears the attempt counter' },
  { name: 'pre-token-generation', kind: 'sync-trigger', trigger: 'pre_token_generation', description: 'Removes the email claims from ID tokens' },
  { name: 'user-migration', kind: 'sync-trigger', trigger: 'user_migration', description: 'Moves users lazily from the legacy provider' },
  { name: 'define-auth-challenge', kind: 'sync-trigger', trigger: 'define_auth_challenge', description: 'Decides each step of a passwordless sign-in' },
  { name: 'create-auth-challenge', kind: 'sync-trigger', trigger: 'create_auth_challenge', description: 'Emails a magic link or a one-time code, throttled per login' },
  { name: 'verify-auth-challenge-response', kind: 'sync-trigger', trigger: 'verify_auth_challenge_response', description: 'Accepts a magic link or code once, before it expires' },
  { name: 'custom-email-sender', kind: 'async-trigger', trigger: 'custom_email_sender', description: 'Decrypts Cognito codes and emails them through SendGrid' },
  { name: 'custom-sms-sender', kind: 'async-trigger', trigger: 'custom_sms_sender', description: 'Decrypts Cognito codes and texts them through Twilio' },
  { name: 'send-reminder', kind: 'workflow-task', description: 'Reminds a user who has not confirmed yet' },
  { name: 'delete-unconfirmed-user', kind: 'workflow-task', description: 'Deletes a user who never confirmed and says so' },
  { name: 'send-welcome-email', kind: 'async-task', description: 'Sends one welcome email per new profile on the table stream' },
  { name: 'notify-lockout', kind: 'async-task', description: 'Tells the owner of an existing account, once per lock, that sign-in was paused' },
] as const satisfies readonly FunctionSpec[];

export type FunctionName = (typeof FUNCTIONS)[number]['name'];

/** The functions that only exist when Cognito hands delivery to our own senders. */
export const SENDER_FUNCTIONS: readonly FunctionName[] = ['custom-email-sender', 'custom-sms-sender'];

/** The functions that only exist when passwordless sign-in is on (`passwordless.enabled`). */
export const PASSWORDLESS_FUNCTIONS: readonly FunctionName[] = ['define-auth-challenge', 'create-auth-challenge', 'verify-auth-challenge-response'];
