import { expect } from 'chai';
import {
  ConfigError,
  ENV,
  readArn,
  readBool,
  readBranding,
  readDomainPolicy,
  readEnum,
  readInt,
  readLegacyPool,
  readList,
  readLockout,
  readOptionalString,
  readSendGrid,
  readSenderIdentity,
  readString,
  readTwilio,
  readUrl,
} from '../../../functions/common/config.ts';

/** The error a reader throws, so each test can check the message names the variable. */
function failure(read: () => unknown): ConfigError {
  try {
    read();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected the reader to throw');
}

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:cognito-triggers-dev/sendgrid-AbCdEf';

describe('runtime configuration (functions/common/config.ts)', () => {
  describe('plain readers', () => {
    it('reads a required string, trimmed, and names a missing or empty variable', () => {
      expect(readString(ENV.appName, { APP_NAME: '  Shire  ' })).to.equal('Shire');
      expect(failure(() => readString(ENV.appName, {})).message).to.equal('Environment variable APP_NAME is required');
      expect(failure(() => readString(ENV.appName, { APP_NAME: '   ' })).message).to.include('APP_NAME');
    });

    it('treats an empty optional string as unset', () => {
      expect(readOptionalString(ENV.appUrl, { APP_URL: '' })).to.equal(undefined);
      expect(readOptionalString(ENV.appUrl, {})).to.equal(undefined);
      expect(readOptionalString(ENV.appUrl, { APP_URL: 'https://shire.example' })).to.equal('https://shire.example');
    });

    it('reads whole numbers within bounds, uses the default when unset, and names the variable and value otherwise', () => {
      const bounds = { min: 1, max: 10, default: 5 };
      expect(readInt(ENV.lockoutMaxAttempts, bounds, { LOCKOUT_MAX_ATTEMPTS: '7' })).to.equal(7);
      expect(readInt(ENV.lockoutMaxAttempts, bounds, {})).to.equal(5);
      for (const bad of ['0', '11', '2.5', 'five']) {
        const message = failure(() => readInt(ENV.lockoutMaxAttempts, bounds, { LOCKOUT_MAX_ATTEMPTS: bad })).message;
        expect(message, bad).to.include('LOCKOUT_MAX_ATTEMPTS').and.to.include(JSON.stringify(bad));
      }
      expect(failure(() => readInt(ENV.lockoutMaxAttempts, { min: 1, max: 10 }, {})).message).to.include('LOCKOUT_MAX_ATTEMPTS');
    });

    it('reads booleans in their usual spellings and refuses anything else by name', () => {
      expect(readBool(ENV.allowSubdomains, false, { ALLOW_SUBDOMAINS: 'true' })).to.equal(true);
      expect(readBool(ENV.allowSubdomains, true, { ALLOW_SUBDOMAINS: 'no' })).to.equal(false);
      expect(readBool(ENV.allowSubdomains, true, {})).to.equal(true);
      expect(failure(() => readBool(ENV.allowSubdomains, false, { ALLOW_SUBDOMAINS: 'maybe' })).message)
        .to.include('ALLOW_SUBDOMAINS').and.to.include('"maybe"');
    });

    it('reads one word of a fixed set, with a default, and lists the allowed words when refusing', () => {
      const modes = ['closed', 'open'] as const;
      expect(readEnum(ENV.lockoutFailMode, modes, 'closed', { LOCKOUT_FAIL_MODE: 'open' })).to.equal('open');
      expect(readEnum(ENV.lockoutFailMode, modes, 'closed', {})).to.equal('closed');
      expect(failure(() => readEnum(ENV.lockoutFailMode, modes, 'closed', { LOCKOUT_FAIL_MODE: 'ajar' })).message)
        .to.equal('Environment variable LOCKOUT_FAIL_MODE must be one of closed, open, got "ajar"');
    });

    it('reads a comma-separated list, dropping blanks, and refuses an empty one', () => {
      expect(readList(ENV.allowedEmailDomains, { ALLOWED_EMAIL_DOMAINS: ' gmail.com, ,icloud.com ' })).to.deep.equal(['gmail.com', 'icloud.com']);
      expect(failure(() => readList(ENV.allowedEmailDomains, { ALLOWED_EMAIL_DOMAINS: ' , ' })).message).to.include('ALLOWED_EMAIL_DOMAINS');
    });

    it('reads http(s) URLs without their trailing slash and refuses other schemes and non-URLs', () => {
      expect(readUrl(ENV.sendgridApiBaseUrl, { SENDGRID_API_BASE_URL: 'https://api.sendgrid.com/' })).to.equal('https://api.sendgrid.com');
      expect(readUrl(ENV.sendgridApiBaseUrl, { SENDGRID_API_BASE_URL: 'http://127.0.0.1:9004' })).to.equal('http://127.0.0.1:9004');
      expect(failure(() => readUrl(ENV.sendgridApiBaseUrl, { SENDGRID_API_BASE_URL: 'ftp://api.sendgrid.com' })).message).to.include('http(s) URL');
      expect(failure(() => readUrl(ENV.sendgridApiBaseUrl, { SENDGRID_API_BASE_URL: 'not a url' })).message).to.include('SENDGRID_API_BASE_URL');
    });

    it('reads ARNs and refuses anything that is not one', () => {
      expect(readArn(ENV.sendgridSecretArn, { SENDGRID_SECRET_ARN: SECRET_ARN })).to.equal(SECRET_ARN);
      expect(failure(() => readArn(ENV.sendgridSecretArn, { SENDGRID_SECRET_ARN: 'sendgrid' })).message).to.include('must be an ARN');
    });

    it('reads from the given map without touching process.env', () => {
      const before = process.env.APP_NAME;
      readString(ENV.appName, { APP_NAME: 'Shire' });
      expect(process.env.APP_NAME).to.equal(before);
    });
  });

  describe('settings of each function', () => {
    it('reads the branding, with the app URL optional', () => {
      expect(readBranding({ APP_NAME: 'Shire', APP_URL: '' })).to.deep.equal({ appName: 'Shire' });
      expect(readBranding({ APP_NAME: 'Shire', APP_URL: 'https://shire.example' })).to.deep.equal({ appName: 'Shire', appUrl: 'https://shire.example' });
    });

    it('reads the sender identity, naming it after the app when no name is set, and refuses a non-address', () => {
      expect(readSenderIdentity({ APP_NAME: 'Shire', FROM_EMAIL_ADDRESS: 'no-reply@shire.example' })).to.deep.equal({ address: 'no-reply@shire.example', name: 'Shire' });
      expect(readSenderIdentity({ APP_NAME: 'Shire', FROM_EMAIL_ADDRESS: 'no-reply@shire.example', FROM_EMAIL_NAME: 'Bag End' }).name).to.equal('Bag End');
      expect(failure(() => readSenderIdentity({ APP_NAME: 'Shire', FROM_EMAIL_ADDRESS: 'no-reply' })).message).to.include('FROM_EMAIL_ADDRESS');
    });

    it('normalises the allowed domains (case, one trailing dot) and defaults to exact matches', () => {
      expect(readDomainPolicy({ ALLOWED_EMAIL_DOMAINS: 'Gmail.COM.,icloud.com' })).to.deep.equal({ allowedDomains: ['gmail.com', 'icloud.com'], allowSubdomains: false });
    });

    it('reads the lockout policy with the original design\'s defaults', () => {
      expect(readLockout({})).to.deep.equal({
        maxAttempts: 5,
        windowSeconds: 900,
        lockSeconds: 300,
        escalate: false,
        maxLockSeconds: 900,
        failMode: 'closed',
        quickLogin: { mode: 'off', minIntervalMilliseconds: 1_000 },
      });
    });

    it('reads the quick-login check and refuses an unknown mode or an interval out of range, naming the variable', () => {
      expect(readLockout({ LOCKOUT_QUICK_LOGIN_MODE: 'double', LOCKOUT_QUICK_LOGIN_INTERVAL_MS: '250' }).quickLogin).to.deep.equal({ mode: 'double', minIntervalMilliseconds: 250 });
      expect(failure(() => readLockout({ LOCKOUT_QUICK_LOGIN_MODE: 'twice' })).message).to.include('LOCKOUT_QUICK_LOGIN_MODE');
      expect(failure(() => readLockout({ LOCKOUT_QUICK_LOGIN_INTERVAL_MS: '0' })).message).to.include('LOCKOUT_QUICK_LOGIN_INTERVAL_MS');
    });

    it('refuses a longest lock shorter than the first lock, naming both variables', () => {
      const message = failure(() => readLockout({ LOCKOUT_DURATION_SECONDS: '600', LOCKOUT_MAX_DURATION_SECONDS: '60' })).message;
      expect(message).to.include('LOCKOUT_MAX_DURATION_SECONDS').and.to.include('LOCKOUT_DURATION_SECONDS');
    });

    it('takes the legacy region from the pool id unless one is given, and refuses a non-region', () => {
      expect(readLegacyPool({ LEGACY_USER_POOL_ID: 'eu-west-1_AbCdEf', LEGACY_CLIENT_ID: 'client' })).to.deep.equal({ userPoolId: 'eu-west-1_AbCdEf', clientId: 'client', region: 'eu-west-1' });
      expect(readLegacyPool({ LEGACY_USER_POOL_ID: 'eu-west-1_AbCdEf', LEGACY_CLIENT_ID: 'client', LEGACY_REGION: 'us-east-2' }).region).to.equal('us-east-2');
      expect(failure(() => readLegacyPool({ LEGACY_USER_POOL_ID: 'pool', LEGACY_CLIENT_ID: 'client' })).message).to.include('LEGACY_REGION');
    });

    it('reads each provider\'s secret and API base URL', () => {
      expect(readSendGrid({ SENDGRID_SECRET_ARN: SECRET_ARN, SENDGRID_API_BASE_URL: 'https://api.sendgrid.com' })).to.deep.equal({ secretArn: SECRET_ARN, apiBaseUrl: 'https://api.sendgrid.com' });
      const twilioArn = SECRET_ARN.replace('sendgrid', 'twilio');
      expect(readTwilio({ TWILIO_SECRET_ARN: twilioArn, TWILIO_API_BASE_URL: 'https://api.twilio.com/' })).to.deep.equal({ secretArn: twilioArn, apiBaseUrl: 'https://api.twilio.com' });
      expect(failure(() => readTwilio({ TWILIO_API_BASE_URL: 'https://api.twilio.com' })).message).to.include('TWILIO_SECRET_ARN');
    });
  });
});
