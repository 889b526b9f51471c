/**
 * Reads a synthesized stack (cdk.tf.json) into the {@link SandboxStack} the sandbox runs, resolving
 * Terraform references such as `${aws_dynamodb_table.x.name}` to local values (./local-ids.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FUNCTIONS, SENDER_FUNCTIONS, type FunctionName, type TriggerSlot } from '../functions/catalog.ts';
import { ENV } from '../functions/common/config.ts';
import { TTL_ATTRIBUTE } from '../functions/common/table.ts';
import type { StreamViewType } from './dynamodb/stream.ts';
import { clientIdFor, poolIdFor, secretArnFor, streamArnFor, uuidFor } from './local-ids.ts';
import type { PasswordPolicy, SandboxStack, StackClient, StackFunction, StackPool, StackSecret, StackStreamMapping } from './stack.ts';

type Json = Record<string, unknown>;

const DEFAULT_POLICY: PasswordPolicy = {
  minimumLength: 8,
  requireLowercase: true,
  requireUppercase: true,
  requireNumbers: true,
  requireSymbols: true,
  temporaryPasswordValidityDays: 7,
};

/** Terraform blocks with max one item come out as objects or as one-element arrays. */
function block(value: unknown): Json | undefined {
  if (Array.isArray(value)) return (value[0] as Json | undefined) ?? undefined;
  return value && typeof value === 'object' ? (value as Json) : undefined;
}
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined);
const bool = (v: unknown, d: boolean) => (typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : d);

