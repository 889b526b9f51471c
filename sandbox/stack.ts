/**
 * What the sandbox runs, read from the synthesized Terraform JSON so that the local functions get
 * exactly the environment, timeouts and trigger wiring that `terraform apply` would give them.
 *
 * The stack is synthesized for the `sandbox` environment (config/sandbox.json) into the sandbox's own
 * output folder. Terraform references such as `${aws_dynamodb_table.x.name}` are resolved to local
 * values: deterministic local ids and ARNs built from the resource names. The synthesized JSON is the
 * only source: the sandbox never rebuilds the stack from the configuration by other means.
 *
 * This module holds the model and the synth (with its cache); ./terraform-reader.ts reads the JSON and
 * ./local-ids.ts is the local id scheme.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FunctionName, TriggerSlot } from '../functions/catalog.ts';
import { OVERRIDE_PREFIX } from '../infra/config.ts';
import type { StreamViewType } from './dynamodb/stream.ts';
import { readSynthesizedStack } from './terraform-reader.ts';

export { readSynthesizedStack } from './terraform-reader.ts';

export const ROOT = path.resolve(import.meta.dirname, '..');

/** A function as deployed: its bundle name, deployed name and the environment Terraform sets. */
export interface StackFunction {
  readonly name: FunctionName;
  readonly functionName: string;
  readonly arn: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
}

export interface PasswordPolicy {
  readonly minimumLength: number;
  readonly requireLowercase: boolean;
  readonly requireUppercase: boolean;
  readonly requireNumbers: boolean;
  readonly requireSymbols: boolean;
  readonly temporaryPasswordValidityDays: number;
}

export interface StackClient {
  readonly id: string;
  readonly name: string;
  readonly explicitAuthFlows: readonly string[];
  readonly preventUserExistenceErrors: boolean;
  /** `auth_session_validity`: minutes a sign-in session (SRP, custom challenges) may be answered; Cognito's default is 3. */
  readonly authSessionValidity?: number;
  readonly accessTokenValidity?: number;
  readonly idTokenValidity?: number;
  readonly refreshTokenValidity?: number;
  readonly tokenValidityUnits?: { AccessToken?: string; IdToken?: string; RefreshToken?: string };
  /** `read_attributes`; absent: every attribute. */
  readonly readAttributes?: readonly string[];
  /** `write_attributes`; absent: every writable attribute. */
  readonly writeAttributes?: readonly string[];
}

export interface StackPool {
  readonly id: string;
  readonly arn: string;
  readonly name: string;
  readonly passwordPolicy: PasswordPolicy;
  readonly usernameAttributes: readonly string[];
  readonly caseSensitive: boolean;
  readonly autoVerifiedAttributes: readonly string[];
  /** `user_attribute_update_settings.attributes_require_verification_before_update`. */
  readonly verifyBeforeUpdate: readonly string[];
  /** Trigger slot -> deployed function name. */
  readonly triggers: Partial<Record<TriggerSlot, string>>;
  readonly preTokenGenerationVersion: string;
  readonly kmsKeyArn?: string;
  readonly customAttributes: readonly string[];
  readonly clients: readonly StackClient[];
  /** Sender of the mail Cognito itself delivers (`email_configuration.from_email_address`). */
  readonly emailFrom: string;
}

/** A table's stream, as `stream_enabled` / `stream_view_type` declare it. */
export interface StackTableStream {
  readonly arn: string;
  readonly viewType: StreamViewType;
}

/** An `aws_lambda_event_source_mapping` reading a DynamoDB stream. */
export interface StackStreamMapping {
  /** Deployed name of the function it invokes. */
  readonly functionName: string;
  /** ARN of the stream it reads. */
  readonly eventSourceArn: string;
  readonly startingPosition: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly functionResponseTypes: readonly string[];
  readonly bisectBatchOnFunctionError: boolean;
  /** -1: until the record expires. */
  readonly maximumRetryAttempts: number;
  /** -1: until the record expires. */
  readonly maximumRecordAgeSeconds: number;
  /** The `filter_criteria` patterns, parsed. */
  readonly filterPatterns: readonly unknown[];
  /** ARN of the on-failure destination, if any. */
  readonly onFailureDestinationArn?: string;
}

