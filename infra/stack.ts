import path from 'node:path';
import { Construct } from 'constructs';
import { TerraformOutput, TerraformStack, type ITerraformDependable } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { FUNCTIONS, type FunctionName } from '../functions/catalog.ts';
import { Alarms } from './alarms.ts';
import { addStateBackend, type RemoteState } from './backend.ts';
import { memoryMbFor, stackName, type Config } from './config.ts';
import { DataTable } from './data-table.ts';
import { EmailIdentity } from './email-identity.ts';
import { FailureQueue } from './failure-queue.ts';
import { deployedFunctions, functionEnvironment, functionGrants, POOL_SCOPED_FUNCTIONS, type GrantTargets, type ResourceRefs } from './functions/index.ts';
import { LegacyPool, legacyRegion } from './legacy-pool.ts';
import { ProviderSecrets } from './provider-secrets.ts';
import { ReminderWorkflow } from './reminder-workflow.ts';
import { SenderKey } from './sender-key.ts';
import { StreamTrigger } from './stream-trigger.ts';
import { ProjectFunction } from './lambda-function.ts';
import { ThreatProtection } from './threat-protection.ts';
import { triggerWiring, UserPool, type TriggerWiring } from './user-pool.ts';
import { UserPoolWaf } from './waf.ts';
import { LOCK_NOTICE_STREAM } from './lock-notice-stream.ts';
import { WELCOME_EMAIL_STREAM } from './welcome-email-stream.ts';

/** Where `make build` writes the zips. */
export const DIST_DIR = path.resolve(import.meta.dirname, '..', 'dist');

export interface CognitoTriggersStackProps {
  /** The validated configuration. */
  readonly config: Config;
  /** Directory holding dist/<name>.zip; defaults to the project's dist/. */
  readonly distDir?: string;
  /** Remote state; local state when absent. */
  readonly remoteState?: RemoteState;
}

/**
 * The whole deployment: user pool and triggers, legacy pool, table, reminder workflow, SES identities and,
 * in custom-senders mode, the sender key and provider secrets. Account and region come from config, so
 * nothing here asks AWS at plan time.
 */
export class CognitoTriggersStack extends TerraformStack {
  readonly config: Config;
  readonly table: DataTable;
  readonly email: EmailIdentity;
  readonly legacy: LegacyPool;
  readonly workflow: ReminderWorkflow;
  readonly userPool: UserPool;
  /** Receives what the welcome email's event source mapping gave up on. */
  readonly welcomeFailures: FailureQueue;
  /** The event source mapping from the table's stream to send-welcome-email. */
  readonly welcomeStream: StreamTrigger;
  /** Receives what the lock notice's event source mapping gave up on. */
  readonly lockNoticeFailures: FailureQueue;
  /** The event source mapping from the table's stream to notify-lockout. */
  readonly lockNoticeStream: StreamTrigger;
  /** Deployed functions by catalog name. */
  readonly functions: Readonly<Partial<Record<FunctionName, ProjectFunction>>>;
  /** Present unless `alarms.enabled` is false. */
  readonly alarms?: Alarms;
  /** Present in custom-senders mode. */
  readonly senderKey?: SenderKey;
  /** Present in custom-senders mode. */
  readonly secrets?: ProviderSecrets;
  /** The user pool's web ACL; present when `waf.enabled`. */
  readonly waf?: UserPoolWaf;
  /** The pool's risk configuration; present unless `threatProtection.mode` is off. */
  readonly threatProtection?: ThreatProtection;

  private readonly prefix: string;

