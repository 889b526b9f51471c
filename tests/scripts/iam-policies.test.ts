import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { remoteStateFromEnv } from '../../infra/backend.ts';
import { loadConfig } from '../../infra/config.ts';
import { BootstrapError, renderPolicy, type PolicyValues } from '../../scripts/lib/bootstrap.ts';
import { planJsonPath, VARIANTS } from '../../scripts/terraform.ts';
import { iamPatternMatches, list } from '../fixtures/iam.ts';

const root = path.resolve(import.meta.dirname, '../..');
const template = (file: string): string => readFileSync(path.join(root, 'deploy', file), 'utf8');

interface Statement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
  Principal?: unknown;
}
interface Policy {
  Version: string;
  Statement: Statement[];
}


const values: PolicyValues = {
  AccountId: '123456789012',
  Region: 'us-east-1',
  Environment: 'dev',
  StateBucket: 'acme-tfstate',
  StateKey: remoteStateFromEnv({ TF_STATE_BUCKET: 'acme-tfstate' }, { stackName: 'cognito-triggers-dev', region: 'us-east-1' })!.key,
  GitHubRepository: 'acme/cognito-triggers',
};
const rendered = (file: string): Policy => JSON.parse(renderPolicy(template(file), values)) as Policy;

/** Whether an Allow statement grants `action` on `arn` (conditions aside). */
function allows(policy: Policy, action: string, arn: string): boolean {
  return policy.Statement.some((s) => s.Effect === 'Allow' && list(s.Action).includes(action) && list(s.Resource).some((r) => iamPatternMatches(r, arn)));
}

/**
 * Actions for which AWS offers no resource-level permission, so `Resource: "*"` is the only choice
 * (Service Authorization Reference). Such statements must still be pinned to the region.
 */
const UNSCOPABLE = new Set([
  'cognito-idp:CreateUserPool',
  'cognito-idp:ListUserPools',
  'kms:CreateKey',
  // Scoped instead by the lambda:FunctionArn condition to this environment's functions.
  'lambda:CreateEventSourceMapping',
  'kms:ListAliases',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  // SNS subscription actions have no resource type; what they reach is the subscriptions of topics the role may subscribe to.
  'sns:GetSubscriptionAttributes',
  'sns:Unsubscribe',
]);

const ROLE_POLICIES = ['deploy-role-policy.json', 'plan-role-policy.json'];

