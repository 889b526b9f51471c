/**
 * IAM policy documents as plain data, so constructs build them and tests read them back from the
 * synthesized JSON with the same shape.
 */

/** One IAM policy statement. Actions are always listed explicitly; wildcards are for tests to reject. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
  readonly Principal?: Record<string, string | readonly string[]> | '*';
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

/** A policy document; cdktf tokens inside strings resolve when the JSON is synthesized. */
export function policyDocument(statements: readonly PolicyStatement[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/** An allow statement. */
export function allow(sid: string, actions: readonly string[], resources: readonly string[]): PolicyStatement {
  return { Sid: sid, Effect: 'Allow', Action: [...actions], Resource: [...resources] };
}

/** Trust policy letting one AWS service assume a role, limited to this account. */
export function assumeRolePolicy(service: string, accountId: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: service },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
      },
    ],
  });
}

/**
 * An allow statement on table items whose partition key starts with one of `keyPrefixes`, so a
 * function can only touch its own kind of item in the shared table (`dynamodb:LeadingKeys`).
 */
export function allowItems(sid: string, actions: readonly string[], tableArn: string, keyPrefixes: readonly string[]): PolicyStatement {
  return {
    ...allow(sid, actions, [tableArn]),
    Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': keyPrefixes.map((prefix) => `${prefix}*`) } },
  };
}

/** Partition-key prefixes of the table's item kinds (see the table design in the README). */
export const ITEM_PREFIX = {
  user: 'USER#',
  lockout: 'LOCKOUT#',
  dedupe: 'DEDUPE#',
  /** Passwordless sign-in: a login's message throttle, its links and codes, its last sign-in method. */
  passwordless: 'PASSWORDLESS#',
  /** Powertools idempotency records: `idempotency#<function name>`. */
  idempotency: 'idempotency#',
} as const;

/** The DynamoDB item actions Powertools idempotency uses. */
export const IDEMPOTENCY_ITEM_ACTIONS = ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] as const;
