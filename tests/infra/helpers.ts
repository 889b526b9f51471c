/**
 * Synthesizes the stack for the infrastructure tests and reads the result back.
 */
import { Testing } from 'cdktf';
import { FUNCTIONS, type FunctionName } from '../../functions/catalog.ts';
import type { RemoteState } from '../../infra/backend.ts';
import { loadConfig, stackName, type Config } from '../../infra/config.ts';
import type { PolicyStatement } from '../../infra/iam.ts';
import { CognitoTriggersStack } from '../../infra/stack.ts';

/** A synthesized resource block. */
export type Block = Record<string, any>;

/** The synthesized stack, as text (for the cdktf matchers) and parsed. */
export interface Synthesized {
  readonly config: Config;
  readonly text: string;
  readonly json: { resource: Record<string, Record<string, Block>>; data?: unknown; output: Record<string, Block>; terraform: Block; provider: Block };
  readonly stack: CognitoTriggersStack;
}

/** The configuration tests synthesize: the defaults, independent of the caller's ENV and CT_* variables. */
export function testConfig(overrides: Record<string, unknown> = {}): Config {
  return loadConfig({ env: {}, overrides });
}

/** Synthesizes one stack. */
export function synthesize(config: Config = testConfig(), remoteState?: RemoteState): Synthesized {
  const app = Testing.app();
  const stack = new CognitoTriggersStack(app, stackName(config), { config, ...(remoteState ? { remoteState } : {}) });
  const text = Testing.synth(stack);
  return { config, text, json: JSON.parse(text), stack };
}

/** Every resource of a type, by logical id. */
export function resources(s: Synthesized, type: string): Record<string, Block> {
  return s.json.resource[type] ?? {};
}

/** `${type.id.attr}` */
export function ref(type: string, id: string, attr: string): string {
  return `\${${type}.${id}.${attr}}`;
}

/** The logical id of a resource whose property equals a value. */
export function idWhere(s: Synthesized, type: string, prop: string, value: unknown): string {
  const hits = Object.entries(resources(s, type)).filter(([, block]) => block[prop] === value);
  if (hits.length !== 1) throw new Error(`expected one ${type} with ${prop}=${String(value)}, found ${hits.length}`);
  return hits[0]![0];
}

/** The logical id of a function's Lambda resource. */
export function functionId(s: Synthesized, name: FunctionName): string {
  return idWhere(s, 'aws_lambda_function', 'function_name', `${stackName(s.config)}-${name}`);
}

/** The logical id of a function's role. */
export function roleId(s: Synthesized, name: FunctionName): string {
  return idWhere(s, 'aws_iam_role', 'name', `${stackName(s.config)}-${name}`);
}

/** The logical id of the main user pool. */
export function poolId(s: Synthesized): string {
  return idWhere(s, 'aws_cognito_user_pool', 'name', stackName(s.config));
}

/** Every statement of every inline policy attached to a role. */
export function roleStatements(s: Synthesized, roleLogicalId: string): PolicyStatement[] {
  return Object.values(resources(s, 'aws_iam_role_policy'))
    .filter((p) => p.role === ref('aws_iam_role', roleLogicalId, 'id'))
    .flatMap((p) => (JSON.parse(p.policy) as { Statement: PolicyStatement[] }).Statement);
}

/** Functions deployed by a configuration: the senders in custom-senders mode, the challenge triggers with passwordless sign-in. */
export function deployedNames(config: Config): FunctionName[] {
  const challenges = ['define-auth-challenge', 'create-auth-challenge', 'verify-auth-challenge-response'];
  return FUNCTIONS.map((f) => f.name).filter(
    (n) => (config.deliveryMode === 'custom-senders' || !['custom-email-sender', 'custom-sms-sender'].includes(n)) && (config.passwordless.enabled || !challenges.includes(n)),
  );
}
