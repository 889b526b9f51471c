/**
 * Finds out, without calling AWS, whether the AWS SDKs and Terraform's provider will find credentials.
 *
 * It checks the same places, in the same order, as the default credential chain: environment keys, web
 * identity (GitHub OIDC), container credentials, then a named or default profile in the shared files.
 * Instance roles cannot be seen without asking the metadata service, so they are opted into with
 * `AWS_CREDENTIALS_SOURCE=instance`. Whether the credentials still work is for AWS to say: Terraform's
 * provider checks them (sts:GetCallerIdentity) and refuses any account but the configured one.
 */
import path from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/** What the check needs from the machine; tests pass fakes. */
export interface CredentialProbe {
  readonly env: Env;
  readonly homedir: string;
  /** File contents, or undefined when the file does not exist. */
  readonly readFile: (file: string) => string | undefined;
}

/** Where credentials were found, for the log line, or why not. */
export type CredentialCheck = { ok: true; source: string } | { ok: false; message: string };

/** Section names of an INI file (`[default]`, `[profile dev]`, `[sso-session x]`). */
export function iniSections(text: string): string[] {
  return [...text.matchAll(/^\s*\[([^\]]+)\]\s*$/gm)].map((m) => m[1]!.trim().replace(/\s+/g, ' '));
}

/** Looks for credentials the way the default chain would; never calls AWS. */
export function checkAwsCredentials(probe: CredentialProbe): CredentialCheck {
  const { env } = probe;
  const set = (name: string): boolean => (env[name]?.trim() ?? '') !== '';
  if (set('AWS_ACCESS_KEY_ID') !== set('AWS_SECRET_ACCESS_KEY')) {
    const missing = set('AWS_ACCESS_KEY_ID') ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID';
    return { ok: false, message: `${missing} is not set but its partner is: set both, or unset both and use AWS_PROFILE` };
  }
  if (set('AWS_ACCESS_KEY_ID')) return { ok: true, source: `environment keys${set('AWS_SESSION_TOKEN') ? ' (with session token)' : ''}` };
  if (set('AWS_WEB_IDENTITY_TOKEN_FILE') && set('AWS_ROLE_ARN')) return { ok: true, source: `web identity for ${env.AWS_ROLE_ARN}` };
  if (set('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI') || set('AWS_CONTAINER_CREDENTIALS_FULL_URI')) return { ok: true, source: 'container credentials' };
  if (env.AWS_CREDENTIALS_SOURCE === 'instance') return { ok: true, source: 'instance role (AWS_CREDENTIALS_SOURCE=instance)' };

  const configFile = env.AWS_CONFIG_FILE || path.join(probe.homedir, '.aws', 'config');
  const credentialsFile = env.AWS_SHARED_CREDENTIALS_FILE || path.join(probe.homedir, '.aws', 'credentials');
  const profile = env.AWS_PROFILE?.trim() || env.AWS_DEFAULT_PROFILE?.trim() || 'default';
  const inConfig = iniSections(probe.readFile(configFile) ?? '').includes(profile === 'default' ? 'default' : `profile ${profile}`);
  const inCredentials = iniSections(probe.readFile(credentialsFile) ?? '').includes(profile);
  if (inConfig || inCredentials) return { ok: true, source: `profile ${profile} (${inCredentials ? credentialsFile : configFile})` };
  if (profile !== 'default') {
    return { ok: false, message: `AWS_PROFILE=${profile} is not in ${configFile} or ${credentialsFile}: run \`aws configure sso --profile ${profile}\` or fix the name` };
  }
  return {
    ok: false,
    message:
      'no AWS credentials found: set AWS_PROFILE (after `aws sso login`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; on an instance or build host with a role, set AWS_CREDENTIALS_SOURCE=instance',
  };
}
