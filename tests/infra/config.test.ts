import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { CONFIG_DOC, README, renderConfigDoc, renderReadme } from '../../infra/config-doc.ts';
import { CONFIG_DIR, configFields, ConfigValidationError, loadConfig, memoryMbFor, overrideVariable } from '../../infra/config.ts';
import { remoteStateFromEnv } from '../../infra/backend.ts';
import { passwordResetUrl } from '../../infra/functions/notify-lockout.ts';

function loadError(env: Record<string, string>, configDir?: string): string {
  try {
    loadConfig({ env, ...(configDir ? { configDir } : {}) });
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigValidationError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('configuration', () => {
  it('loads the documented defaults from config/default.json', () => {
    const config = loadConfig({ env: {} });
    expect(config).to.deep.include({ environment: 'dev', awsAccountId: '123456789012', deliveryMode: 'custom-senders', preTokenGenerationVersion: 'V1_0' });
    expect(config.signUp.allowedEmailDomains).to.deep.equal(['gmail.com', 'icloud.com', 'outlook.com']);
    expect(config.lockout).to.deep.include({ maxAttempts: 5, lockSeconds: 300, failMode: 'closed' });
    expect(config.workflow).to.deep.equal({ reminderDelaySeconds: 86_400, deletionDelaySeconds: 86_400 });
    expect(config.legacyPool.create).to.equal(true);
  });

  it('sizes each function kind\'s memory on its own, overridable per kind', () => {
    expect(loadConfig({ env: {} }).functionMemoryMb).to.deep.equal({ syncTrigger: 512, asyncTrigger: 512, workflowTask: 256, asyncTask: 256 });
    const config = loadConfig({ env: { CT_FUNCTION_MEMORY_MB_WORKFLOW_TASK: '128' } });
    expect(memoryMbFor(config, 'workflow-task')).to.equal(128);
    expect(memoryMbFor(config, 'sync-trigger')).to.equal(512);
    expect(loadError({ CT_FUNCTION_MEMORY_MB_SYNC_TRIGGER: '64' })).to.include('functionMemoryMb.syncTrigger');
  });

  it('overlays config/<ENV>.json on the defaults', () => {
    const prod = loadConfig({ env: { ENV: 'prod' } });
    expect(prod).to.deep.include({ environment: 'prod', deletionProtection: true });
    expect(prod.lockout).to.deep.include({ escalate: true, maxAttempts: 5 });
    const sandbox = loadConfig({ env: { ENV: 'sandbox' } });
    // Human-paced waits: a person has minutes to type the code before the reminder and the deletion.
    expect(sandbox.workflow.reminderDelaySeconds).to.be.within(300, 3_600);
    expect(sandbox.workflow.deletionDelaySeconds).to.be.within(300, 3_600);
    expect(sandbox.lockout.lockSeconds).to.be.below(10);
  });

  it('locks no login for longer than 15 minutes in any shipped environment, as Cognito and Keycloak do', () => {
    for (const ENV of ['', 'dev', 'prod', 'sandbox']) {
      const { lockout } = loadConfig({ env: ENV ? { ENV } : {} });
      const longest = lockout.escalate ? lockout.maxLockSeconds : lockout.lockSeconds;
      expect(longest, ENV || 'default').to.be.at.most(900);
    }
  });

  it('names the environment after ENV even without an overlay file, so another ENV never targets dev', () => {
    const staging = loadConfig({ env: { ENV: 'staging' } });
    expect(staging.environment).to.equal('staging');
    expect(staging.lockout).to.deep.equal(loadConfig({ env: {} }).lockout);
  });

  it('refuses an overlay whose environment contradicts ENV', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-config-'));
    writeFileSync(path.join(dir, 'default.json'), readFileSync(path.join(CONFIG_DIR, 'default.json')));
    writeFileSync(path.join(dir, 'qa.json'), JSON.stringify({ environment: 'prod' }));
    expect(loadError({ ENV: 'qa' }, dir)).to.include('environment = "prod"').and.include('ENV=qa');
  });

  it('applies CT_* overrides by type: numbers, booleans, lists, tags, words', () => {
    const config = loadConfig({
      env: {
        CT_LOCKOUT_MAX_ATTEMPTS: '7',
        CT_LOCKOUT_ESCALATE: 'true',
        CT_SIGN_UP_ALLOWED_EMAIL_DOMAINS: 'Example.org, shire.example ',
        CT_TAGS: 'team=identity,cost-center=42',
        CT_DELIVERY_MODE: 'cognito',
        CT_EMAIL_SES_RECEIVER_IDENTITIES: '',
      },
    });
    expect(config.lockout).to.deep.include({ maxAttempts: 7, escalate: true });
    expect(config.signUp.allowedEmailDomains).to.deep.equal(['example.org', 'shire.example']);
    expect(config.tags).to.deep.equal({ team: 'identity', 'cost-center': '42' });
    expect(config.deliveryMode).to.equal('cognito');
    expect(config.email.sesReceiverIdentities).to.deep.equal([]);
  });

  it('derives every override variable from the field path', () => {
    expect(overrideVariable(['lockout', 'maxAttempts'])).to.equal('CT_LOCKOUT_MAX_ATTEMPTS');
    expect(overrideVariable(['awsAccountId'])).to.equal('CT_AWS_ACCOUNT_ID');
    const variables = configFields().map((f) => f.variable);
    expect(new Set(variables).size).to.equal(variables.length);
  });

  it('names the field, the value and the variable of a bad override', () => {
    const message = loadError({ CT_LOCKOUT_MAX_ATTEMPTS: '0', CT_REGION: 'moon-1', CT_DELIVERY_MODE: 'pigeon' });
    expect(message).to.include('lockout.maxAttempts = 0').and.include('CT_LOCKOUT_MAX_ATTEMPTS');
    expect(message).to.include('region = "moon-1"').and.include('CT_REGION');
    expect(message).to.include('deliveryMode = "pigeon"');
  });

  it('names the file of a bad value and rejects unknown fields', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-config-'));
    writeFileSync(path.join(dir, 'default.json'), readFileSync(path.join(CONFIG_DIR, 'default.json')));
    writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ lockout: { maxAtempts: 3, lockSeconds: -1 }, awsAccountId: '42' }));
    const message = loadError({ ENV: 'bad' }, dir);
    expect(message).to.include('lockout: unknown field(s) maxAtempts');
    expect(message).to.include('awsAccountId = "42"').and.include('bad.json');
  });

  it('rejects a lock shorter than the first lock, a V2_0 trigger on LITE, and a missing existing legacy pool', () => {
    expect(loadError({ CT_LOCKOUT_LOCK_SECONDS: '600', CT_LOCKOUT_MAX_LOCK_SECONDS: '60' })).to.include('lockout.maxLockSeconds = 60');
    expect(loadError({ CT_PRE_TOKEN_GENERATION_VERSION: 'V2_0', CT_USER_POOL_TIER: 'LITE' })).to.include('preTokenGenerationVersion = "V2_0"');
    expect(loadError({ CT_PRE_TOKEN_GENERATION_VERSION: 'V3_0', CT_USER_POOL_TIER: 'LITE' })).to.include('preTokenGenerationVersion = "V3_0": V3_0 needs userPoolTier ESSENTIALS or PLUS');
    expect(loadError({ CT_LEGACY_POOL_CREATE: 'false' })).to.include('legacyPool.userPoolId = ""');
    expect(loadError({ CT_LOGS_RETENTION_DAYS: '42' })).to.include('logs.retentionDays = 42');
  });

  it('refuses threat protection on every tier but PLUS, naming the field, and accepts it on PLUS', () => {
    for (const tier of ['LITE', 'ESSENTIALS']) {
      for (const mode of ['audit', 'enforced']) {
        const message = loadError({ CT_USER_POOL_TIER: tier, CT_THREAT_PROTECTION_MODE: mode });
        expect(message).to.include(`threatProtection.mode = "${mode}"`).and.include(`needs userPoolTier PLUS (it is ${tier})`);
      }
    }
    expect(loadConfig({ env: { CT_USER_POOL_TIER: 'PLUS', CT_THREAT_PROTECTION_MODE: 'enforced' } }).threatProtection.mode).to.equal('enforced');
    expect(loadConfig({ env: { CT_USER_POOL_TIER: 'LITE' } }).threatProtection.mode).to.equal('off');
  });

  it('refuses WAF limits below the 10 requests WAF accepts, and windows WAF does not offer', () => {
    expect(loadError({ CT_WAF_SIGN_IN_LIMIT: '9' })).to.include('waf.signInLimit = 9').and.include('CT_WAF_SIGN_IN_LIMIT');
    expect(loadError({ CT_WAF_SIGN_UP_LIMIT: '1.5' })).to.include('waf.signUpLimit = 1.5');
    expect(loadError({ CT_WAF_WINDOW_SECONDS: '90' })).to.include('waf.windowSeconds = 90');
    expect(loadConfig({ env: { CT_WAF_WINDOW_SECONDS: '600' } }).waf.windowSeconds).to.equal(600);
  });

  it('refuses a password-reset page that is not a path under the app, and links the lock notice to the one it accepts', () => {
    for (const bad of ['https://evil.example/reset', 'reset-password', '/reset password', '//evil.example/x']) {
      expect(loadError({ CT_LOCKOUT_RESET_PASSWORD_PATH: bad }), bad).to.include('lockout.resetPasswordPath').and.include('CT_LOCKOUT_RESET_PASSWORD_PATH');
    }
    const config = loadConfig({ env: { CT_EMAIL_APP_URL: 'https://app.example.com', CT_LOCKOUT_RESET_PASSWORD_PATH: '/account/reset' } });
    expect(passwordResetUrl(config)).to.equal('https://app.example.com/account/reset');
    expect(passwordResetUrl(loadConfig({ env: {} })), 'no app URL, no link').to.equal(undefined);
  });

  it('rejects a boolean that is not true or false, showing what was typed', () => {
    expect(loadError({ CT_DELETION_PROTECTION: 'yes' })).to.include('deletionProtection = "yes"');
  });

  it('documents every field with its default and override variable, up to date with the schema', () => {
    const doc = readFileSync(CONFIG_DOC, 'utf8');
    expect(doc, 'docs/configuration.md is stale: run node --import tsx infra/config-doc.ts').to.equal(renderConfigDoc());
    for (const field of configFields()) {
      expect(doc).to.include(`| \`${field.path.join('.')}\` |`);
      expect(doc).to.include(`\`${field.variable}\``);
    }
  });

  it('shows the same configuration section on the README', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme, 'README.md configuration section is stale: run make docs').to.equal(renderReadme(readme));
  });
});

describe('remote state settings', () => {
  it('stays local without TF_STATE_BUCKET', () => {
    expect(remoteStateFromEnv({}, { stackName: 's', region: 'us-east-1' })).to.equal(undefined);
  });

  it('derives key and region when only the bucket is set', () => {
    expect(remoteStateFromEnv({ TF_STATE_BUCKET: 'b' }, { stackName: 'cognito-triggers-dev', region: 'eu-west-1' })).to.deep.equal({
      bucket: 'b',
      key: 'cognito-triggers-dev/terraform.tfstate',
      region: 'eu-west-1',
    });
    expect(remoteStateFromEnv({ TF_STATE_BUCKET: 'b', TF_STATE_KEY: 'k', TF_STATE_REGION: 'us-west-2' }, { stackName: 's', region: 'eu-west-1' })).to.deep.equal({
      bucket: 'b',
      key: 'k',
      region: 'us-west-2',
    });
  });
});
