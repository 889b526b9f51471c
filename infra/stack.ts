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
import { UserPool, type TriggerWiring } from './user-pool.ts';
import { UserPoolWaf } from './waf.ts';
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

  constructor(scope: Construct, id: string, props: CognitoTriggersStackProps) {
    super(scope, id);
    const config = props.config;
    this.config = config;
    const prefix = stackName(config);
    const distDir = props.distDir ?? DIST_DIR;
    const senders = config.deliveryMode === 'custom-senders';

    new AwsProvider(this, 'aws', {
      region: config.region,
      allowedAccountIds: [config.awsAccountId],
      defaultTags: [{ tags: { ...config.tags, environment: config.environment } }],
    });
    addStateBackend(this, prefix, props.remoteState);

    this.table = new DataTable(this, 'data', { name: `${prefix}-data`, deletionProtection: config.deletionProtection });
    this.welcomeFailures = new FailureQueue(this, 'welcome-failures', { name: `${prefix}-welcome-email-failures` });
    this.email = new EmailIdentity(this, 'email', {
      fromAddress: config.email.fromAddress,
      receiverAddresses: config.email.sesReceiverIdentities,
    });
    this.legacy = new LegacyPool(this, 'legacy', {
      create: config.legacyPool.create,
      name: `${prefix}-legacy`,
      deletionProtection: config.deletionProtection,
      existing: { userPoolId: config.legacyPool.userPoolId, clientId: config.legacyPool.clientId, region: legacyRegion(config) },
      accountId: config.awsAccountId,
    });
    if (senders) {
      this.senderKey = new SenderKey(this, 'sender-key', { alias: `${prefix}-custom-senders`, accountId: config.awsAccountId, deletionWindowDays: 30 });
      this.secrets = new ProviderSecrets(this, 'secrets', { namePrefix: prefix, recoveryWindowDays: config.deletionProtection ? 30 : 7 });
    }

    const fns: Partial<Record<FunctionName, ProjectFunction>> = {};
    // The pool ARN is not known to function policies here: it goes in separate policies added below.
    const grantTargets = (stateMachineArn: string): GrantTargets => ({
      tableArn: this.table.arn,
      stateMachineArn,
      userPoolArn: '',
      tableStreamArn: this.table.streamArn,
      welcomeFailureQueueArn: this.welcomeFailures.arn,
      region: config.region,
      legacyUserPoolArn: this.legacy.userPoolArn,
      sesIdentityArns: this.email.sendEmailResources,
      kmsKeyArn: this.senderKey?.arn,
      sendgridSecretArn: this.secrets?.sendgrid.arn,
      twilioSecretArn: this.secrets?.twilio.arn,
    });
    const refs = (stateMachineArn: string): ResourceRefs => ({
      tableName: this.table.name,
      reminderStateMachineArn: stateMachineArn,
      kmsKeyArn: this.senderKey?.arn,
      sendgridSecretArn: this.secrets?.sendgrid.arn,
      twilioSecretArn: this.secrets?.twilio.arn,
      legacy: { userPoolId: this.legacy.userPoolId, clientId: this.legacy.clientId, region: this.legacy.region },
    });
    const addFunction = (spec: (typeof FUNCTIONS)[number], stateMachineArn: string, startAfter: readonly ITerraformDependable[] = []): ProjectFunction => {
      const fn = new ProjectFunction(this, `fn-${spec.name}`, {
        name: spec.name,
        kind: spec.kind,
        description: spec.description,
        functionName: `${prefix}-${spec.name}`,
        zipPath: path.join(distDir, `${spec.name}.zip`),
        environment: functionEnvironment(spec.name, config, refs(stateMachineArn)),
        statements: functionGrants(spec.name, grantTargets(stateMachineArn)).own,
        logLevel: config.logs.level,
        logRetentionDays: config.logs.retentionDays,
        memoryMb: memoryMbFor(config, spec.kind),
        accountId: config.awsAccountId,
        startAfter,
      });
      fns[spec.name] = fn;
      return fn;
    };

    // Order follows references: tasks (workflow and stream), then the workflow, then the triggers that start them.
    const deployed = deployedFunctions(config);
    const isTask = (f: (typeof FUNCTIONS)[number]) => f.kind === 'workflow-task' || f.kind === 'async-task';
    for (const spec of deployed.filter(isTask)) addFunction(spec, '');
    const welcome = fns['send-welcome-email']!;
    this.welcomeStream = new StreamTrigger(this, 'welcome-stream', {
      ...WELCOME_EMAIL_STREAM,
      streamArn: this.table.streamArn,
      functionName: welcome.functionName,
      onFailureDestinationArn: this.welcomeFailures.arn,
      dependsOn: [welcome.policy],
    });
    this.workflow = new ReminderWorkflow(this, 'reminder', {
      name: `${prefix}-signup-reminder`,
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
      addFunction(spec, this.workflow.arn, spec.name === 'post-confirmation' ? [this.welcomeStream.mapping] : []);
    }
    this.functions = fns;

    const triggers = Object.fromEntries(
      deployed.filter((f) => 'trigger' in f).map((f) => [(f as { trigger: string }).trigger, fns[f.name]!]),
    ) as unknown as TriggerWiring;
    this.userPool = new UserPool(this, 'user-pool', {
      name: prefix,
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
    if (config.threatProtection.mode !== 'off') {
      this.threatProtection = new ThreatProtection(this, 'threat-protection', {
        userPoolId: this.userPool.pool.id,
        actions: { low: config.threatProtection.lowRisk, medium: config.threatProtection.mediumRisk, high: config.threatProtection.highRisk },
        notify: config.threatProtection.notify,
        branding: { appName: config.email.appName, ...(config.email.appUrl ? { appUrl: config.email.appUrl } : {}) },
        from: `${config.email.fromName} <${config.email.fromAddress}>`,
        sesIdentityArn: this.email.senderArn,
      });
    }
    if (config.waf.enabled) {
      this.waf = new UserPoolWaf(this, 'waf', {
        name: `${prefix}-user-pool`,
        userPoolArn: this.userPool.arn,
        signInLimit: config.waf.signInLimit,
        signUpLimit: config.waf.signUpLimit,
        windowSeconds: config.waf.windowSeconds,
      });
    }

    const withPool: GrantTargets = { ...grantTargets(this.workflow.arn), userPoolArn: this.userPool.arn };
    for (const name of POOL_SCOPED_FUNCTIONS) fns[name]!.addPolicy('this-user-pool', functionGrants(name, withPool).pool);
    this.senderKey?.attachPolicy({
      userPoolArn: this.userPool.arn,
      decrypterRoleArns: [fns['custom-email-sender']!.role.arn, fns['custom-sms-sender']!.role.arn],
    });

    if (config.alarms.enabled) {
      this.alarms = new Alarms(this, 'alarms', {
        prefix,
        accountId: config.awsAccountId,
        region: config.region,
        ...(config.alarms.topicArn ? { topicArn: config.alarms.topicArn } : {}),
        ...(config.alarms.email ? { email: config.alarms.email } : {}),
        functions: deployed.map((f) => fns[f.name]!),
        welcomeFailures: this.welcomeFailures,
        workflow: this.workflow,
        ...(this.waf ? { webAcl: this.waf } : {}),
      });
    }

    const output = (id: string, value: string, description: string): void => {
      new TerraformOutput(this, id, { value, description });
    };
    output('region', config.region, 'AWS region of the stack');
    output('user_pool_id', this.userPool.pool.id, 'Cognito user pool id');
    output('user_pool_client_id', this.userPool.client.id, 'Public app client id');
    output('table_name', this.table.name, 'DynamoDB table name');
    output('welcome_email_failures_queue_url', this.welcomeFailures.url, 'SQS queue describing the welcome-email stream records Lambda gave up on');
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
