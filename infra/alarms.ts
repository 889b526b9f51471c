import { Construct } from 'constructs';
import { CloudwatchLogMetricFilter } from '@cdktf/provider-aws/lib/cloudwatch-log-metric-filter';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import type { FailureQueue } from './failure-queue.ts';
import { policyDocument } from './iam.ts';
import type { ReminderWorkflow } from './reminder-workflow.ts';
import type { ProjectFunction } from './lambda-function.ts';
import type { UserPoolWaf } from './waf.ts';

/** CloudWatch namespace of the metrics the log filters publish. */
export const METRIC_NAMESPACE = 'CognitoTriggers';

/**
 * Matches the ERROR lines of the functions' structured JSON logs: Powertools writes `"level":"ERROR"`,
 * and so does Lambda's JSON log format for an uncaught error or a timeout's runtime report.
 */
export const ERROR_LOG_PATTERN = '{ $.level = "ERROR" }';

/**
 * Every alarm sums over five minutes and fires on the first breaching period: each signal watched here
 * is something that should not happen at all (an ERROR line, a failed invocation, a dropped event or
 * record, a failed workflow), so one occurrence is worth a look, and five minutes is prompt for a person
 * while a burst of errors notifies once rather than once a minute.
 */
export const ALARM_PERIOD_SECONDS = 300;

/** The metric a function's ERROR lines are counted in (metric names may not hold `:`, `*` or `$`). */
export function errorLogMetricName(functionName: string): string {
  return `${functionName}-error-logs`;
}

export interface AlarmsProps {
  /** Prefix of every alarm name and of the topic's name: the stack name. */
  readonly prefix: string;
  /** Account whose alarms may publish to the topic. */
  readonly accountId: string;
  /** Region of the alarms. */
  readonly region: string;
  /** An existing topic to notify; when absent the construct creates `<prefix>-alarms`. */
  readonly topicArn?: string;
  /** Address to subscribe to the created topic; ignored with `topicArn`. */
  readonly email?: string;
  /** Every deployed function; async triggers (the custom senders) also get a dropped-events alarm. */
  readonly functions: readonly ProjectFunction[];
  /** The welcome email's on-failure queue; any message in it is a welcome email that was not sent. */
  readonly welcomeFailures: FailureQueue;
  /** The lock notice's on-failure queue; any message in it is a lock whose owner was not told. */
  readonly lockNoticeFailures: FailureQueue;
  /** The sign-up reminder workflow. */
  readonly workflow: ReminderWorkflow;
  /** The user pool's web ACL, when there is one: its blocked requests raise an alarm. */
  readonly webAcl?: UserPoolWaf;
}

/** What one alarm watches, besides the settings all alarms share. */
interface AlarmSpec {
  readonly suffix: string;
  readonly description: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly statistic: 'Sum' | 'Maximum';
  readonly dimensions?: Record<string, string>;
}

/**
 * The alarms operators are told to watch, and the SNS topic they notify. Per function: a metric filter
 * counting ERROR log lines with an alarm on it, and an alarm on Lambda's `Errors`; for the
 * asynchronously invoked senders also `AsyncEventsDropped`. Then the depth of the failure queues of the
 * welcome email and the lock notice, and the reminder workflow's failed executions. Every alarm notifies the topic on ALARM and on OK.
 *
 * The created topic is not KMS-encrypted: CloudWatch cannot publish to a topic under the AWS-managed
 * `alias/aws/sns` key (its key policy cannot grant CloudWatch), and a notification carries only an
 * alarm's name, state and metric values, never personal data, which does not justify a key of its own.
 */
export class Alarms extends Construct {
  /** The topic every alarm notifies. */
  readonly topicArn: string;
  /** The created topic; absent when an existing topic was given. */
  readonly topic?: SnsTopic;
  /** The email subscription, when an address was given and the topic is ours. */
  readonly subscription?: SnsTopicSubscription;
  /** Every alarm, by its name. */
  readonly alarms: Readonly<Record<string, CloudwatchMetricAlarm>>;
  /** The ERROR-line metric filter of each function, by catalog name. */
  readonly errorLogFilters: Readonly<Record<string, CloudwatchLogMetricFilter>>;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const alarmNamePrefix = `${props.prefix}-`;
    if (props.topicArn) {
      this.topicArn = props.topicArn;
    } else {
      this.topic = new SnsTopic(this, 'topic', { name: `${props.prefix}-alarms` });
      this.topicArn = this.topic.arn;
      // Replaces SNS's default policy (any principal of the account) with the one publisher that needs it:
      // CloudWatch, for this environment's alarms in this account. Account principals keep their IAM rights.
      new SnsTopicPolicy(this, 'topic-policy', {
        arn: this.topic.arn,
        policy: policyDocument([
          {
            Sid: 'ThisEnvironmentsAlarmsPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['sns:Publish'],
            Resource: [this.topic.arn],
            Condition: {
              ArnLike: { 'aws:SourceArn': `arn:aws:cloudwatch:${props.region}:${props.accountId}:alarm:${alarmNamePrefix}*` },
              StringEquals: { 'aws:SourceAccount': props.accountId },
            },
          },
        ]),
      });
      if (props.email) {
        this.subscription = new SnsTopicSubscription(this, 'email', { topicArn: this.topic.arn, protocol: 'email', endpoint: props.email });
      }
    }