  /**
   * The steps in the order their references need: the provider and state; the data, queues, identities
   * and keys the functions reference; the functions with the workflow and the stream they drive; the
   * pool that calls the triggers, with its protections; the grants that name the pool; alarms; outputs.
   */
  constructor(scope: Construct, id: string, props: CognitoTriggersStackProps) {
    super(scope, id);
    const config = props.config;
    this.config = config;
    this.prefix = stackName(config);
    this.addProvider(props.remoteState);

    this.table = new DataTable(this, 'data', { name: `${this.prefix}-data`, deletionProtection: config.deletionProtection });
    this.welcomeFailures = new FailureQueue(this, 'welcome-failures', { name: `${this.prefix}-welcome-email-failures` });
    this.lockNoticeFailures = new FailureQueue(this, 'lock-notice-failures', { name: `${this.prefix}-lock-notice-failures` });
    this.email = new EmailIdentity(this, 'email', { fromAddress: config.email.fromAddress, receiverAddresses: config.email.sesReceiverIdentities });
    this.legacy = new LegacyPool(this, 'legacy', {
      create: config.legacyPool.create,
      name: `${this.prefix}-legacy`,
      deletionProtection: config.deletionProtection,
      existing: { userPoolId: config.legacyPool.userPoolId, clientId: config.legacyPool.clientId, region: legacyRegion(config) },
      accountId: config.awsAccountId,
    });
    if (config.deliveryMode === 'custom-senders') {
      this.senderKey = new SenderKey(this, 'sender-key', { alias: `${this.prefix}-custom-senders`, accountId: config.awsAccountId, deletionWindowDays: 30 });
      this.secrets = new ProviderSecrets(this, 'secrets', { namePrefix: this.prefix, recoveryWindowDays: config.deletionProtection ? 30 : 7 });
    }

    const { functions, welcomeStream, lockNoticeStream, workflow } = this.addFunctions(props.distDir ?? DIST_DIR);
    this.functions = functions;
    this.welcomeStream = welcomeStream;
    this.lockNoticeStream = lockNoticeStream;
    this.workflow = workflow;

    this.userPool = this.addUserPool(triggerWiring(deployedFunctions(config), functions));
    this.threatProtection = this.addThreatProtection();
    this.waf = this.addWaf();
    this.grantPoolAccess();
    this.alarms = this.addAlarms();
    this.addOutputs();
  }

  private addProvider(remoteState: RemoteState | undefined): void {
    const config = this.config;
    new AwsProvider(this, 'aws', {
      region: config.region,
      allowedAccountIds: [config.awsAccountId],
      defaultTags: [{ tags: { ...config.tags, environment: config.environment } }],
    });
    addStateBackend(this, this.prefix, remoteState);
  }

  /** What a function's grants name. The pool ARN is left out: grants naming it go in separate policies (see {@link grantPoolAccess}). */
  private grantTargets(stateMachineArn: string): GrantTargets {
    return {
      tableArn: this.table.arn,
      stateMachineArn,
      userPoolArn: '',
      tableStreamArn: this.table.streamArn,
      welcomeFailureQueueArn: this.welcomeFailures.arn,
      lockNoticeFailureQueueArn: this.lockNoticeFailures.arn,
      region: this.config.region,
      legacyUserPoolArn: this.legacy.userPoolArn,
      sesIdentityArns: this.email.sendEmailResources,
      kmsKeyArn: this.senderKey?.arn,
      sendgridSecretArn: this.secrets?.sendgrid.arn,
      twilioSecretArn: this.secrets?.twilio.arn,
    };
  }

  /** What a function's environment names. */
  private refs(stateMachineArn: string): ResourceRefs {
    return {
      tableName: this.table.name,
      reminderStateMachineArn: stateMachineArn,
      kmsKeyArn: this.senderKey?.arn,
      sendgridSecretArn: this.secrets?.sendgrid.arn,
      twilioSecretArn: this.secrets?.twilio.arn,
      legacy: { userPoolId: this.legacy.userPoolId, clientId: this.legacy.clientId, region: this.legacy.region },
    };
  }

