/**
 * send-welcome-email: one welcome email per new profile on the table's stream.
 * Logic in functions/send-welcome-email/, tests in tests/functions/send-welcome-email.test.ts.
 */
import { ENV } from '../../functions/common/config.ts';
import { ITEM_PREFIX } from '../../functions/common/table.ts';
import { allow, allowItems, IDEMPOTENCY_ITEM_ACTIONS } from '../iam.ts';
import { branding, sendEmail, sender, type FunctionInfra } from './define.ts';

/**
 * What Lambda's event source mapping does with the function's role to read a DynamoDB stream, all
 * scopable to the stream ARN.
 */
export const STREAM_READ_ACTIONS = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'] as const;

/**
 * The one stream action IAM cannot scope to a resource (the Service Authorization Reference lists no
 * resource type for it, and AWS's own AWSLambdaDynamoDBExecutionRole grants it on `*`). It only lists
 * stream ARNs; the statement is pinned to the stack's region.
 */
export const UNSCOPABLE_STREAM_ACTIONS = ['dynamodb:ListStreams'] as const;

export const sendWelcomeEmail: FunctionInfra = {
  environment: (config, refs) => ({ [ENV.tableName]: refs.tableName, ...branding(config), ...sender(config) }),
  // Its event source mapping reads the stream with this role and reports what it gave up on to the queue;
  // the function sends once through the idempotency records and marks the profile SENT.
  grants: (t) => [
    allow('ReadTableStream', STREAM_READ_ACTIONS, [t.tableStreamArn]),
    { ...allow('ListTableStreams', UNSCOPABLE_STREAM_ACTIONS, ['*']), Condition: { StringEquals: { 'aws:RequestedRegion': t.region } } },
    allow('ReportFailedRecords', ['sqs:SendMessage'], [t.welcomeFailureQueueArn]),
    allowItems('WelcomeOnce', IDEMPOTENCY_ITEM_ACTIONS, t.tableArn, [ITEM_PREFIX.idempotency]),
    allowItems('MarkProfileSent', ['dynamodb:UpdateItem'], t.tableArn, [ITEM_PREFIX.user]),
    sendEmail(t),
  ],
};