/** Reads a synthesized stack and resolves its references to local values. */
export function readSynthesizedStack(file: string): SandboxStack {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Json;
  const resources = (doc.resource ?? {}) as Record<string, Record<string, Json>>;
  const provider = block((doc.provider as Json | undefined)?.aws) ?? {};
  const region = str(provider.region) ?? 'us-east-1';
  const accountId = str((provider.allowed_account_ids as unknown[] | undefined)?.[0]) ?? '123456789012';
  const stackName = path.basename(path.dirname(file));
  const of = (type: string) => Object.entries(resources[type] ?? {});

  // Local attribute values of every resource a reference may name.
  const attrs = new Map<string, Record<string, string>>();
  const set = (type: string, name: string, values: Record<string, string>) => attrs.set(`${type}.${name}`, values);
  for (const [name, r] of of('aws_dynamodb_table')) {
    const n = str(r.name) ?? name;
    const arn = `arn:aws:dynamodb:${region}:${accountId}:table/${n}`;
    set('aws_dynamodb_table', name, { name: n, id: n, arn, stream_arn: streamArnFor(arn) });
  }
  for (const [name, r] of of('aws_sqs_queue')) {
    const n = str(r.name) ?? name;
    const url = `https://sqs.${region}.amazonaws.com/${accountId}/${n}`;
    set('aws_sqs_queue', name, { name: n, id: url, url, arn: `arn:aws:sqs:${region}:${accountId}:${n}` });
  }
  for (const [name] of of('aws_kms_key')) {
    const id = uuidFor(`${stackName}:kms:${name}`);
    set('aws_kms_key', name, { id, key_id: id, arn: `arn:aws:kms:${region}:${accountId}:key/${id}` });
  }
  for (const [name, r] of of('aws_kms_alias')) {
    const n = str(r.name) ?? `alias/${name}`;
    set('aws_kms_alias', name, { name: n, id: n, arn: `arn:aws:kms:${region}:${accountId}:${n}` });
  }
  for (const [name, r] of of('aws_secretsmanager_secret')) {
    const n = str(r.name) ?? name;
    const arn = secretArnFor(region, accountId, n);
    set('aws_secretsmanager_secret', name, { name: n, id: arn, arn });
  }
  for (const [name, r] of of('aws_sfn_state_machine')) {
    const n = str(r.name) ?? name;
    const arn = `arn:aws:states:${region}:${accountId}:stateMachine:${n}`;
    set('aws_sfn_state_machine', name, { name: n, id: arn, arn });
  }
  for (const [name, r] of of('aws_lambda_function')) {
    const n = str(r.function_name) ?? name;
    const arn = `arn:aws:lambda:${region}:${accountId}:function:${n}`;
    set('aws_lambda_function', name, { function_name: n, id: n, arn, qualified_arn: `${arn}:$LATEST`, invoke_arn: arn, version: '$LATEST' });
  }
  for (const [name, r] of of('aws_iam_role')) {
    const n = str(r.name) ?? name;
    set('aws_iam_role', name, { name: n, id: n, arn: `arn:aws:iam::${accountId}:role/${n}` });
  }
  for (const [name, r] of of('aws_cognito_user_pool')) {
    const id = poolIdFor(region, `${stackName}:${name}`);
    set('aws_cognito_user_pool', name, {
      id,
      name: str(r.name) ?? name,
      arn: `arn:aws:cognito-idp:${region}:${accountId}:userpool/${id}`,
      endpoint: `cognito-idp.${region}.amazonaws.com/${id}`,
    });
  }
  for (const [name] of of('aws_cognito_user_pool_client')) {
    set('aws_cognito_user_pool_client', name, { id: clientIdFor(`${stackName}:${name}`) });
  }
  for (const [name, r] of of('aws_ses_email_identity')) set('aws_ses_email_identity', name, { email: str(r.email) ?? '', id: str(r.email) ?? '' });
  for (const [name, r] of of('aws_sesv2_email_identity')) set('aws_sesv2_email_identity', name, { email_identity: str(r.email_identity) ?? '', id: str(r.email_identity) ?? '' });

  const resolve = (value: string, where: string): string =>
    value.replace(/(\$?)\$\{([^}]*)\}/g, (whole, escaped: string, expr: string) => {
      if (escaped) return whole.slice(1);
      const m = /^([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)$/.exec(expr.trim());
      const found = m ? attrs.get(`${m[1]}.${m[2]}`)?.[m[3]!] : undefined;
      if (found === undefined) throw new Error(`The sandbox cannot resolve \${${expr}} in ${where} of ${file}`);
      return found;
    });
  const refName = (value: unknown, type: string): string | undefined => {
    const m = typeof value === 'string' ? new RegExp(`\\$\\{${type}\\.([A-Za-z0-9_-]+)\\.`).exec(value) : null;
    return m?.[1];
  };

  const functions: StackFunction[] = [];
  const byResource = new Map<string, StackFunction>();
  for (const [name, r] of of('aws_lambda_function')) {
    const vars = (block(r.environment)?.variables ?? {}) as Record<string, string>;
    const environment = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, resolve(String(v), `${name}.environment.${k}`)]));
    const catalogName = (environment.POWERTOOLS_SERVICE_NAME ?? '') as FunctionName;
    const spec = FUNCTIONS.find((f) => f.name === catalogName) ?? FUNCTIONS.find((f) => (str(r.function_name) ?? '').endsWith(f.name));
    if (!spec) continue;
    const fn: StackFunction = {
      name: spec.name,
      functionName: attrs.get(`aws_lambda_function.${name}`)!.function_name!,
      arn: attrs.get(`aws_lambda_function.${name}`)!.arn!,
      environment,
      timeoutSeconds: num(r.timeout) ?? 3,
      memoryMb: num(r.memory_size) ?? 128,
    };
    functions.push(fn);
    byResource.set(name, fn);
  }

  const clientsOf = (poolResource: string): StackClient[] =>
    of('aws_cognito_user_pool_client')
      .filter(([, c]) => refName(c.user_pool_id, 'aws_cognito_user_pool') === poolResource)
      .map(([name, c]) => ({
        id: attrs.get(`aws_cognito_user_pool_client.${name}`)!.id!,
        name: str(c.name) ?? name,
        explicitAuthFlows: (c.explicit_auth_flows as string[] | undefined) ?? [],
        preventUserExistenceErrors: str(c.prevent_user_existence_errors) === 'ENABLED',
        ...(num(c.auth_session_validity) !== undefined ? { authSessionValidity: num(c.auth_session_validity) } : {}),
        ...(Array.isArray(c.read_attributes) ? { readAttributes: c.read_attributes as string[] } : {}),
        ...(Array.isArray(c.write_attributes) ? { writeAttributes: c.write_attributes as string[] } : {}),
        ...(num(c.access_token_validity) !== undefined ? { accessTokenValidity: num(c.access_token_validity) } : {}),
        ...(num(c.id_token_validity) !== undefined ? { idTokenValidity: num(c.id_token_validity) } : {}),
        ...(num(c.refresh_token_validity) !== undefined ? { refreshTokenValidity: num(c.refresh_token_validity) } : {}),
        ...(block(c.token_validity_units)
          ? {
              tokenValidityUnits: {
                AccessToken: str(block(c.token_validity_units)!.access_token),
                IdToken: str(block(c.token_validity_units)!.id_token),
                RefreshToken: str(block(c.token_validity_units)!.refresh_token),
              },
            }
          : {}),
      }));

  const functionByArnRef = (value: unknown): string | undefined => {
    const resource = refName(value, 'aws_lambda_function');
    return resource ? byResource.get(resource)?.functionName : undefined;
  };
  const poolOf = (name: string, r: Json): StackPool => {
    const a = attrs.get(`aws_cognito_user_pool.${name}`)!;
    const lc = block(r.lambda_config) ?? {};
    const triggers: Partial<Record<TriggerSlot, string>> = {};
    for (const slot of ['pre_sign_up', 'custom_message', 'post_confirmation', 'pre_authentication', 'post_authentication', 'user_migration', 'define_auth_challenge', 'create_auth_challenge', 'verify_auth_challenge_response'] as const) {
      const fn = functionByArnRef(lc[slot]);
      if (fn) triggers[slot] = fn;
    }
    const ptg = block(lc.pre_token_generation_config);
    const ptgFn = functionByArnRef(ptg?.lambda_arn) ?? functionByArnRef(lc.pre_token_generation);
    if (ptgFn) triggers.pre_token_generation = ptgFn;
    for (const slot of ['custom_email_sender', 'custom_sms_sender'] as const) {
      const fn = functionByArnRef(block(lc[slot])?.lambda_arn);
      if (fn) triggers[slot] = fn;
    }
    const pp = block(block(r.password_policy) ? r.password_policy : undefined);
    const schema = Array.isArray(r.schema) ? (r.schema as Json[]) : [];
    return {
      id: a.id!,
      arn: a.arn!,
      name: a.name!,
      passwordPolicy: pp
        ? {
            minimumLength: num(pp.minimum_length) ?? 8,
            requireLowercase: bool(pp.require_lowercase, false),
            requireUppercase: bool(pp.require_uppercase, false),
            requireNumbers: bool(pp.require_numbers, false),
            requireSymbols: bool(pp.require_symbols, false),
            temporaryPasswordValidityDays: num(pp.temporary_password_validity_days) ?? 7,
          }
        : DEFAULT_POLICY,
      usernameAttributes: (r.username_attributes as string[] | undefined) ?? [],
      caseSensitive: bool(block(r.username_configuration)?.case_sensitive, true),
      autoVerifiedAttributes: (r.auto_verified_attributes as string[] | undefined) ?? [],
      verifyBeforeUpdate: (block(r.user_attribute_update_settings)?.attributes_require_verification_before_update as string[] | undefined) ?? [],
      triggers,
      preTokenGenerationVersion: str(ptg?.lambda_version) ?? 'V1_0',
      ...(typeof lc.kms_key_id === 'string' ? { kmsKeyArn: resolve(lc.kms_key_id, `${name}.lambda_config.kms_key_id`) } : {}),
      customAttributes: schema.map((s) => str(s.name)).filter((n): n is string => !!n),
      clients: clientsOf(name),
      emailFrom: str(block(r.email_configuration)?.from_email_address) ?? 'no-reply@verificationemail.com',
    };
  };

  const migration = functions.find((f) => f.name === 'user-migration');
  const legacyId = migration?.environment[ENV.legacyUserPoolId];
  const pools = of('aws_cognito_user_pool');
  const legacyEntry = pools.find(([name]) => attrs.get(`aws_cognito_user_pool.${name}`)!.id === legacyId);
  const mainEntry = pools.find(([name, r]) => name !== legacyEntry?.[0] && block(r.lambda_config)) ?? pools.find(([name]) => name !== legacyEntry?.[0]);
  if (!mainEntry) throw new Error(`No user pool found in ${file}`);

  const secrets: StackSecret[] = of('aws_secretsmanager_secret').map(([name]) => {
    const a = attrs.get(`aws_secretsmanager_secret.${name}`)!;
    const referencedBy = functions.flatMap((f) => Object.entries(f.environment).filter(([, v]) => v === a.arn).map(([k]) => k));
    const provider = referencedBy.includes(ENV.sendgridSecretArn) ? 'sendgrid' : referencedBy.includes(ENV.twilioSecretArn) ? 'twilio' : /twilio/i.test(name) ? 'twilio' : /sendgrid/i.test(name) ? 'sendgrid' : 'other';
    return { arn: a.arn!, name: a.name!, provider };
  });

  const kmsEntry = of('aws_kms_key')[0];
  const sfnEntry = of('aws_sfn_state_machine')[0];
  const tableEntry = of('aws_dynamodb_table')[0];
  if (!tableEntry) throw new Error(`No DynamoDB table found in ${file}`);
  const tableAttrs = attrs.get(`aws_dynamodb_table.${tableEntry[0]}`)!;
  const streamMappings: StackStreamMapping[] = of('aws_lambda_event_source_mapping').flatMap(([name, r]) => {
    const functionName = byResource.get(refName(r.function_name, 'aws_lambda_function') ?? '')?.functionName;
    const source = typeof r.event_source_arn === 'string' ? resolve(r.event_source_arn, `${name}.event_source_arn`) : '';
    // Only DynamoDB stream sources are emulated.
    if (!functionName || !source.includes(':dynamodb:')) return [];
    const filters = (block(r.filter_criteria)?.filter ?? []) as Json[];
    const destination = str(block(block(r.destination_config)?.on_failure)?.destination_arn);
    return [
      {
        functionName,
        eventSourceArn: source,
        startingPosition: str(r.starting_position) ?? 'LATEST',
        batchSize: num(r.batch_size) ?? 100,
        maximumBatchingWindowSeconds: num(r.maximum_batching_window_in_seconds) ?? 0,
        functionResponseTypes: (r.function_response_types as string[] | undefined) ?? [],
        bisectBatchOnFunctionError: bool(r.bisect_batch_on_function_error, false),
        maximumRetryAttempts: num(r.maximum_retry_attempts) ?? -1,
        maximumRecordAgeSeconds: num(r.maximum_record_age_in_seconds) ?? -1,
        filterPatterns: (Array.isArray(filters) ? filters : [filters]).map((f) => JSON.parse(String(f.pattern)) as unknown),
        ...(destination ? { onFailureDestinationArn: resolve(destination, `${name}.destination_config`) } : {}),
      },
    ];
  });
  const hasSenders = functions.some((f) => (SENDER_FUNCTIONS as readonly string[]).includes(f.name));
  return {
    source: 'synth',
    file,
    stackName,
    region,
    accountId,
    deliveryMode: hasSenders ? 'custom-senders' : 'cognito',
    functions,
    pool: poolOf(mainEntry[0], mainEntry[1]),
    ...(legacyEntry ? { legacyPool: poolOf(legacyEntry[0], legacyEntry[1]) } : {}),
    table: {
      name: tableAttrs.name!,
      ttlAttribute: str(block(tableEntry[1].ttl)?.attribute_name) ?? TTL_ATTRIBUTE,
      ...(bool(tableEntry[1].stream_enabled, false) ? { stream: { arn: tableAttrs.stream_arn!, viewType: (str(tableEntry[1].stream_view_type) ?? 'NEW_IMAGE') as StreamViewType } } : {}),
    },
    streamMappings,
    ...(kmsEntry
      ? {
          kmsKey: {
            arn: attrs.get(`aws_kms_key.${kmsEntry[0]}`)!.arn!,
            id: attrs.get(`aws_kms_key.${kmsEntry[0]}`)!.id!,
            aliases: of('aws_kms_alias').map(([n]) => attrs.get(`aws_kms_alias.${n}`)!.name!),
          },
        }
      : {}),
    secrets,
    ...(sfnEntry
      ? {
          stateMachine: {
            arn: attrs.get(`aws_sfn_state_machine.${sfnEntry[0]}`)!.arn!,
            name: attrs.get(`aws_sfn_state_machine.${sfnEntry[0]}`)!.name!,
            definition: resolve(String(sfnEntry[1].definition), `${sfnEntry[0]}.definition`),
          },
        }
      : {}),
  };
}
