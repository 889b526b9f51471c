import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { SENDER_FUNCTIONS, type FunctionName } from '../../functions/catalog.ts';
import { logger } from '../../functions/common/logger.ts';
import { ALARM_PERIOD_SECONDS, ERROR_LOG_PATTERN, errorLogMetricName, METRIC_NAMESPACE } from '../../infra/alarms.ts';
import { stackName } from '../../infra/config.ts';
import { expectedResourceCounts } from '../../infra/expected.ts';
import { readSynthesizedStack } from '../../sandbox/stack.ts';
import { captureLogs } from '../fixtures/logs.ts';
import { deployedNames, functionId, idWhere, ref, resources, synthesize, testConfig, type Block, type Synthesized } from './helpers.ts';

const alarmsOf = (s: Synthesized): Block[] => Object.values(resources(s, 'aws_cloudwatch_metric_alarm'));
const alarmNamed = (s: Synthesized, name: string): Block | undefined => alarmsOf(s).find((a) => a.alarm_name === `${stackName(s.config)}-${name}`);
const topicRef = (s: Synthesized): string => ref('aws_sns_topic', Object.keys(resources(s, 'aws_sns_topic'))[0]!, 'arn');

/**
 * Evaluates a CloudWatch Logs JSON filter of the one form the stack uses, `{ $.a.b = "value" }`, against
 * a log line: CloudWatch parses the line as JSON and compares the selected field with the string.
 */
function jsonFilterMatches(pattern: string, line: string): boolean {
  const m = /^\{\s*\$\.([A-Za-z0-9_.]+)\s*=\s*"([^"*]*)"\s*\}$/.exec(pattern);
  if (!m) throw new Error(`unsupported filter pattern ${pattern}`);
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    return false;
  }
  const value = m[1]!.split('.').reduce<unknown>((node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined), event);
  return value === m[2];
}