describe('IAM policies for the deploy and plan roles (deploy/)', () => {
  for (const file of ROLE_POLICIES) {
    describe(file, () => {
      const policy = JSON.parse(template(file)) as Policy;

      it('is a 2012-10-17 policy of Allow statements with unique Sids', () => {
        expect(policy.Version).to.equal('2012-10-17');
        const sids = policy.Statement.map((s) => s.Sid);
        expect(new Set(sids).size).to.equal(sids.length);
        for (const s of policy.Statement) expect(s.Effect, s.Sid).to.equal('Allow');
      });

      it('names every action exactly: no "*" and no wildcard in any action', () => {
        for (const s of policy.Statement) {
          for (const a of list(s.Action)) expect(a, `${s.Sid}: ${a}`).to.match(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
        }
      });

      it('scopes every resource to this account, region and environment, except actions AWS cannot scope (pinned to the region)', () => {
        for (const s of policy.Statement) {
          const resources = list(s.Resource);
          if (resources.includes('*')) {
            expect(resources, s.Sid).to.deep.equal(['*']);
            for (const a of list(s.Action)) expect(UNSCOPABLE.has(a), `${s.Sid}: ${a} supports resource-level permissions, so scope it`).to.equal(true);
            expect(s.Condition?.StringEquals?.['aws:RequestedRegion'], s.Sid).to.equal('${Region}');
            continue;
          }
          for (const r of resources) {
            if (r.startsWith('arn:aws:s3:::')) expect(r, s.Sid).to.match(/^arn:aws:s3:::\$\{StateBucket\}(\/\$\{StateKey\}(\.tflock)?)?$/);
            else if (r.startsWith('arn:aws:iam::')) expect(r, s.Sid).to.match(/^arn:aws:iam::\$\{AccountId\}:role\//);
            else expect(r, s.Sid).to.match(/^arn:aws:[a-z0-9-]+:\$\{Region\}:\$\{AccountId\}:/);
          }
        }
      });

      it('never lets the role read or write a provider secret value, or decrypt sign-up codes', () => {
        const actions = policy.Statement.flatMap((s) => list(s.Action));
        for (const forbidden of ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'kms:Decrypt', 'iam:AttachRolePolicy', 'iam:CreateUser', 'iam:CreateAccessKey']) {
          expect(actions).not.to.include(forbidden);
        }
      });

      it('passes roles only to Lambda and Step Functions', () => {
        for (const s of policy.Statement.filter((x) => list(x.Action).includes('iam:PassRole'))) {
          expect(s.Condition?.StringEquals?.['iam:PassedToService']).to.deep.equal(['lambda.amazonaws.com', 'states.amazonaws.com']);
        }
      });
    });
  }

  describe('plan-role-policy.json', () => {
    it('reads only, except for writing and removing the state lock file', () => {
      const policy = rendered('plan-role-policy.json');
      for (const s of policy.Statement) {
        for (const a of list(s.Action)) {
          if (/^[a-z0-9-]+:(Get|Describe|List)/.test(a)) continue;
          expect(['s3:PutObject', 's3:DeleteObject'], `${s.Sid}: ${a}`).to.include(a);
          expect(s.Resource).to.equal(`arn:aws:s3:::acme-tfstate/${values.StateKey}.tflock`);
        }
      }
      expect(allows(policy, 's3:PutObject', `arn:aws:s3:::acme-tfstate/${values.StateKey}`)).to.equal(false);
    });
  });

  describe('deploy-role-policy.json against the synthesized stack (every offline-plan variant)', () => {
    const policy = rendered('deploy-role-policy.json');
    const arn = (service: string, rest: string): string => `arn:aws:${service}:us-east-1:123456789012:${rest}`;
    const configured = loadConfig().deliveryMode;
    const plans = VARIANTS.map(
      (v) => JSON.parse(readFileSync(planJsonPath(v.name, configured), 'utf8')) as { resource_changes: { type: string; change: { after: Record<string, unknown> } }[] },
    );
    const resources = plans.flatMap((p) => p.resource_changes);

    /** For each resource type the stack declares: the action that creates it and the ARN it is created at. */
    const CREATE: Record<string, (after: Record<string, unknown>) => [string, string][]> = {
      aws_cognito_user_pool: () => [['cognito-idp:CreateUserPool', '*'], ['cognito-idp:DescribeUserPool', arn('cognito-idp', 'userpool/us-east-1_AbC123')]],
      aws_cognito_risk_configuration: () => [['cognito-idp:SetRiskConfiguration', arn('cognito-idp', 'userpool/us-east-1_AbC123')]],
      aws_wafv2_web_acl: (a) => [
        ['wafv2:CreateWebACL', arn('wafv2', `regional/webacl/${a.name}/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111`)],
        ['wafv2:TagResource', arn('wafv2', `regional/webacl/${a.name}/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111`)],
      ],
      aws_wafv2_web_acl_association: () => [
        ['wafv2:AssociateWebACL', arn('wafv2', 'regional/webacl/cognito-triggers-dev-user-pool/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111')],
        ['cognito-idp:AssociateWebACL', arn('cognito-idp', 'userpool/us-east-1_AbC123')],
        ['wafv2:GetWebACLForResource', arn('wafv2', 'regional/webacl/cognito-triggers-dev-user-pool/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111')],
      ],
      aws_cognito_user_pool_client: () => [['cognito-idp:CreateUserPoolClient', arn('cognito-idp', 'userpool/us-east-1_AbC123')]],
      aws_lambda_function: (a) => [['lambda:CreateFunction', arn('lambda', `function:${a.function_name}`)], ['iam:PassRole', `arn:aws:iam::123456789012:role/${a.function_name}`]],
      aws_lambda_permission: () => [['lambda:AddPermission', arn('lambda', 'function:cognito-triggers-dev-pre-sign-up')]],
      aws_lambda_event_source_mapping: () => [
        ['lambda:CreateEventSourceMapping', '*'],
        ['lambda:GetEventSourceMapping', arn('lambda', 'event-source-mapping:a1b2c3d4-5678-90ab-cdef-11111EXAMPLE')],
        ['lambda:TagResource', arn('lambda', 'event-source-mapping:a1b2c3d4-5678-90ab-cdef-11111EXAMPLE')],
      ],
      aws_sqs_queue: (a) => [['sqs:CreateQueue', arn('sqs', String(a.name))], ['sqs:GetQueueAttributes', arn('sqs', String(a.name))], ['sqs:TagQueue', arn('sqs', String(a.name))]],
      aws_iam_role: (a) => [['iam:CreateRole', `arn:aws:iam::123456789012:role/${a.name}`]],
      aws_iam_role_policy: () => [['iam:PutRolePolicy', 'arn:aws:iam::123456789012:role/cognito-triggers-dev-pre-sign-up']],
      aws_cloudwatch_log_group: (a) => [['logs:CreateLogGroup', arn('logs', `log-group:${a.name}`)], ['logs:PutRetentionPolicy', arn('logs', `log-group:${a.name}`)]],
      aws_dynamodb_table: (a) => [['dynamodb:CreateTable', arn('dynamodb', `table/${a.name}`)], ['dynamodb:UpdateContinuousBackups', arn('dynamodb', `table/${a.name}`)]],
      aws_kms_key: () => [['kms:CreateKey', '*'], ['kms:EnableKeyRotation', arn('kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab')]],
      aws_kms_key_policy: () => [['kms:PutKeyPolicy', arn('kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab')]],
      aws_kms_alias: (a) => [['kms:CreateAlias', arn('kms', String(a.name))], ['kms:CreateAlias', arn('kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab')]],
      aws_sfn_state_machine: (a) => [['states:CreateStateMachine', arn('states', `stateMachine:${a.name}`)], ['iam:PassRole', 'arn:aws:iam::123456789012:role/cognito-triggers-dev-signup-reminder']],
      aws_sesv2_email_identity: (a) => [['ses:CreateEmailIdentity', arn('ses', `identity/${a.email_identity}`)]],
      aws_cloudwatch_log_metric_filter: (a) => [
        ['logs:PutMetricFilter', arn('logs', `log-group:${String(a.log_group_name)}`)],
        ['logs:DescribeMetricFilters', arn('logs', `log-group:${String(a.log_group_name)}`)],
      ],
      aws_cloudwatch_metric_alarm: (a) => [['cloudwatch:PutMetricAlarm', arn('cloudwatch', `alarm:${a.alarm_name}`)], ['cloudwatch:TagResource', arn('cloudwatch', `alarm:${a.alarm_name}`)]],
      aws_sns_topic: (a) => [['sns:CreateTopic', arn('sns', String(a.name))], ['sns:TagResource', arn('sns', String(a.name))]],
      aws_sns_topic_policy: () => [['sns:SetTopicAttributes', arn('sns', 'cognito-triggers-dev-alarms')]],
      aws_sns_topic_subscription: () => [['sns:Subscribe', arn('sns', 'cognito-triggers-dev-alarms')], ['sns:GetSubscriptionAttributes', '*']],
      // Secrets Manager appends six random characters to a secret's ARN.
      aws_secretsmanager_secret: (a) => [['secretsmanager:CreateSecret', arn('secretsmanager', `secret:${a.name}-AbCdEf`)]],
    };

    it('knows how to create every resource type the stack declares', () => {
      const types = [...new Set(resources.map((r) => r.type))].sort();
      expect(types.length).to.be.greaterThan(10);
      expect(types.filter((t) => !(t in CREATE)), 'resource types without a deploy permission check').to.deep.equal([]);
    });

    it("allows creating each resource at its own name, within this environment's prefix", () => {
      const missing: string[] = [];
      for (const r of resources) {
        for (const [action, target] of CREATE[r.type]!(r.change.after)) {
          if (!allows(policy, action, target)) missing.push(`${r.type}: ${action} on ${target}`);
        }
      }
      expect(missing).to.deep.equal([]);
    });

    it("creates, changes and deletes event source mappings only for this environment's functions (lambda:FunctionArn)", () => {
      const writes = policy.Statement.filter((x) => list(x.Action).some((a) => /^lambda:(Create|Update|Delete)EventSourceMapping$/.test(a)));
      expect(writes.length).to.be.greaterThan(0);
      for (const s of writes) expect(s.Condition?.StringLike?.['lambda:FunctionArn'], s.Sid).to.equal(arn('lambda', 'function:cognito-triggers-dev-*'));
    });

    it('does not reach resources of another environment', () => {
      expect(allows(policy, 'lambda:UpdateFunctionCode', arn('lambda', 'function:cognito-triggers-prod-pre-sign-up'))).to.equal(false);
      expect(allows(policy, 'iam:PutRolePolicy', 'arn:aws:iam::123456789012:role/cognito-triggers-prod-pre-sign-up')).to.equal(false);
      expect(allows(policy, 'dynamodb:DeleteTable', arn('dynamodb', 'table/cognito-triggers-prod-data'))).to.equal(false);
      expect(allows(policy, 'secretsmanager:DeleteSecret', arn('secretsmanager', 'secret:cognito-triggers-prod/sendgrid-AbCdEf'))).to.equal(false);
      expect(allows(policy, 'iam:CreateRole', 'arn:aws:iam::123456789012:role/admin')).to.equal(false);
      expect(allows(policy, 'cloudwatch:DeleteAlarms', arn('cloudwatch', 'alarm:cognito-triggers-prod-pre-sign-up-error-logs'))).to.equal(false);
      expect(allows(policy, 'sns:DeleteTopic', arn('sns', 'cognito-triggers-prod-alarms'))).to.equal(false);
      expect(allows(policy, 'logs:DeleteMetricFilter', arn('logs', 'log-group:/aws/lambda/cognito-triggers-prod-pre-sign-up'))).to.equal(false);
    });

    it('reads and writes this stack state and its lock file, and no other object', () => {
      expect(allows(policy, 's3:PutObject', `arn:aws:s3:::acme-tfstate/${values.StateKey}`)).to.equal(true);
      expect(allows(policy, 's3:DeleteObject', `arn:aws:s3:::acme-tfstate/${values.StateKey}.tflock`)).to.equal(true);
      expect(allows(policy, 's3:GetObject', 'arn:aws:s3:::acme-tfstate/cognito-triggers-prod/terraform.tfstate')).to.equal(false);
    });
  });

  describe('GitHub OIDC trust policies', () => {
    it('let the deploy role be assumed only from the protected environment, and the plan role only from pull requests', () => {
      const deployTrust = rendered('github-oidc-trust-policy.json');
      const planTrust = rendered('github-oidc-plan-trust-policy.json');
      for (const [trust, subject] of [
        [deployTrust, 'repo:acme/cognito-triggers:environment:dev'],
        [planTrust, 'repo:acme/cognito-triggers:pull_request'],
      ] as const) {
        expect(trust.Statement).to.have.length(1);
        const s = trust.Statement[0]!;
        expect(s.Action).to.equal('sts:AssumeRoleWithWebIdentity');
        expect(s.Principal).to.deep.equal({ Federated: 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com' });
        expect(s.Condition).to.deep.equal({
          StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com', 'token.actions.githubusercontent.com:sub': subject },
        });
      }
    });
  });

  describe('renderPolicy', () => {
    it('fills every placeholder and names any left without a value', () => {
      expect(renderPolicy(template('deploy-role-policy.json'), values)).not.to.contain('${');
      const { GitHubRepository: _, ...withoutRepo } = values;
      expect(() => renderPolicy(template('github-oidc-trust-policy.json'), withoutRepo)).to.throw(BootstrapError, 'no value for GitHubRepository');
    });
  });
});