export interface StackSecret {
  readonly arn: string;
  readonly name: string;
  readonly provider: 'sendgrid' | 'twilio' | 'other';
}

/** The parts of the stack the sandbox serves locally. */
export interface SandboxStack {
  /** Always `synth`: read from cdk.tf.json. */
  readonly source: 'synth';
  readonly file?: string;
  readonly stackName: string;
  readonly region: string;
  readonly accountId: string;
  readonly deliveryMode: 'custom-senders' | 'cognito';
  readonly functions: readonly StackFunction[];
  readonly pool: StackPool;
  readonly legacyPool?: StackPool;
  readonly table: { readonly name: string; readonly ttlAttribute: string; readonly stream?: StackTableStream };
  /** Event source mappings on the table's stream. */
  readonly streamMappings: readonly StackStreamMapping[];
  readonly kmsKey?: { readonly arn: string; readonly id: string; readonly aliases: readonly string[] };
  readonly secrets: readonly StackSecret[];
  readonly stateMachine?: { readonly arn: string; readonly name: string; readonly definition: string };
}


/** Inputs whose change makes a cached synth stale. */
function newestInput(): number {
  let newest = 0;
  const visit = (p: string) => {
    if (!existsSync(p)) return;
    const s = statSync(p);
    if (s.isDirectory()) for (const e of readdirSync(p)) visit(path.join(p, e));
    else newest = Math.max(newest, s.mtimeMs);
  };
  for (const p of ['main.ts', 'infra', 'config', 'statemachines', 'functions/catalog.ts', 'functions/common/config.ts', 'cdktf.json']) visit(path.join(ROOT, p));
  return newest;
}

function findStackFile(outdir: string): string | undefined {
  const stacks = path.join(outdir, 'stacks');
  if (!existsSync(stacks)) return undefined;
  for (const dir of readdirSync(stacks)) {
    const file = path.join(stacks, dir, 'cdk.tf.json');
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** Options for {@link loadStack}. */
export interface LoadStackOptions {
  /** Configuration environment to synthesize (config/<environment>.json). Default `sandbox`. */
  readonly environment?: string;
  /** Delivery mode to synthesize; default the configuration's. */
  readonly deliveryMode?: 'custom-senders' | 'cognito';
  /** Where synth output goes; default `.sandbox/synth/<environment>-<mode>`. */
  readonly outdir?: string;
  /** Reuse a synth that is newer than every input and was made with the same `CT_*` overrides. Default true. */
  readonly reuse?: boolean;
  /** A ready cdk.tf.json to read instead of synthesizing. */
  readonly stackFile?: string;
}

/** Synthesizes the app for the sandbox environment (or reuses a fresh synth) and reads it. */
export async function loadStack(options: LoadStackOptions = {}): Promise<SandboxStack> {
  if (options.stackFile) return readSynthesizedStack(options.stackFile);
  const environment = options.environment ?? 'sandbox';
  const outdir = options.outdir ?? path.join(ROOT, '.sandbox', 'synth', `${environment}-${options.deliveryMode ?? 'default'}`);
  const env: NodeJS.ProcessEnv = { ...process.env, ENV: environment, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: '1' };
  if (options.deliveryMode) env.CT_DELIVERY_MODE = options.deliveryMode;
  // The configuration's override variables are inputs too: a synth made with other values is stale.
  const overrides = `${JSON.stringify(Object.entries(env).filter(([k]) => k.startsWith(OVERRIDE_PREFIX)).sort(([a], [b]) => a.localeCompare(b)))}\n`;
  const overridesFile = path.join(outdir, 'overrides.json');
  const existing = findStackFile(outdir);
  const sameOverrides = existsSync(overridesFile) && readFileSync(overridesFile, 'utf8') === overrides;
  if (existing && sameOverrides && options.reuse !== false && statSync(existing).mtimeMs > newestInput()) return readSynthesizedStack(existing);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const stderr: Buffer[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`Synthesizing the ${environment} stack failed (exit ${code}):\n${Buffer.concat(stderr).toString('utf8')}`);
  const file = findStackFile(outdir);
  if (!file) throw new Error(`Synth wrote no stack under ${outdir}`);
  writeFileSync(overridesFile, overrides);
  return readSynthesizedStack(file);
}
