/**
 * The resources a configuration must produce, by Terraform type. The offline plan and the tests check
 * the plan against this, so a resource that silently disappears (or appears) fails the build.
 */
import type { Config } from './config.ts';
import { deployedFunctions, POOL_SCOPED_FUNCTIONS, streamTaskFunctions } from './functions/index.ts';

/** Expected resource count per Terraform type. */
export function expectedResourceCounts(config: Config): Record<string, number> {
  const fns = deployedFunctions(config);
  const triggers = fns.filter((f) => 'trigger' in f).length;
  const senders = config.deliveryMode === 'custom-senders';
  const legacy = config.legacyPool.create ? 1 : 0;
  const counts: Record<string, number> = {
    aws_lambda_function: fns.length,
    aws_iam_role: fns.length + 1,
    aws_iam_role_policy: fns.length + POOL_SCOPED_FUNCTIONS.length + 1,
    aws_cloudwatch_log_group: fns.length + 1,
    aws_lambda_permission: triggers,
    aws_lambda_event_source_mapping: streamTaskFunctions().length,
    aws_sqs_queue: streamTaskFunctions().length,
    aws_cognito_user_pool: 1 + legacy,
    aws_cognito_user_pool_client: 1 + legacy,
    aws_dynamodb_table: 1,
    aws_sfn_state_machine: 1,
    aws_sesv2_email_identity: 1 + config.email.sesReceiverIdentities.length,
  };
  if (config.alarms.enabled) {
    const ownTopic = config.alarms.topicArn === '' ? 1 : 0;
    const asyncTriggers = fns.filter((f) => f.kind === 'async-trigger').length;
    Object.assign(counts, {
      aws_cloudwatch_log_metric_filter: fns.length,
      // Per function ERROR lines and Lambda errors, dropped events of async triggers, each stream consumer's
      // failure queue, the workflow, and the web ACL's blocked requests.
      aws_cloudwatch_metric_alarm: 2 * fns.length + asyncTriggers + streamTaskFunctions().length + 1 + (config.waf.enabled ? 1 : 0),
      aws_sns_topic: ownTopic,
      aws_sns_topic_policy: ownTopic,
      aws_sns_topic_subscription: ownTopic && config.alarms.email !== '' ? 1 : 0,
    });
  }
  if (config.waf.enabled) Object.assign(counts, { aws_wafv2_web_acl: 1, aws_wafv2_web_acl_association: 1 });
  if (config.threatProtection.mode !== 'off') counts.aws_cognito_risk_configuration = 1;
  if (senders) {
    Object.assign(counts, { aws_kms_key: 1, aws_kms_alias: 1, aws_kms_key_policy: 1, aws_secretsmanager_secret: 2 });
  }
  return counts;
}