  /**
   * Every deployed function, in the order references need: the tasks (workflow and stream), then the
   * workflow and the stream mapping that drive them, then the triggers that start them.
   */
  private addFunctions(distDir: string): {
    functions: Partial<Record<FunctionName, ProjectFunction>>;
    welcomeStream: StreamTrigger;
    lockNoticeStream: StreamTrigger;
    workflow: ReminderWorkflow;
  } {
    const config = this.config;
    const fns: Partial<Record<FunctionName, ProjectFunction>> = {};
    const addFunction = (spec: (typeof FUNCTIONS)[number], stateMachineArn: string, startAfter: readonly ITerraformDependable[] = []): void => {
      fns[spec.name] = new ProjectFunction(this, `fn-${spec.name}`, {
        name: spec.name,
        kind: spec.kind,
        description: spec.description,
        functionName: `${this.prefix}-${spec.name}`,
        zipPath: path.join(distDir, `${spec.name}.zip`),
        environment: functionEnvironment(spec.name, config, this.refs(stateMachineArn)),
        statements: functionGrants(spec.name, this.grantTargets(stateMachineArn), config).own,
        logLevel: config.logs.level,
        logRetentionDays: config.logs.retentionDays,
        memoryMb: memoryMbFor(config, spec.kind),
        accountId: config.awsAccountId,
        startAfter,
      });
    };
    const deployed = deployedFunctions(config);
    const isTask = (f: (typeof FUNCTIONS)[number]) => f.kind === 'workflow-task' || f.kind === 'async-task';
    for (const spec of deployed.filter(isTask)) addFunction(spec, '');
    // Lambda checks the role's stream and queue grants when it creates a mapping, so each waits for its function's policy.
    const drive = (id: string, name: FunctionName, settings: typeof WELCOME_EMAIL_STREAM | typeof LOCK_NOTICE_STREAM, failures: FailureQueue): StreamTrigger =>
      new StreamTrigger(this, id, { ...settings, streamArn: this.table.streamArn, functionName: fns[name]!.functionName, onFailureDestinationArn: failures.arn, dependsOn: [fns[name]!.policy] });
    const welcomeStream = drive('welcome-stream', 'send-welcome-email', WELCOME_EMAIL_STREAM, this.welcomeFailures);
    const lockNoticeStream = drive('lock-notice-stream', 'notify-lockout', LOCK_NOTICE_STREAM, this.lockNoticeFailures);
    const workflow = new ReminderWorkflow(this, 'reminder', {
      name: `${this.prefix}-signup-reminder`,
      reminderDelaySeconds: config.workflow.reminderDelaySeconds,
      deletionDelaySeconds: config.workflow.deletionDelaySeconds,
      sendReminderFunctionArn: fns['send-reminder']!.arn,
      deleteUnconfirmedUserFunctionArn: fns['delete-unconfirmed-user']!.arn,
      logRetentionDays: config.logs.retentionDays,
      accountId: config.awsAccountId,
    });
    // The mapping starts at the stream's newest record, so post-confirmation, which saves the profiles it
    // carries, is deployed only once the mapping exists (and with it, the user pool that calls it).
    for (const spec of deployed.filter((f) => !isTask(f))) {
      addFunction(spec, workflow.arn, spec.name === 'post-confirmation' ? [welcomeStream.mapping] : []);
    }
    return { functions: fns, welcomeStream, lockNoticeStream, workflow };
  }

  private addUserPool(triggers: TriggerWiring): UserPool {
    const config = this.config;
    return new UserPool(this, 'user-pool', {
      name: this.prefix,
      triggers,
      senderKeyArn: this.senderKey?.arn,
      preTokenGenerationVersion: config.preTokenGenerationVersion,
      ...(config.passwordless.enabled ? { passwordless: { sessionMinutes: config.passwordless.validityMinutes } } : {}),
      tier: config.userPoolTier,
      fromAddress: config.email.fromAddress,
      fromName: config.email.fromName,
      sesIdentityArn: this.email.senderArn,
      deletionProtection: config.deletionProtection,
      tokens: config.tokens,
      ...(config.threatProtection.mode === 'off' ? {} : { advancedSecurityMode: config.threatProtection.mode === 'audit' ? 'AUDIT' : 'ENFORCED' }),
    });
  }

