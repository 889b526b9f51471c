/**
 * Reading IAM and KMS policy documents out of synthesized Terraform JSON, and the least-privilege rules
 * the suite holds them to.
 */

import { iamPatternMatches, list } from '../../fixtures/iam.ts';

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: unknown;
}

export interface PolicyDocument {
  Version?: string;
  Statement: Statement | Statement[];
}

/** A policy found in the stack, with where it came from. */
export interface FoundPolicy {
  /** e.g. `aws_iam_role_policy.fn-pre-sign-up_policy_D31485B4` in `custom-senders`. */
  where: string;
  kind: 'role-policy' | 'assume-role' | 'key-policy' | 'other';
  /** The role a role policy is attached to (its Terraform reference), when known. */
  role?: string;
  doc: PolicyDocument;
}

export { list };

export function statements(doc: PolicyDocument): Statement[] {
  return list(doc.Statement);
}

/** IAM wildcard match (`*` and `?`), case-insensitive as IAM compares actions. */
export function actionMatches(pattern: string, action: string): boolean {
  return iamPatternMatches(pattern, action, true);
}

/**
 * Actions that AWS does not let a policy scope to a resource: the CloudWatch Logs log-delivery calls
 * that Step Functions logging needs (AWS's Service Authorization Reference lists them with no resource
 * type, and the Step Functions guide prescribes `"Resource": "*"` for them), and `dynamodb:ListStreams`,
 * which a stream event source mapping may call with the function's role (no resource type either;
 * AWS's AWSLambdaDynamoDBExecutionRole grants it on `*`). Each is still named.
 */
export const UNSCOPABLE_ACTIONS: ReadonlySet<string> = new Set([
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  'dynamodb:ListStreams',
]);

/** Why a policy breaks least privilege; empty when it does not. */
export function violations(policy: FoundPolicy): string[] {
  const out: string[] = [];
  for (const [i, s] of statements(policy.doc).entries()) {
    const at = `${policy.where} statement ${s.Sid ?? i}`;
    if (s.Effect !== 'Allow') continue;
    if (s.NotAction !== undefined) out.push(`${at}: Allow with NotAction`);
    if (s.NotResource !== undefined) out.push(`${at}: Allow with NotResource`);
    const actions = list(s.Action);
    if (actions.length === 0) out.push(`${at}: no Action`);
    for (const a of actions) if (a.includes('*') || a.includes('?')) out.push(`${at}: action "${a}" is a wildcard, not a named action`);
    if (policy.kind === 'assume-role') continue;
    const resources = list(s.Resource);
    if (policy.kind === 'key-policy') {
      // In a key policy "*" means "this key"; the principal is what must be scoped.
      const principals = JSON.stringify(s.Principal ?? '*');
      if (principals === '"*"' || principals.includes('{"AWS":"*"}')) out.push(`${at}: Allow to any principal`);
      continue;
    }
    if (resources.length === 0) out.push(`${at}: no Resource`);
    for (const r of resources) {
      if (r === '*' || r === 'arn:aws:*' || /^arn:aws:[a-z0-9-]+:\*?:\*?:\*$/.test(r)) {
        const unscopable = actions.every((a) => UNSCOPABLE_ACTIONS.has(a));
        if (!unscopable) out.push(`${at}: resource "${r}" is not scoped`);
      }
    }
  }
  return out;
}

/** Whether a statement allows `action`. */
export function allows(s: Statement, action: string): boolean {
  return s.Effect === 'Allow' && list(s.Action).some((a) => actionMatches(a, action));
}

type TfJson = { resource?: Record<string, Record<string, Record<string, unknown>>> };

function parseDoc(value: unknown): PolicyDocument | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const doc = JSON.parse(value) as PolicyDocument;
    return doc && typeof doc === 'object' && 'Statement' in doc ? doc : undefined;
  } catch {
    return undefined;
  }
}

/** Every policy document in a synthesized stack: role policies, trust policies, key policies, any other JSON policy. */
export function policiesIn(tf: TfJson, label: string): FoundPolicy[] {
  const out: FoundPolicy[] = [];
  for (const [type, byName] of Object.entries(tf.resource ?? {})) {
    for (const [name, body] of Object.entries(byName)) {
      const where = `${label}: ${type}.${name}`;
      for (const [attr, value] of Object.entries(body)) {
        const doc = parseDoc(value);
        if (!doc) continue;
        const kind: FoundPolicy['kind'] =
          type === 'aws_iam_role' && attr === 'assume_role_policy'
            ? 'assume-role'
            : type === 'aws_kms_key_policy' || (type === 'aws_kms_key' && attr === 'policy')
              ? 'key-policy'
              : type === 'aws_iam_role_policy' || type === 'aws_iam_policy'
                ? 'role-policy'
                : 'other';
        out.push({ where, kind, doc, ...(typeof body.role === 'string' ? { role: body.role } : {}) });
      }
      // Managed policy attachments would bring in policies the stack does not show.
      if (type === 'aws_iam_role_policy_attachment' || type === 'aws_iam_policy_attachment') {
        out.push({ where, kind: 'other', doc: { Statement: [{ Sid: 'ManagedAttachment', Effect: 'Allow', Action: '*', Resource: String(body.policy_arn) }] } });
      }
      if (type === 'aws_iam_role' && body.inline_policy) {
        for (const p of list(body.inline_policy as Array<{ policy?: string }>)) {
          const doc = parseDoc(p.policy);
          if (doc) out.push({ where: `${where} inline`, kind: 'role-policy', doc, role: `\${aws_iam_role.${name}` });
        }
      }
    }
  }
  return out;
}
