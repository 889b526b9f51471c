import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { getToHaveResourceWithProperties } from 'cdktf/lib/testing/matchers';
import { CognitoUserPool } from '@cdktf/provider-aws/lib/cognito-user-pool';
import { CognitoUserPoolClient } from '@cdktf/provider-aws/lib/cognito-user-pool-client';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SfnStateMachine } from '@cdktf/provider-aws/lib/sfn-state-machine';
import { FUNCTIONS, type FunctionName } from '../../functions/catalog.ts';
import { ENV } from '../../functions/common/config.ts';
import { memoryMbFor, stackName } from '../../infra/config.ts';
import type { PolicyStatement } from '../../infra/iam.ts';
import { UNSCOPABLE_STREAM_ACTIONS } from '../../infra/functions/define.ts';
import { LOG_DELIVERY_ACTIONS } from '../../infra/reminder-workflow.ts';
import { DIST_DIR } from '../../infra/stack.ts';
import { deployedNames, functionId, idWhere, poolId, ref, resources, roleId, roleStatements, synthesize, testConfig, type Synthesized } from './helpers.ts';

const toHave = getToHaveResourceWithProperties();

function expectResource(s: Synthesized, type: { tfResourceType: string }, props: Record<string, unknown>): void {
  const result = toHave(s.text, type, props);
  expect(result.pass, result.message).to.equal(true);
}

/** The runtime contract's table, typed with the ENV names. */
const CONTRACT_ENV: Record<FunctionName, string[]> = {
  'pre-sign-up': [ENV.allowedEmailDomains, ENV.allowSubdomains, ENV.reminderStateMachineArn],
  'custom-message': [ENV.appName, ENV.appUrl, ENV.allowedEmailDomains, ENV.allowSubdomains],
  'post-confirmation': [ENV.tableName],
  'pre-authentication': [ENV.tableName, ENV.lockoutMaxAttempts, ENV.lockoutWindowSeconds, ENV.lockoutDurationSeconds, ENV.lockoutEscalation, ENV.lockoutMaxDurationSeconds, ENV.lockoutFailMode],
  'post-authentication': [ENV.tableName, ENV.auditRetentionDays],
  'pre-token-generation': [ENV.allowedEmailDomains, ENV.allowSubdomains],
  'user-migration': [ENV.allowedEmailDomains, ENV.allowSubdomains, ENV.legacyUserPoolId, ENV.legacyClientId, ENV.legacyRegion],
  'define-auth-challenge': [],
  'create-auth-challenge': [
    ENV.tableName, ENV.appName, ENV.appUrl, ENV.fromEmailAddress, ENV.fromEmailName, ENV.allowedEmailDomains, ENV.allowSubdomains,
    ENV.passwordlessLinkUrl, ENV.passwordlessValiditySeconds, ENV.passwordlessMinIntervalSeconds, ENV.passwordlessMaxPerHour,
  ],
  'verify-auth-challenge-response': [ENV.tableName],
  'custom-email-sender': [
    ENV.kmsKeyArn, ENV.tableName, ENV.sendgridSecretArn, ENV.sendgridApiBaseUrl, ENV.appName, ENV.appUrl, ENV.fromEmailAddress, ENV.fromEmailName, ENV.allowedEmailDomains, ENV.allowSubdomains,
  ],
  'custom-sms-sender': [ENV.kmsKeyArn, ENV.tableName, ENV.twilioSecretArn, ENV.twilioApiBaseUrl, ENV.appName, ENV.allowedEmailDomains, ENV.allowSubdomains],
  'send-reminder': [ENV.tableName, ENV.appName, ENV.appUrl, ENV.fromEmailAddress, ENV.fromEmailName],
  'delete-unconfirmed-user': [ENV.appName, ENV.appUrl, ENV.fromEmailAddress, ENV.fromEmailName],
  'send-welcome-email': [ENV.tableName, ENV.appName, ENV.appUrl, ENV.fromEmailAddress, ENV.fromEmailName],
  'notify-lockout': [ENV.tableName, ENV.appName, ENV.appUrl, ENV.fromEmailAddress, ENV.fromEmailName, ENV.allowedEmailDomains, ENV.allowSubdomains, ENV.accountRecoveryUrl],
};