describe('alarms (infra/alarms.ts)', () => {
  const senders = synthesize(testConfig());
  const cognito = synthesize(testConfig({ deliveryMode: 'cognito' }));

  for (const s of [senders, cognito]) {
    describe(`${s.config.deliveryMode} mode`, () => {
      it('counts ERROR lines of each deployed function with a metric filter on its own log group', () => {
        const filters = Object.values(resources(s, 'aws_cloudwatch_log_metric_filter'));
        const names = deployedNames(s.config);
        expect(filters).to.have.length(names.length);
        for (const name of names) {
          const logGroupId = idWhere(s, 'aws_cloudwatch_log_group', 'name', `/aws/lambda/${stackName(s.config)}-${name}`);
          const filter = filters.find((f) => f.log_group_name === ref('aws_cloudwatch_log_group', logGroupId, 'name'));
          expect(filter, name).to.not.equal(undefined);
          expect(filter!.pattern).to.equal('{ $.level = "ERROR" }');
          expect(filter!.metric_transformation).to.deep.equal({
            name: errorLogMetricName(`${stackName(s.config)}-${name}`),
            namespace: METRIC_NAMESPACE,
            value: '1',
            unit: 'Count',
          });
          const alarm = alarmNamed(s, `${name}-error-logs`);
          expect(alarm, `${name}-error-logs`).to.include({ namespace: METRIC_NAMESPACE, metric_name: filter!.metric_transformation.name, statistic: 'Sum' });
        }
      });

      it("alarms on each deployed function's Lambda Errors, by its function name", () => {
        for (const name of deployedNames(s.config)) {
          const alarm = alarmNamed(s, `${name}-lambda-errors`);
          expect(alarm, name).to.include({ namespace: 'AWS/Lambda', metric_name: 'Errors', statistic: 'Sum' });
          expect(alarm!.dimensions).to.deep.equal({ FunctionName: ref('aws_lambda_function', functionId(s, name), 'function_name') });
        }
      });

      it('alarms on AsyncEventsDropped for the asynchronously invoked senders only, and only when they are deployed', () => {
        const dropped = alarmsOf(s).filter((a) => a.metric_name === 'AsyncEventsDropped');
        const expected: FunctionName[] = s.config.deliveryMode === 'custom-senders' ? [...SENDER_FUNCTIONS] : [];
        expect(dropped.map((a) => a.alarm_name).sort()).to.deep.equal(expected.map((n) => `${stackName(s.config)}-${n}-async-events-dropped`).sort());
        for (const name of expected) {
          expect(alarmNamed(s, `${name}-async-events-dropped`)!.dimensions).to.deep.equal({ FunctionName: ref('aws_lambda_function', functionId(s, name), 'function_name') });
        }
      });

      it("alarms when the failure queue of the welcome email or of the lock notice holds a message and when a reminder execution fails", () => {
        for (const queue of ['welcome-email-failures', 'lock-notice-failures']) {
          const queueId = idWhere(s, 'aws_sqs_queue', 'name', `${stackName(s.config)}-${queue}`);
          expect(alarmNamed(s, `${queue}-queued`), queue).to.deep.include({
            namespace: 'AWS/SQS',
            metric_name: 'ApproximateNumberOfMessagesVisible',
            dimensions: { QueueName: ref('aws_sqs_queue', queueId, 'name') },
            comparison_operator: 'GreaterThanOrEqualToThreshold',
            threshold: 1,
          });
        }
        const machineId = Object.keys(resources(s, 'aws_sfn_state_machine'))[0]!;
        expect(alarmNamed(s, 'signup-reminder-executions-failed')).to.deep.include({
          namespace: 'AWS/States',
          metric_name: 'ExecutionsFailed',
          dimensions: { StateMachineArn: ref('aws_sfn_state_machine', machineId, 'arn') },
          comparison_operator: 'GreaterThanOrEqualToThreshold',
          threshold: 1,
        });
      });

      it("names every alarm after the environment and has it notify the stack's topic on ALARM and on OK, treating no data as healthy", () => {
        const alarms = alarmsOf(s);
        expect(alarms).to.have.length(expectedResourceCounts(s.config).aws_cloudwatch_metric_alarm!);
        expect(new Set(alarms.map((a) => a.alarm_name)).size).to.equal(alarms.length);
        for (const a of alarms) {
          expect(a.alarm_name).to.match(new RegExp(`^${stackName(s.config)}-`));
          expect(a.alarm_actions, a.alarm_name).to.deep.equal([topicRef(s)]);
          expect(a.ok_actions, a.alarm_name).to.deep.equal([topicRef(s)]);
          expect(a).to.include({ treat_missing_data: 'notBreaching', period: ALARM_PERIOD_SECONDS, evaluation_periods: 1, threshold: 1, comparison_operator: 'GreaterThanOrEqualToThreshold' });
          expect(a.alarm_description, a.alarm_name).to.match(/docs\/deploying\.md/);
        }
      });
    });
  }

  it("creates the <stack>-alarms topic, publishable only by CloudWatch for this environment's alarms in this account", () => {
    const topics = Object.values(resources(senders, 'aws_sns_topic'));
    expect(topics.map((t) => t.name)).to.deep.equal(['cognito-triggers-dev-alarms']);
    const policies = Object.values(resources(senders, 'aws_sns_topic_policy'));
    expect(policies).to.have.length(1);
    expect(policies[0]!.arn).to.equal(topicRef(senders));
    expect(JSON.parse(policies[0]!.policy)).to.deep.equal({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ThisEnvironmentsAlarmsPublish',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['sns:Publish'],
          Resource: [topicRef(senders)],
          Condition: {
            ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:cognito-triggers-dev-*' },
            StringEquals: { 'aws:SourceAccount': '123456789012' },
          },
        },
      ],
    });
    expect(senders.json.output.alarm_topic_arn!.value).to.equal(topicRef(senders));
  });

  it('subscribes an email address only when one is configured', () => {
    expect(resources(senders, 'aws_sns_topic_subscription')).to.deep.equal({});
    const withEmail = synthesize(testConfig({ alarms: { email: 'ops@example.com' } }));
    expect(Object.values(resources(withEmail, 'aws_sns_topic_subscription'))).to.deep.equal([
      { topic_arn: topicRef(withEmail), protocol: 'email', endpoint: 'ops@example.com' },
    ]);
  });

  it('notifies an existing topic instead of creating one, and leaves its policy and subscriptions alone', () => {
    const existing = 'arn:aws:sns:us-east-1:123456789012:ops-alarms';
    const s = synthesize(testConfig({ alarms: { topicArn: existing } }));
    for (const type of ['aws_sns_topic', 'aws_sns_topic_policy', 'aws_sns_topic_subscription']) expect(resources(s, type), type).to.deep.equal({});
    const alarms = alarmsOf(s);
    expect(alarms).to.have.length(expectedResourceCounts(s.config).aws_cloudwatch_metric_alarm!);
    for (const a of alarms) expect([a.alarm_actions, a.ok_actions]).to.deep.equal([[existing], [existing]]);
  });

  it('deploys no alarm, filter or topic when alarms are disabled', () => {
    const s = synthesize(testConfig({ alarms: { enabled: false, email: 'ops@example.com' } }));
    for (const type of ['aws_cloudwatch_metric_alarm', 'aws_cloudwatch_log_metric_filter', 'aws_sns_topic', 'aws_sns_topic_policy', 'aws_sns_topic_subscription']) {
      expect(resources(s, type), type).to.deep.equal({});
    }
    expect(s.json.output).not.to.have.property('alarm_topic_arn');
    // Everything else is still deployed.
    expect(Object.keys(resources(s, 'aws_lambda_function'))).to.have.length(deployedNames(s.config).length);
  });

  it('refuses an email subscription together with an existing topic, and a malformed topic ARN', () => {
    expect(() => testConfig({ alarms: { email: 'ops@example.com', topicArn: 'arn:aws:sns:us-east-1:123456789012:ops' } })).to.throw(/alarms\.email .*must be empty when alarms\.topicArn is set/);
    expect(() => testConfig({ alarms: { topicArn: 'ops-alarms' } })).to.throw(/alarms\.topicArn = "ops-alarms": must be an SNS topic ARN/);
  });

  it('leaves the sandbox reading the synthesized stack as before: alarms, filters and the topic are ignored, not fatal', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'alarms-sandbox-'));
    try {
      const read = (s: Synthesized) => {
        const stackDir = path.join(dir, stackName(s.config), s.config.alarms.enabled ? 'with' : 'without', stackName(s.config));
        mkdirSync(stackDir, { recursive: true });
        writeFileSync(path.join(stackDir, 'cdk.tf.json'), s.text);
        return readSynthesizedStack(path.join(stackDir, 'cdk.tf.json'));
      };
      const withAlarms = read(synthesize(testConfig({ alarms: { email: 'ops@example.com' } })));
      const without = read(synthesize(testConfig({ alarms: { enabled: false } })));
      const { file: _a, ...a } = withAlarms;
      const { file: _b, ...b } = without;
      expect(a.functions).to.have.length(deployedNames(senders.config).length);
      expect(a).to.deep.equal(b);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('the ERROR filter pattern against the real logger output', () => {
    it('matches what the functions log at ERROR level, and nothing they log at INFO, WARN or DEBUG', async () => {
      const { output, lines } = await captureLogs(async () => {
        logger.debug('debug line');
        logger.info('info line', { reminderWorkflow: 'started' });
        logger.warn('warn line');
        logger.error('attempt counter unavailable; sign-in allowed (fail-open)', { error: new Error('ProvisionedThroughputExceededException') });
      });
      const raw = output.split('\n').filter((l) => l.trim().startsWith('{'));
      expect(raw).to.have.length(4);
      const matched = raw.filter((l) => jsonFilterMatches(ERROR_LOG_PATTERN, l)).map((l) => JSON.parse(l).message);
      expect(matched).to.deep.equal(['attempt counter unavailable; sign-in allowed (fail-open)']);
      // The field and value the pattern names are literally in the logger's record.
      expect(lines.map((l) => l.level)).to.deep.equal(['DEBUG', 'INFO', 'WARN', 'ERROR']);
    });

    it("matches Lambda's own JSON-format line for an uncaught error, and not a non-JSON line", () => {
      // Shaped like the line Lambda's Node.js runtime writes, with logFormat JSON, when a handler throws.
      const runtimeError = JSON.stringify({
        timestamp: '2026-01-01T00:00:00.000Z',
        level: 'ERROR',
        requestId: '6f7f0961-a2c5-4c4b-9c9e-3b5f8f7e1a11',
        message: 'Invoke Error',
        errorType: 'Error',
        errorMessage: 'boom',
      });
      expect(jsonFilterMatches(ERROR_LOG_PATTERN, runtimeError)).to.equal(true);
      expect(jsonFilterMatches(ERROR_LOG_PATTERN, 'ERROR level: "ERROR"')).to.equal(false);
      expect(jsonFilterMatches(ERROR_LOG_PATTERN, JSON.stringify({ level: 'error' }))).to.equal(false);
    });
  });
});