  private addThreatProtection(): ThreatProtection | undefined {
    const { threatProtection, email } = this.config;
    if (threatProtection.mode === 'off') return undefined;
    return new ThreatProtection(this, 'threat-protection', {
      userPoolId: this.userPool.pool.id,
      actions: { low: threatProtection.lowRisk, medium: threatProtection.mediumRisk, high: threatProtection.highRisk },
      notify: threatProtection.notify,
      branding: { appName: email.appName, ...(email.appUrl ? { appUrl: email.appUrl } : {}) },
      from: `${email.fromName} <${email.fromAddress}>`,
      sesIdentityArn: this.email.senderArn,
    });
  }

  private addWaf(): UserPoolWaf | undefined {
    const { waf } = this.config;
    if (!waf.enabled) return undefined;
    return new UserPoolWaf(this, 'waf', {
      name: `${this.prefix}-user-pool`,
      userPoolArn: this.userPool.arn,
      signInLimit: waf.signInLimit,
      signUpLimit: waf.signUpLimit,
      windowSeconds: waf.windowSeconds,
    });
  }

  /** The grants that name the pool, in policies created after it, and the sender key's policy. */
  private grantPoolAccess(): void {
    const fns = this.functions;
    const withPool: GrantTargets = { ...this.grantTargets(this.workflow.arn), userPoolArn: this.userPool.arn };
    for (const name of POOL_SCOPED_FUNCTIONS) fns[name]!.addPolicy('this-user-pool', functionGrants(name, withPool, this.config).pool);
    this.senderKey?.attachPolicy({
      userPoolArn: this.userPool.arn,
      decrypterRoleArns: [fns['custom-email-sender']!.role.arn, fns['custom-sms-sender']!.role.arn],
    });
  }

  private addAlarms(): Alarms | undefined {
    const config = this.config;
    if (!config.alarms.enabled) return undefined;
    return new Alarms(this, 'alarms', {
      prefix: this.prefix,
      accountId: config.awsAccountId,
      region: config.region,
      ...(config.alarms.topicArn ? { topicArn: config.alarms.topicArn } : {}),
      ...(config.alarms.email ? { email: config.alarms.email } : {}),
      functions: deployedFunctions(config).map((f) => this.functions[f.name]!),
      welcomeFailures: this.welcomeFailures,
      lockNoticeFailures: this.lockNoticeFailures,
      workflow: this.workflow,
      ...(this.waf ? { webAcl: this.waf } : {}),
    });
  }

  private addOutputs(): void {
    const output = (id: string, value: string, description: string): void => {
      new TerraformOutput(this, id, { value, description });
    };
    output('region', this.config.region, 'AWS region of the stack');
    output('user_pool_id', this.userPool.pool.id, 'Cognito user pool id');
    output('user_pool_client_id', this.userPool.client.id, 'Public app client id');
    output('table_name', this.table.name, 'DynamoDB table name');
    output('welcome_email_failures_queue_url', this.welcomeFailures.url, 'SQS queue describing the welcome-email stream records Lambda gave up on');
    output('lock_notice_failures_queue_url', this.lockNoticeFailures.url, 'SQS queue describing the lock-notice stream records Lambda gave up on');
    output('state_machine_arn', this.workflow.arn, 'Sign-up reminder state machine ARN');
    output('legacy_user_pool_id', this.legacy.userPoolId, 'Legacy user pool id (user migration source)');
    output('legacy_client_id', this.legacy.clientId, 'Legacy app client id');
    if (this.waf) output('web_acl_arn', this.waf.webAcl.arn, 'AWS WAF web ACL holding the per-IP rate limits of the user pool');
    if (this.alarms) output('alarm_topic_arn', this.alarms.topicArn, 'SNS topic every alarm notifies');
    if (this.senderKey && this.secrets) {
      output('kms_key_arn', this.senderKey.arn, 'KMS key ARN of the custom senders');
      output('sendgrid_secret_arn', this.secrets.sendgrid.arn, 'Secret to fill with {"apiKey": "..."}');
      output('twilio_secret_arn', this.secrets.twilio.arn, 'Secret to fill with {"accountSid", "authToken", "fromNumber"}');
    }
  }
}