/** Every (action, resource) pair each role may use, from the least-privilege list in the README. */
function expectedGrants(s: Synthesized, name: FunctionName): string[] {
  const logGroup = idWhere(s, 'aws_cloudwatch_log_group', 'name', `/aws/lambda/${stackName(s.config)}-${name}`);
  const table = ref('aws_dynamodb_table', Object.keys(resources(s, 'aws_dynamodb_table'))[0]!, 'arn');
  const pool = ref('aws_cognito_user_pool', poolId(s), 'arn');
  const legacy = ref('aws_cognito_user_pool', idWhere(s, 'aws_cognito_user_pool', 'name', `${stackName(s.config)}-legacy`), 'arn');
  const machine = ref('aws_sfn_state_machine', Object.keys(resources(s, 'aws_sfn_state_machine'))[0]!, 'arn');
  const identities = Object.keys(resources(s, 'aws_sesv2_email_identity')).map((id) => ref('aws_sesv2_email_identity', id, 'arn'));
  const key = () => ref('aws_kms_key', Object.keys(resources(s, 'aws_kms_key'))[0]!, 'arn');
  const tableId = Object.keys(resources(s, 'aws_dynamodb_table'))[0]!;
  const stream = ref('aws_dynamodb_table', tableId, 'stream_arn');
  const queue = (suffix: string) => ref('aws_sqs_queue', idWhere(s, 'aws_sqs_queue', 'name', `${stackName(s.config)}-${suffix}`), 'arn');
  const secret = (provider: string) => ref('aws_secretsmanager_secret', idWhere(s, 'aws_secretsmanager_secret', 'name', `${stackName(s.config)}/${provider}`), 'arn');
  const pairs = (actions: string[], targets: string[]) => actions.flatMap((a) => targets.map((r) => `${a} ${r}`));
  const items = ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];
  const logs = pairs(['logs:CreateLogStream', 'logs:PutLogEvents'], [`${ref('aws_cloudwatch_log_group', logGroup, 'arn')}:*`]);
  const send = pairs(['ses:SendEmail'], identities);
  const readStream = [...pairs(['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], [stream]), ...pairs(['dynamodb:ListStreams'], ['*'])];
  const own: Record<FunctionName, () => string[]> = {
    'pre-sign-up': () => pairs(['states:StartExecution'], [machine]),
    'custom-message': () => [],
    'post-confirmation': () => pairs(['dynamodb:PutItem', 'dynamodb:DeleteItem'], [table]),
    'pre-authentication': () => pairs(['dynamodb:UpdateItem'], [table]),
    'post-authentication': () => pairs(['dynamodb:PutItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', ...(s.config.passwordless.enabled ? ['dynamodb:GetItem'] : [])], [table]),
    'pre-token-generation': () => [],
    'user-migration': () => pairs(['cognito-idp:AdminInitiateAuth', 'cognito-idp:AdminGetUser'], [legacy]),
    'define-auth-challenge': () => [],
    'create-auth-challenge': () => [...pairs(['dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:GetItem'], [table]), ...send],
    'verify-auth-challenge-response': () => pairs(['dynamodb:UpdateItem', 'dynamodb:PutItem'], [table]),
    'custom-email-sender': () => [...pairs(['kms:Decrypt'], [key()]), ...pairs(['secretsmanager:GetSecretValue'], [secret('sendgrid')]), ...pairs(items, [table])],
    'custom-sms-sender': () => [...pairs(['kms:Decrypt'], [key()]), ...pairs(['secretsmanager:GetSecretValue'], [secret('twilio')]), ...pairs(items, [table])],
    'send-reminder': () => [...pairs(items, [table]), ...send, ...pairs(['cognito-idp:AdminGetUser'], [pool])],
    'delete-unconfirmed-user': () => [...send, ...pairs(['cognito-idp:AdminGetUser', 'cognito-idp:AdminDeleteUser'], [pool])],
    'send-welcome-email': () => [...readStream, ...pairs(['sqs:SendMessage'], [queue('welcome-email-failures')]), ...pairs(items, [table]), ...pairs(['dynamodb:UpdateItem'], [table]), ...send],
    'notify-lockout': () => [...readStream, ...pairs(['sqs:SendMessage'], [queue('lock-notice-failures')]), ...pairs(items, [table]), ...send, ...pairs(['cognito-idp:AdminGetUser'], [pool])],
  };
  return [...logs, ...own[name]()].sort();
}

function grantedPairs(statements: PolicyStatement[]): string[] {
  return statements.flatMap((st) => st.Action.flatMap((a) => st.Resource.map((r) => `${a} ${r}`))).sort();
}

// Each mode once with passwordless sign-in and once without, so every function and both client shapes are checked.
for (const [mode, passwordless] of [['custom-senders', true], ['cognito', false], ['cognito', true]] as const) {
  describe(`stack in ${mode} mode, passwordless ${passwordless ? 'on' : 'off'}`, () => {
    let s: Synthesized;
    before(() => {
      s = synthesize(testConfig({ deliveryMode: mode, passwordless: { enabled: passwordless }, email: { sesReceiverIdentities: ['frodo@gmail.com'], appUrl: 'https://app.example.com' } }));
    });

    it('deploys exactly the functions of its delivery mode, on nodejs22.x arm64 from their reproducible zips', () => {
      const names = deployedNames(s.config);
      expect(Object.keys(resources(s, 'aws_lambda_function'))).to.have.length(names.length);
      for (const name of names) {
        const fn = resources(s, 'aws_lambda_function')[functionId(s, name)]!;
        const zip = readFileSync(path.join(DIST_DIR, `${name}.zip`));
        expect(fn, name).to.include({ runtime: 'nodejs22.x', handler: 'index.handler', source_code_hash: createHash('sha256').update(zip).digest('base64') });
        expect(fn.architectures).to.deep.equal(['arm64']);
        expect(fn.filename, name).to.match(new RegExp(`^assets/.+/${name}\\.zip$`));
        const kind = FUNCTIONS.find((f) => f.name === name)!.kind;
        if (kind === 'sync-trigger') expect(fn.timeout, `${name} timeout`).to.be.at.most(5);
        else if (kind === 'async-task') expect(fn.timeout, `${name} timeout`).to.equal(20);
        else expect(fn.timeout, `${name} timeout`).to.be.within(6, 29);
        expect(fn.memory_size, `${name} memory`).to.equal(memoryMbFor(s.config, kind));
      }
    });

    it('gives each function exactly the environment variables of the runtime contract', () => {
      for (const name of deployedNames(s.config)) {
        const vars = resources(s, 'aws_lambda_function')[functionId(s, name)]!.environment.variables as Record<string, string>;
        const withPasswordless = name === 'post-authentication' && passwordless ? [ENV.signInMethodMarkers] : [];
        expect(Object.keys(vars).sort(), name).to.deep.equal([...CONTRACT_ENV[name], ...withPasswordless, 'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_LOG_LEVEL'].sort());
        expect(vars.POWERTOOLS_SERVICE_NAME).to.equal(name);
      }
    });

    it('logs each function to its own log group with retention', () => {
      for (const name of deployedNames(s.config)) {
        const fn = resources(s, 'aws_lambda_function')[functionId(s, name)]!;
        const group = idWhere(s, 'aws_cloudwatch_log_group', 'name', `/aws/lambda/${stackName(s.config)}-${name}`);
        expect(fn.logging_config.log_group).to.equal(ref('aws_cloudwatch_log_group', group, 'name'));
        expect(resources(s, 'aws_cloudwatch_log_group')[group]!.retention_in_days).to.equal(s.config.logs.retentionDays);
      }
    });

    it('wires each lambda_config slot to the function of the same trigger', () => {
      const lambda = resources(s, 'aws_cognito_user_pool')[poolId(s)]!.lambda_config;
      const arn = (name: FunctionName) => ref('aws_lambda_function', functionId(s, name), 'arn');
      expect(lambda).to.include({
        pre_sign_up: arn('pre-sign-up'),
        custom_message: arn('custom-message'),
        post_confirmation: arn('post-confirmation'),
        pre_authentication: arn('pre-authentication'),
        post_authentication: arn('post-authentication'),
        user_migration: arn('user-migration'),
      });
      expect(lambda.pre_token_generation_config).to.deep.equal({ lambda_arn: arn('pre-token-generation'), lambda_version: 'V1_0' });
      expect(lambda).not.to.have.property('pre_token_generation');
      if (mode === 'custom-senders') {
        expect(lambda.custom_email_sender).to.deep.equal({ lambda_arn: arn('custom-email-sender'), lambda_version: 'V1_0' });
        expect(lambda.custom_sms_sender).to.deep.equal({ lambda_arn: arn('custom-sms-sender'), lambda_version: 'V1_0' });
        expect(lambda.kms_key_id).to.equal(ref('aws_kms_key', Object.keys(resources(s, 'aws_kms_key'))[0]!, 'arn'));
      } else {
        expect(lambda).not.to.have.any.keys('custom_email_sender', 'custom_sms_sender', 'kms_key_id');
      }
      if (passwordless) {
        expect(lambda).to.include({
          define_auth_challenge: arn('define-auth-challenge'),
          create_auth_challenge: arn('create-auth-challenge'),
          verify_auth_challenge_response: arn('verify-auth-challenge-response'),
        });
      } else {
        expect(lambda).not.to.have.any.keys('define_auth_challenge', 'create_auth_challenge', 'verify_auth_challenge_response');
      }
    });

    it('lets Cognito invoke each trigger, and only the triggers, on behalf of this pool only', () => {
      const triggers = deployedNames(s.config).filter((n) => 'trigger' in FUNCTIONS.find((f) => f.name === n)!);
      // Not Cognito's to call: the workflow tasks, and the functions the table's stream drives.
      expect(deployedNames(s.config).filter((n) => !triggers.includes(n)).sort()).to.deep.equal(['delete-unconfirmed-user', 'notify-lockout', 'send-reminder', 'send-welcome-email']);
      const permissions = Object.values(resources(s, 'aws_lambda_permission'));
      expect(permissions).to.have.length(triggers.length);
      for (const name of triggers) {
        const fnName = ref('aws_lambda_function', functionId(s, name), 'function_name');
        const mine = permissions.filter((p) => p.function_name === fnName);
        expect(mine, name).to.have.length(1);
        expect(mine[0], name).to.include({
          action: 'lambda:InvokeFunction',
          principal: 'cognito-idp.amazonaws.com',
          source_arn: ref('aws_cognito_user_pool', poolId(s), 'arn'),
        });
      }
    });

    it('grants each function role exactly the actions and resources its function uses', () => {
      for (const name of deployedNames(s.config)) {
        expect(grantedPairs(roleStatements(s, roleId(s, name))), name).to.deep.equal(expectedGrants(s, name));
      }
    });

    it('confines every item grant to the item kinds its function owns (dynamodb:LeadingKeys)', () => {
      // Per statement: send-welcome-email may write idempotency records, and only update profiles.
      const owned: Partial<Record<FunctionName, string[][]>> = {
        'post-confirmation': [['USER#*'], ['LOCKOUT#*']],
        'send-welcome-email': [['idempotency#*'], ['USER#*']],
        'notify-lockout': [['idempotency#*']],
        'pre-authentication': [['LOCKOUT#*']],
        'post-authentication': [['DEDUPE#*'], ['USER#*'], ['USER#*'], ['LOCKOUT#*'], ...(passwordless ? [['PASSWORDLESS#*']] : [])],
        'create-auth-challenge': [['PASSWORDLESS#*'], ['PASSWORDLESS#*'], ['PASSWORDLESS#*']],
        'verify-auth-challenge-response': [['PASSWORDLESS#*'], ['PASSWORDLESS#*']],
        'custom-email-sender': [['idempotency#*']],
        'custom-sms-sender': [['idempotency#*']],
        'send-reminder': [['idempotency#*']],
      };
      const table = ref('aws_dynamodb_table', Object.keys(resources(s, 'aws_dynamodb_table'))[0]!, 'arn');
      for (const name of deployedNames(s.config)) {
        const itemStatements = roleStatements(s, roleId(s, name)).filter((st) => st.Resource.includes(table));
        expect(itemStatements.map((st) => st.Condition), name).to.deep.equal(
          (owned[name] ?? []).map((prefixes) => ({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes } })),
        );
      }
    });

    it(`gives post-authentication one statement per action and item kind, DeleteItem on attempt state only${passwordless ? ', and reads sign-in method markers' : ', and no read of sign-in method markers'}`, () => {
      const table = ref('aws_dynamodb_table', Object.keys(resources(s, 'aws_dynamodb_table'))[0]!, 'arn');
      const statements = roleStatements(s, roleId(s, 'post-authentication')).filter((st) => st.Resource.includes(table));
      const grants = statements.map((st) => [st.Action, (st.Condition as { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': string[] } })['ForAllValues:StringLike']['dynamodb:LeadingKeys']]);
      expect(grants).to.deep.equal([
        [['dynamodb:PutItem'], ['DEDUPE#*']],
        [['dynamodb:PutItem'], ['USER#*']],
        [['dynamodb:UpdateItem'], ['USER#*']],
        [['dynamodb:DeleteItem'], ['LOCKOUT#*']],
        ...(passwordless ? [[['dynamodb:GetItem'], ['PASSWORDLESS#*']]] : []),
      ]);
    });

    it('has no wildcard action and no unscoped resource in any function role, but for listing streams, pinned to the region', () => {
      for (const name of deployedNames(s.config)) {
        for (const st of roleStatements(s, roleId(s, name))) {
          expect(st.Effect).to.equal('Allow');
          for (const action of st.Action) expect(action, name).not.to.include('*');
          if (st.Resource.includes('*')) {
            // IAM has no resource type for dynamodb:ListStreams (Service Authorization Reference).
            expect(st.Resource, name).to.deep.equal(['*']);
            expect(st.Action, name).to.deep.equal([...UNSCOPABLE_STREAM_ACTIONS]);
            expect(st.Condition, name).to.deep.equal({ StringEquals: { 'aws:RequestedRegion': s.config.region } });
            continue;
          }
          // Resources are references to this stack's resources; the only wildcard is a log group's streams.
          for (const resource of st.Resource) expect(resource, name).to.match(/^\$\{aws_[a-z0-9_]+\.[^}]+\.(stream_)?arn\}(:\*)?$/);
        }
      }
    });

    it('keeps statements naming the user pool out of the policies the functions wait for (no dependency cycle)', () => {
      const pool = `aws_cognito_user_pool.${poolId(s)}.`;
      for (const name of deployedNames(s.config)) {
        const fn = resources(s, 'aws_lambda_function')[functionId(s, name)]!;
        const waitedFor = (fn.depends_on as string[]).filter((d) => d.startsWith('aws_iam_role_policy.')).map((d) => d.split('.')[1]!);
        expect(waitedFor, name).to.have.length(1);
        for (const id of waitedFor) expect(resources(s, 'aws_iam_role_policy')[id]!.policy, name).not.to.include(pool);
      }
    });

    it('lets nothing invoke send-welcome-email or notify-lockout directly: no role names them and no permission exists for them', () => {
      for (const name of ['send-welcome-email', 'notify-lockout'] as const) {
        const id = functionId(s, name);
        const naming = Object.values(resources(s, 'aws_iam_role_policy')).filter((p) => (p.policy as string).includes(`aws_lambda_function.${id}.`));
        expect(naming, name).to.deep.equal([]);
        const fnName = ref('aws_lambda_function', id, 'function_name');
        expect(Object.values(resources(s, 'aws_lambda_permission')).filter((p) => p.function_name === fnName), name).to.deep.equal([]);
      }
      expect(roleStatements(s, roleId(s, 'post-confirmation')).flatMap((st) => st.Action)).to.deep.equal(['logs:CreateLogStream', 'logs:PutLogEvents', 'dynamodb:PutItem', 'dynamodb:DeleteItem']);
      expect(resources(s, 'aws_lambda_function_event_invoke_config'), 'no asynchronous invocation left to configure').to.deep.equal({});
    });

    it('enables the table stream with NEW_IMAGE, the smallest view that carries the profile', () => {
      expectResource(s, DynamodbTable, { stream_enabled: true, stream_view_type: 'NEW_IMAGE' });
    });

    /** The event source mapping invoking one function; there is exactly one. */
    const mappingOf = (name: FunctionName): [string, Record<string, any>] => {
      const fnName = ref('aws_lambda_function', functionId(s, name), 'function_name');
      const found = Object.entries(resources(s, 'aws_lambda_event_source_mapping')).filter(([, m]) => m.function_name === fnName);
      expect(found, name).to.have.length(1);
      return found[0]!;
    };
    const queueNamed = (suffix: string) => idWhere(s, 'aws_sqs_queue', 'name', `${stackName(s.config)}-${suffix}`);

    /** The mapping of a stream consumer, as the tests expect it: its filter and its own failure queue, the rest shared. */
    const expectStreamMapping = (name: FunctionName, filter: unknown, queue: string) => {
      const { '//': _metadata, depends_on: dependsOn, ...mapping } = mappingOf(name)[1];
      const tableId = Object.keys(resources(s, 'aws_dynamodb_table'))[0]!;
      expect(mapping, name).to.deep.equal({
        event_source_arn: ref('aws_dynamodb_table', tableId, 'stream_arn'),
        function_name: ref('aws_lambda_function', functionId(s, name), 'function_name'),
        starting_position: 'TRIM_HORIZON',
        batch_size: 10,
        maximum_batching_window_in_seconds: 1,
        function_response_types: ['ReportBatchItemFailures'],
        bisect_batch_on_function_error: true,
        maximum_retry_attempts: 10,
        maximum_record_age_in_seconds: 3600,
        filter_criteria: { filter: [{ pattern: JSON.stringify(filter) }] },
        destination_config: { on_failure: { destination_arn: ref('aws_sqs_queue', queueNamed(queue), 'arn') } },
      });
      // Lambda checks the role's stream and queue grants when it creates the mapping.
      const policyId = Object.entries(resources(s, 'aws_iam_role_policy')).find(([, p]) => p.role === ref('aws_iam_role', roleId(s, name), 'id'))![0];
      expect(dependsOn, name).to.deep.equal([`aws_iam_role_policy.${policyId}`]);
    };

    it('drives send-welcome-email from the table stream: new PENDING profiles only, partial batch responses, bisect, bounded retries, the failure queue', () => {
      expect(Object.keys(resources(s, 'aws_lambda_event_source_mapping'))).to.have.length(2);
      expectStreamMapping('send-welcome-email', { eventName: ['INSERT'], dynamodb: { NewImage: { sk: { S: ['PROFILE'] }, welcomeEmail: { S: ['PENDING'] } } } }, 'welcome-email-failures');
    });

    it('drives notify-lockout from the table stream: only writes naming a lock owner on attempt state, partial batch responses, bisect, bounded retries, its failure queue', () => {
      expectStreamMapping(
        'notify-lockout',
        { eventName: ['INSERT', 'MODIFY'], dynamodb: { Keys: { pk: { S: [{ prefix: 'LOCKOUT#' }] }, sk: { S: ['STATE'] } }, NewImage: { lockOwner: { S: [{ exists: true }] } } } },
        'lock-notice-failures',
      );
    });

    it('keeps the failure records 14 days in encrypted queues, each written only by its own stream consumer, and outputs their URLs', () => {
      const consumers = { 'send-welcome-email': ['welcome-email-failures', 'welcome_email_failures_queue_url'], 'notify-lockout': ['lock-notice-failures', 'lock_notice_failures_queue_url'] } as const;
      expect(Object.keys(resources(s, 'aws_sqs_queue'))).to.have.length(2);
      for (const [name, [suffix, output]] of Object.entries(consumers) as [FunctionName, readonly [string, string]][]) {
        const queueId = queueNamed(suffix);
        expect(resources(s, 'aws_sqs_queue')[queueId]).to.include({ message_retention_seconds: 1_209_600, sqs_managed_sse_enabled: true });
        const writers = deployedNames(s.config).filter((n) => roleStatements(s, roleId(s, n)).some((st) => st.Action.some((a) => a.startsWith('sqs:')) && st.Resource.includes(ref('aws_sqs_queue', queueId, 'arn'))));
        expect(writers, suffix).to.deep.equal([name]);
        expect(s.json.output[output]!.value).to.equal(ref('aws_sqs_queue', queueId, 'url'));
      }
    });

    it('deploys post-confirmation, and so the pool that calls it, only once the mapping reads the stream (it starts at the newest record)', () => {
      const mappingId = mappingOf('send-welcome-email')[0];
      const fn = resources(s, 'aws_lambda_function')[functionId(s, 'post-confirmation')]!;
      expect(fn.depends_on).to.include(`aws_lambda_event_source_mapping.${mappingId}`);
      const others = deployedNames(s.config).filter((n) => n !== 'post-confirmation');
      for (const name of others) expect(resources(s, 'aws_lambda_function')[functionId(s, name)]!.depends_on, name).to.have.length(1);
    });

    it('lets the reminder workflow invoke only its two tasks, and log', () => {
      const machine = Object.values(resources(s, 'aws_sfn_state_machine'))[0]!;
      const role = machine.role_arn.split('.')[1];
      const statements = roleStatements(s, role);
      const tasks = (['send-reminder', 'delete-unconfirmed-user'] as const).map((n) => ref('aws_lambda_function', functionId(s, n), 'arn'));
      const invoke = statements.find((st) => st.Action.includes('lambda:InvokeFunction'))!;
      expect(invoke.Action).to.deep.equal(['lambda:InvokeFunction']);
      expect([...invoke.Resource].sort()).to.deep.equal([...tasks, ...tasks.map((t) => `${t}:*`)].sort());
      // Log delivery is the one statement on `*`: CloudWatch Logs has no resource-level permissions for it.
      const rest = statements.filter((st) => st !== invoke);
      expect(rest).to.have.length(1);
      expect(rest[0]!.Action).to.deep.equal([...LOG_DELIVERY_ACTIONS]);
      expect(machine.logging_configuration).to.include({ include_execution_data: false });
      expect(machine.logging_configuration.log_destination).to.match(/^\$\{aws_cloudwatch_log_group\.[^}]+\.arn\}:\*$/);
    });

    it('renders every placeholder of the workflow, leaving references only to its two tasks', () => {
      const machine = Object.values(resources(s, 'aws_sfn_state_machine'))[0]!;
      const refs = [...(machine.definition as string).matchAll(/(?<!\$)\$\{([^}]+)\}/g)].map((m) => m[1]);
      expect(refs.sort()).to.deep.equal(
        (['delete-unconfirmed-user', 'send-reminder'] as const).map((n) => `aws_lambda_function.${functionId(s, n)}.arn`).sort(),
      );
      expect(machine.definition).to.include(`"Seconds": ${s.config.workflow.reminderDelaySeconds},`);
      expect(machine.definition).to.include(`"Seconds": ${s.config.workflow.deletionDelaySeconds},`);
    });

    it('configures the user pool: email username, case-insensitive, self sign-up, strong passwords, email recovery, SES', () => {
      expectResource(s, CognitoUserPool, {
        name: stackName(s.config),
        username_attributes: ['email'],
        username_configuration: { case_sensitive: false },
        auto_verified_attributes: ['email'],
        admin_create_user_config: { allow_admin_create_user_only: false },
        password_policy: { minimum_length: 12, require_lowercase: true, require_uppercase: true, require_numbers: true, require_symbols: true },
        account_recovery_setting: { recovery_mechanism: [{ name: 'verified_email', priority: 1 }] },
        email_configuration: {
          email_sending_account: 'DEVELOPER',
          from_email_address: `${s.config.email.fromName} <${s.config.email.fromAddress}>`,
        },
        deletion_protection: 'INACTIVE',
      });
      const pool = resources(s, 'aws_cognito_user_pool')[poolId(s)]!;
      expect(pool.account_recovery_setting.recovery_mechanism).to.have.length(1);
      expect(pool.email_configuration.source_arn).to.equal(ref('aws_sesv2_email_identity', idWhere(s, 'aws_sesv2_email_identity', 'email_identity', s.config.email.fromAddress), 'arn'));
    });

    it(`gives the app client no secret, the ${passwordless ? 'four flows (CUSTOM_AUTH for passwordless sign-in)' : 'three flows'}, no user-existence leaks and explicit token validities`, () => {
      const client = Object.values(resources(s, 'aws_cognito_user_pool_client')).find((c) => c.name === `${stackName(s.config)}-app`)!;
      expect(client.auth_session_validity).to.equal(passwordless ? s.config.passwordless.validityMinutes : undefined);
      expectResource(s, CognitoUserPoolClient, {
        name: `${stackName(s.config)}-app`,
        generate_secret: false,
        explicit_auth_flows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', ...(passwordless ? ['ALLOW_CUSTOM_AUTH'] : []), 'ALLOW_REFRESH_TOKEN_AUTH'],
        prevent_user_existence_errors: 'ENABLED',
        access_token_validity: s.config.tokens.accessTokenMinutes,
        id_token_validity: s.config.tokens.idTokenMinutes,
        refresh_token_validity: s.config.tokens.refreshTokenDays,
        token_validity_units: [{ access_token: 'minutes', id_token: 'minutes', refresh_token: 'days' }],
      });
    });

    it('holds a new email back until it is verified, and lets the app client write no verification flag', () => {
      expectResource(s, CognitoUserPool, { name: stackName(s.config), user_attribute_update_settings: { attributes_require_verification_before_update: ['email'] } });
      const client = Object.values(resources(s, 'aws_cognito_user_pool_client')).find((c) => c.name === `${stackName(s.config)}-app`)!;
      expect(client.write_attributes).to.include('email').and.include('name');
      for (const flag of ['email_verified', 'phone_number_verified']) {
        expect(client.write_attributes, flag).to.not.include(flag);
        expect(client.read_attributes, flag).to.include(flag);
      }
      // Every attribute a client may write it may also read back.
      expect(client.write_attributes.filter((a: string) => !client.read_attributes.includes(a))).to.deep.equal([]);
    });

    it('keeps data in an on-demand table with point-in-time recovery, encryption and TTL', () => {
      expectResource(s, DynamodbTable, {
        billing_mode: 'PAY_PER_REQUEST',
        hash_key: 'pk',
        range_key: 'sk',
        point_in_time_recovery: { enabled: true },
        server_side_encryption: { enabled: true },
        ttl: { attribute_name: 'expiresAt', enabled: true },
      });
    });

    it('verifies the sender and the configured SES sandbox receivers', () => {
      const identities = Object.values(resources(s, 'aws_sesv2_email_identity')).map((r) => r.email_identity);
      expect(identities.sort()).to.deep.equal([s.config.email.fromAddress, 'frodo@gmail.com'].sort());
    });

    it('holds no secret value: no secret version, no credential in any environment', () => {
      expect(resources(s, 'aws_secretsmanager_secret_version')).to.deep.equal({});
      for (const fn of Object.values(resources(s, 'aws_lambda_function'))) {
        for (const [key, value] of Object.entries(fn.environment.variables as Record<string, string>)) {
          if (/SECRET|KEY/.test(key)) expect(key).to.match(/_ARN$/);
          expect(value).not.to.match(/^(SG\.|AC[0-9a-f]{32})/);
        }
      }
      expect(s.text).not.to.match(/"(apiKey|authToken|secret_string)"/);
    });

    it('reads nothing from AWS: no data sources, account and region from config', () => {
      expect(s.json.data ?? {}).to.deep.equal({});
      expect(s.json.provider.aws[0]).to.deep.include({ region: s.config.region, allowed_account_ids: [s.config.awsAccountId] });
    });

    it(`outputs the ids and ARNs a deployment needs${mode === 'cognito' ? ', without a KMS key' : ', including the KMS key'}`, () => {
      const common = ['region', 'user_pool_id', 'user_pool_client_id', 'table_name', 'welcome_email_failures_queue_url', 'lock_notice_failures_queue_url', 'state_machine_arn', 'legacy_user_pool_id', 'legacy_client_id', 'alarm_topic_arn', 'web_acl_arn'];
      const senders = ['kms_key_arn', 'sendgrid_secret_arn', 'twilio_secret_arn'];
      expect(Object.keys(s.json.output).sort()).to.deep.equal((mode === 'custom-senders' ? [...common, ...senders] : common).sort());
    });

    if (mode === 'custom-senders') {
      it('lets only the two sender roles decrypt: in IAM and in the key policy', () => {
        const decrypters = deployedNames(s.config).filter((n) => roleStatements(s, roleId(s, n)).some((st) => st.Action.includes('kms:Decrypt')));
        expect(decrypters.sort()).to.deep.equal(['custom-email-sender', 'custom-sms-sender']);
        const policy = JSON.parse(Object.values(resources(s, 'aws_kms_key_policy'))[0]!.policy) as { Statement: PolicyStatement[] };
        const senderRoles = (['custom-email-sender', 'custom-sms-sender'] as const).map((n) => ref('aws_iam_role', roleId(s, n), 'arn'));
        const allowDecrypt = policy.Statement.filter((st) => st.Effect === 'Allow' && st.Action.some((a) => a === 'kms:Decrypt' || a === 'kms:*'));
        expect(allowDecrypt).to.have.length(1);
        expect(allowDecrypt[0]!.Principal).to.deep.equal({ AWS: senderRoles });
        const deny = policy.Statement.find((st) => st.Effect === 'Deny')!;
        expect(deny.Action).to.deep.equal(['kms:Decrypt']);
        expect(deny.Condition).to.deep.equal({ ArnNotEquals: { 'aws:PrincipalArn': senderRoles } });
        // The account administers the key but cannot use it.
        const admin = policy.Statement.find((st) => st.Sid === 'AccountAdministersKey')!;
        expect(admin.Action.filter((a) => /^kms:(Decrypt|Encrypt|GenerateDataKey|ReEncrypt|\*)/.test(a))).to.deep.equal([]);
      });

      it('lets Cognito encrypt with the key only for this pool in this account, with the policy attached after the pool', () => {
        const keyPolicy = Object.values(resources(s, 'aws_kms_key_policy'))[0]!;
        const policy = JSON.parse(keyPolicy.policy) as { Statement: PolicyStatement[] };
        const cognito = policy.Statement.find((st) => JSON.stringify(st.Principal) === JSON.stringify({ Service: 'cognito-idp.amazonaws.com' }))!;
        expect(cognito.Action).to.deep.equal(['kms:Encrypt']);
        expect(cognito.Condition).to.deep.equal({
          StringEquals: { 'aws:SourceAccount': s.config.awsAccountId },
          ArnLike: { 'aws:SourceArn': ref('aws_cognito_user_pool', poolId(s), 'arn') },
        });
        const key = Object.values(resources(s, 'aws_kms_key'))[0]!;
        expect(key).not.to.have.property('policy');
        expectResource(s, KmsKey, { enable_key_rotation: true, key_usage: 'ENCRYPT_DECRYPT' });
      });
    } else {
      it('deploys no key, no sender function and no provider secret', () => {
        for (const type of ['aws_kms_key', 'aws_kms_alias', 'aws_kms_key_policy', 'aws_secretsmanager_secret']) {
          expect(resources(s, type), type).to.deep.equal({});
        }
      });
    }
  });
}

describe('stack options', () => {
  it('switches the pre-token-generation event version and the feature plan from config', () => {
    const s = synthesize(testConfig({ preTokenGenerationVersion: 'V2_0', userPoolTier: 'PLUS' }));
    expectResource(s, CognitoUserPool, { user_pool_tier: 'PLUS', lambda_config: { pre_token_generation_config: { lambda_version: 'V2_0' } } });
    const m2m = synthesize(testConfig({ preTokenGenerationVersion: 'V3_0', userPoolTier: 'ESSENTIALS' }));
    expectResource(m2m, CognitoUserPool, { user_pool_tier: 'ESSENTIALS', lambda_config: { pre_token_generation_config: { lambda_version: 'V3_0' } } });
  });

  it('gives pre-authentication the quick-login check only when it is on, so pools without it plan as before', () => {
    const envOf = (s: Synthesized) => resources(s, 'aws_lambda_function')[functionId(s, 'pre-authentication')]!.environment.variables as Record<string, string>;
    expect(envOf(synthesize(testConfig()))).to.not.have.any.keys(ENV.lockoutQuickLoginMode, ENV.lockoutQuickLoginIntervalMs);
    const on = envOf(synthesize(testConfig({ lockout: { quickLogin: { mode: 'lock', minIntervalMilliseconds: 750 } } })));
    expect(on).to.include({ [ENV.lockoutQuickLoginMode]: 'lock', [ENV.lockoutQuickLoginIntervalMs]: '750' });
  });

  it('refuses a quick-login mode or interval outside the schema, naming the field', () => {
    expect(() => testConfig({ lockout: { quickLogin: { mode: 'twice' } } } as never)).to.throw(/lockout\.quickLogin\.mode/);
    expect(() => testConfig({ lockout: { quickLogin: { minIntervalMilliseconds: 0 } } } as never)).to.throw(/lockout\.quickLogin\.minIntervalMilliseconds/);
  });

  it('refuses passwordless sign-in without the app URL its links point at', () => {
    expect(() => testConfig({ passwordless: { enabled: true }, email: { appUrl: '' } })).to.throw(/passwordless\.enabled = true: needs email\.appUrl/);
  });

  it('reads an existing legacy pool from config instead of creating one', () => {
    const s = synthesize(testConfig({ legacyPool: { create: false, userPoolId: 'eu-west-1_Legacy01', clientId: 'legacyclient123', region: '' } }));
    expect(Object.keys(resources(s, 'aws_cognito_user_pool'))).to.have.length(1);
    const vars = resources(s, 'aws_lambda_function')[functionId(s, 'user-migration')]!.environment.variables;
    expect(vars).to.include({ LEGACY_USER_POOL_ID: 'eu-west-1_Legacy01', LEGACY_CLIENT_ID: 'legacyclient123', LEGACY_REGION: 'eu-west-1' });
    const grants = roleStatements(s, roleId(s, 'user-migration')).filter((st) => st.Action.some((a) => a.startsWith('cognito-idp:')));
    expect(grants.flatMap((g) => g.Resource)).to.deep.equal([`arn:aws:cognito-idp:eu-west-1:${s.config.awsAccountId}:userpool/eu-west-1_Legacy01`]);
  });

  it('protects pools and table from deletion when configured', () => {
    const s = synthesize(testConfig({ deletionProtection: true }));
    for (const pool of Object.values(resources(s, 'aws_cognito_user_pool'))) expect(pool.deletion_protection).to.equal('ACTIVE');
    expectResource(s, DynamodbTable, { deletion_protection_enabled: true });
  });

  it('uses local state by default and S3 with a native lock file when remote state is given', () => {
    expect(synthesize().json.terraform.backend).to.deep.equal({ local: { path: 'terraform.cognito-triggers-dev.tfstate' } });
    const remote = synthesize(testConfig(), { bucket: 'state-bucket', key: 'cognito/dev.tfstate', region: 'eu-west-1' });
    expect(remote.json.terraform.backend).to.deep.equal({
      s3: { bucket: 'state-bucket', key: 'cognito/dev.tfstate', region: 'eu-west-1', encrypt: true, use_lockfile: true },
    });
  });

  it('passes the logs level to Powertools and to Lambda alike', () => {
    const s = synthesize(testConfig({ logs: { level: 'WARN', retentionDays: 14 } }));
    expectResource(s, SfnStateMachine, {});
    for (const fn of Object.values(resources(s, 'aws_lambda_function'))) {
      expect(fn.environment.variables.POWERTOOLS_LOG_LEVEL).to.equal('WARN');
      expect(fn.logging_config).to.include({ application_log_level: 'WARN', log_format: 'JSON' });
    }
  });
});