    const alarms: Record<string, CloudwatchMetricAlarm> = {};
    const alarm = (spec: AlarmSpec): void => {
      const name = `${alarmNamePrefix}${spec.suffix}`;
      alarms[name] = new CloudwatchMetricAlarm(this, spec.suffix, {
        alarmName: name,
        alarmDescription: spec.description,
        namespace: spec.namespace,
        metricName: spec.metricName,
        ...(spec.dimensions ? { dimensions: spec.dimensions } : {}),
        statistic: spec.statistic,
        period: ALARM_PERIOD_SECONDS,
        evaluationPeriods: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: 1,
        // No data means no errors, no invocations or an empty queue: all healthy.
        treatMissingData: 'notBreaching',
        alarmActions: [this.topicArn],
        okActions: [this.topicArn],
      });
    };

    const filters: Record<string, CloudwatchLogMetricFilter> = {};
    for (const fn of props.functions) {
      const deployedName = `${props.prefix}-${fn.name}`;
      filters[fn.name] = new CloudwatchLogMetricFilter(this, `${fn.name}-error-logs-filter`, {
        name: `${deployedName}-error-logs`,
        logGroupName: fn.logGroup.name,
        pattern: ERROR_LOG_PATTERN,
        // No default value: quiet periods publish nothing, which the alarm treats as not breaching.
        metricTransformation: { name: errorLogMetricName(deployedName), namespace: METRIC_NAMESPACE, value: '1', unit: 'Count' },
      });
      alarm({
        suffix: `${fn.name}-error-logs`,
        description: `${fn.name} logged at ERROR level. Read the line in its log group (${fn.name}'s section of docs/functions.md says what each means). Runbook: docs/deploying.md, section 11 (Alarms).`,
        namespace: METRIC_NAMESPACE,
        metricName: errorLogMetricName(deployedName),
        statistic: 'Sum',
      });
      alarm({
        suffix: `${fn.name}-lambda-errors`,
        description: `${fn.name} invocations failed (an uncaught error or a timeout). Runbook: docs/deploying.md, section 11 (Alarms).`,
        namespace: 'AWS/Lambda',
        metricName: 'Errors',
        dimensions: { FunctionName: fn.functionName },
        statistic: 'Sum',
      });
      if (fn.kind === 'async-trigger') {
        alarm({
          suffix: `${fn.name}-async-events-dropped`,
          description: `Lambda gave up on ${fn.name} events after its retries or their maximum age: a code Cognito asked for was never delivered. Runbook: docs/deploying.md, section 11 (Alarms).`,
          namespace: 'AWS/Lambda',
          metricName: 'AsyncEventsDropped',
          dimensions: { FunctionName: fn.functionName },
          statistic: 'Sum',
        });
      }
    }
    alarm({
      suffix: 'welcome-email-failures-queued',
      description: 'The welcome email stream gave up on a batch; its records are described in the failure queue and no welcome email went out for them. Runbook: docs/deploying.md, section 10 (the failure queue).',
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: props.welcomeFailures.name },
      // The queue keeps its messages until someone reads them, so the alarm stays on until then.
      statistic: 'Maximum',
    });
    alarm({
      suffix: 'lock-notice-failures-queued',
      description: 'The lock notice stream gave up on a batch; its records are described in the failure queue and the owners of those locked accounts were not told. Runbook: docs/deploying.md, section 10 (the failure queue).',
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: props.lockNoticeFailures.name },
      statistic: 'Maximum',
    });
    alarm({
      suffix: 'signup-reminder-executions-failed',
      description: 'A sign-up reminder execution failed, so an unconfirmed user was not reminded or not deleted. Runbook: docs/deploying.md, section 11 (Alarms).',
      namespace: 'AWS/States',
      metricName: 'ExecutionsFailed',
      dimensions: { StateMachineArn: props.workflow.arn },
      statistic: 'Sum',
    });
    if (props.webAcl) {
      alarm({
        suffix: 'waf-blocked-requests',
        description: `The user pool's web ACL (${props.webAcl.name}) blocked requests: an IP went over a per-IP rate limit on sign-in or on sign-up and recovery, a sign of password spraying, credential stuffing or a sign-up flood (or of a shared address such as a NAT with many legitimate users). Runbook: docs/deploying.md, section 11 (Alarms).`,
        namespace: 'AWS/WAFV2',
        metricName: 'BlockedRequests',
        dimensions: { WebACL: props.webAcl.name, Region: props.region, Rule: 'ALL' },
        statistic: 'Sum',
      });
    }
    this.alarms = alarms;
    this.errorLogFilters = filters;
  }
}
