/**
 * The environment each function is measured with: the variables Terraform gives it (the runtime
 * contract in functions/common/config.ts), filled with dummy values its config readers accept, plus
 * what the Lambda runtime itself sets. Without them module-scope configuration would throw and the
 * benchmark would time an error path instead of a cold start.
 */
import type { FunctionName } from '../../functions/catalog.ts';
import { ENV, type EnvName } from '../../functions/common/config.ts';
import { loadConfig } from '../../infra/config.ts';
import { environmentTable } from '../../infra/functions/index.ts';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/**
 * Dummy values that pass every reader in config.ts (ARN, URL, email, bounds). Partial on purpose: a
 * variable added to the contract before it is added here gets {@link FALLBACK}, and if its reader
 * rejects that, the benchmark reports the bundle failing to load, naming the variable.
 */
const FALLBACK = 'bench-value';
const DUMMY: Partial<Record<EnvName, string>> = {
  [ENV.appName]: 'Bench App',
  [ENV.appUrl]: 'https://app.example.com',
  [ENV.tableName]: 'bench-table',
  [ENV.allowedEmailDomains]: 'gmail.com,example.com',
  [ENV.allowSubdomains]: 'false',
  [ENV.reminderStateMachineArn]: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:bench-reminder`,
  [ENV.fromEmailAddress]: 'no-reply@example.com',
  [ENV.fromEmailName]: 'Bench App',
  [ENV.lockoutMaxAttempts]: '5',
  [ENV.lockoutWindowSeconds]: '900',
  [ENV.lockoutDurationSeconds]: '300',
  [ENV.lockoutEscalation]: 'true',
  [ENV.lockoutMaxDurationSeconds]: '3600',
  [ENV.lockoutFailMode]: 'closed',
  [ENV.auditRetentionDays]: '90',
  [ENV.legacyUserPoolId]: `${REGION}_LegacyPool`,
  [ENV.legacyClientId]: 'legacyclientid0000000000',
  [ENV.legacyRegion]: REGION,
  [ENV.kmsKeyArn]: `arn:aws:kms:${REGION}:${ACCOUNT}:key/00000000-0000-4000-8000-000000000000`,
  [ENV.sendgridSecretArn]: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:bench-sendgrid-AbCdEf`,
  [ENV.sendgridApiBaseUrl]: 'https://api.sendgrid.com',
  [ENV.twilioSecretArn]: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:bench-twilio-AbCdEf`,
  [ENV.twilioApiBaseUrl]: 'https://api.twilio.com',
  [ENV.passwordlessLinkUrl]: 'https://app.example.com/sign-in/link',
  [ENV.passwordlessValiditySeconds]: '900',
  [ENV.passwordlessMinIntervalSeconds]: '60',
  [ENV.passwordlessMaxPerHour]: '5',
};

/**
 * Exactly the variables each function gets: the names the stack sets (infra/functions/), read off
 * the same function rather than copied, with the default configuration (names do not depend on it).
 */
export const FUNCTION_ENV: Readonly<Record<FunctionName, readonly EnvName[]>> = environmentTable(loadConfig({ env: {} }));

/** The AWS SDK services the functions call, by the suffix of their `AWS_ENDPOINT_URL_<SERVICE>` variable. */
export const AWS_ENDPOINT_SERVICES = ['DYNAMODB', 'SESV2', 'SFN', 'COGNITO_IDENTITY_PROVIDER', 'KMS', 'SECRETS_MANAGER'] as const;

export const BENCH_REGION = REGION;
export const BENCH_KMS_KEY_ARN = DUMMY[ENV.kmsKeyArn]!;

/**
 * The process environment for one function. `stubUrl`, when given, points every AWS endpoint and
 * both third-party API base URLs at the local stub server so no call leaves the machine.
 */
export function functionEnv(name: FunctionName, stubUrl?: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    // Set by the Lambda runtime; Powertools and the SDK read some of them.
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_LAMBDA_FUNCTION_NAME: `bench-${name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_ACCESS_KEY_ID: 'AKIABENCHBENCHBENCH0',
    AWS_SECRET_ACCESS_KEY: 'bench-secret-access-key-not-real-000000000',
    AWS_SESSION_TOKEN: 'bench-session-token',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    NODE_NO_WARNINGS: '1',
    POWERTOOLS_SERVICE_NAME: name,
    POWERTOOLS_LOG_LEVEL: 'INFO',
  };
  for (const key of FUNCTION_ENV[name]) env[key] = DUMMY[key] ?? FALLBACK;
  if (stubUrl) {
    for (const service of AWS_ENDPOINT_SERVICES) env[`AWS_ENDPOINT_URL_${service}`] = stubUrl;
    if (FUNCTION_ENV[name].includes(ENV.sendgridApiBaseUrl)) env[ENV.sendgridApiBaseUrl] = stubUrl;
    if (FUNCTION_ENV[name].includes(ENV.twilioApiBaseUrl)) env[ENV.twilioApiBaseUrl] = stubUrl;
  }
  return env;
}
