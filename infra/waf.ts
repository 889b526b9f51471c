import { Construct } from 'constructs';
import { Wafv2WebAcl } from '@cdktf/provider-aws/lib/wafv2-web-acl';
import { Wafv2WebAclAssociation } from '@cdktf/provider-aws/lib/wafv2-web-acl-association';

/** The `X-Amz-Target` prefix of every Cognito user pool API call. */
export const COGNITO_TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';

/** The calls that try a password (or answer a challenge): the sign-in rate rule counts these. */
export const SIGN_IN_OPERATIONS = ['InitiateAuth', 'RespondToAuthChallenge'] as const;

/** The calls that create an account or send a code: the sign-up and recovery rate rule counts these. */
export const SIGN_UP_OPERATIONS = ['SignUp', 'ConfirmSignUp', 'ForgotPassword', 'ConfirmForgotPassword', 'ResendConfirmationCode'] as const;

/** Evaluation windows WAF offers for rate-based rules, in seconds. */
export type RateWindowSeconds = 60 | 120 | 300 | 600;

export interface UserPoolWafProps {
  /** Name of the web ACL, and prefix of its rules' metric names. */
  readonly name: string;
  /** ARN of the user pool the web ACL protects. */
  readonly userPoolArn: string;
  /** Requests one IP may send to the sign-in operations within the window. */
  readonly signInLimit: number;
  /** Requests one IP may send to the sign-up and recovery operations within the window. */
  readonly signUpLimit: number;
  /** Evaluation window of both rules. */
  readonly windowSeconds: RateWindowSeconds;
}

/** One rate-based rule, as the statement Terraform expects (the provider types it as `any`, so it is written in Terraform's own names). */
export interface RateRule {
  readonly name: string;
  readonly priority: number;
  readonly limit: number;
  readonly operations: readonly string[];
}

/**
 * The scope-down of a rate rule: the request's `X-Amz-Target` is exactly one of the operations. The
 * header is lower-cased before it is compared (and the strings are lower case), so no change of case in
 * a hand-written request slips past the rule.
 */
export function targetScopeDown(operations: readonly string[]): Record<string, unknown> {
  const matches = operations.map((op) => ({
    byte_match_statement: {
      field_to_match: { single_header: { name: 'x-amz-target' } },
      positional_constraint: 'EXACTLY',
      search_string: `${COGNITO_TARGET_PREFIX}${op}`.toLowerCase(),
      text_transformation: [{ priority: 0, type: 'LOWERCASE' }],
    },
  }));
  // WAF's OR takes two statements at least; a single operation is its own statement.
  return matches.length === 1 ? matches[0]! : { or_statement: { statement: matches } };
}

/**
 * An AWS WAF web ACL on the user pool: per-IP rate limits that the triggers cannot enforce, since no
 * Cognito trigger event carries the caller's address. Two rate-based rules, aggregated on the source IP
 * and each scoped down on `X-Amz-Target`: one for the sign-in calls (password spraying and credential
 * stuffing spread over many logins, which no per-login lockout sees), one for the sign-up and recovery
 * calls (mass sign-ups and code flooding). Everything else is allowed. A blocked request never reaches
 * Cognito, so it runs no trigger, counts no lockout attempt and sends no message.
 */
export class UserPoolWaf extends Construct {
  /** The web ACL. */
  readonly webAcl: Wafv2WebAcl;
  /** Its association with the user pool. */
  readonly association: Wafv2WebAclAssociation;
  /** Name of the web ACL: the `WebACL` dimension of its CloudWatch metrics. */
  readonly name: string;
  /** The rules, in priority order. */
  readonly rules: readonly RateRule[];

  constructor(scope: Construct, id: string, props: UserPoolWafProps) {
    super(scope, id);
    this.name = props.name;
    this.rules = [
      { name: 'sign-in-per-ip', priority: 1, limit: props.signInLimit, operations: SIGN_IN_OPERATIONS },
      { name: 'sign-up-and-recovery-per-ip', priority: 2, limit: props.signUpLimit, operations: SIGN_UP_OPERATIONS },
    ];
    const visibility = (metricName: string) => ({ cloudwatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });
    this.webAcl = new Wafv2WebAcl(this, 'web-acl', {
      name: props.name,
      description: 'Per-IP rate limits on the user pool (sign-in; sign-up and recovery)',
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(props.name),
      rule: this.rules.map((r) => ({
        name: r.name,
        priority: r.priority,
        action: { block: {} },
        statement: {
          rate_based_statement: {
            limit: r.limit,
            aggregate_key_type: 'IP',
            evaluation_window_sec: props.windowSeconds,
            scope_down_statement: targetScopeDown(r.operations),
          },
        },
        visibilityConfig: visibility(`${props.name}-${r.name}`),
      })),
    });
    this.association = new Wafv2WebAclAssociation(this, 'association', { resourceArn: props.userPoolArn, webAclArn: this.webAcl.arn });
  }
}
