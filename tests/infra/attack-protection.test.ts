import { expect } from 'chai';
import { renderEmail } from '../../functions/common/templates.ts';
import { SIGN_IN_OPERATIONS, SIGN_UP_OPERATIONS, targetScopeDown } from '../../infra/waf.ts';
import { poolId, ref, resources, synthesize, testConfig, type Block } from './helpers.ts';

/** The search strings of a rule's scope-down, as WAF compares them. */
function targets(rule: Block): string[] {
  const scope = rule.statement.rate_based_statement.scope_down_statement;
  const statements = (scope.or_statement?.statement ?? [scope]) as Block[];
  return statements.map((st) => {
    const match = st.byte_match_statement;
    expect(match.field_to_match).to.deep.equal({ single_header: { name: 'x-amz-target' } });
    expect(match.positional_constraint).to.equal('EXACTLY');
    expect(match.text_transformation).to.deep.equal([{ priority: 0, type: 'LOWERCASE' }]);
    return match.search_string as string;
  });
}

describe('per-IP limits (infra/waf.ts)', () => {
  const s = synthesize(testConfig({ waf: { enabled: true, signInLimit: 150, signUpLimit: 30, windowSeconds: 600 } }));
  const acl = Object.values(resources(s, 'aws_wafv2_web_acl'))[0]!;
  const rule = (name: string) => (acl.rule as Block[]).find((r) => r.name === name)!;

  it('creates one regional web ACL that allows by default and blocks per IP', () => {
    expect(Object.keys(resources(s, 'aws_wafv2_web_acl'))).to.have.length(1);
    expect(acl).to.deep.include({ scope: 'REGIONAL', default_action: { allow: {} }, name: 'cognito-triggers-dev-user-pool' });
    for (const r of acl.rule as Block[]) {
      expect(r.action).to.deep.equal({ block: {} });
      expect(r.statement.rate_based_statement).to.include({ aggregate_key_type: 'IP', evaluation_window_sec: 600 });
      expect(r.visibility_config).to.include({ cloudwatch_metrics_enabled: true });
    }
  });

  it('limits the sign-in calls and the sign-up and recovery calls separately, each with its configured limit', () => {
    expect(rule('sign-in-per-ip').statement.rate_based_statement.limit).to.equal(150);
    expect(targets(rule('sign-in-per-ip'))).to.deep.equal(['awscognitoidentityproviderservice.initiateauth', 'awscognitoidentityproviderservice.respondtoauthchallenge']);
    expect(rule('sign-up-and-recovery-per-ip').statement.rate_based_statement.limit).to.equal(30);
    expect(targets(rule('sign-up-and-recovery-per-ip'))).to.deep.equal(
      ['SignUp', 'ConfirmSignUp', 'ForgotPassword', 'ConfirmForgotPassword', 'ResendConfirmationCode'].map((op) => `awscognitoidentityproviderservice.${op.toLowerCase()}`),
    );
  });

  it('scopes a single operation without an OR, which WAF would refuse with one statement', () => {
    expect(targetScopeDown(['InitiateAuth'])).to.have.key('byte_match_statement');
    expect(targetScopeDown(SIGN_IN_OPERATIONS)).to.have.key('or_statement');
    expect(SIGN_UP_OPERATIONS).to.have.length(5);
  });

  it('associates the web ACL with the user pool', () => {
    const [association] = Object.values(resources(s, 'aws_wafv2_web_acl_association'));
    expect(association!.resource_arn).to.equal(ref('aws_cognito_user_pool', poolId(s), 'arn'));
    expect(association!.web_acl_arn).to.equal(ref('aws_wafv2_web_acl', Object.keys(resources(s, 'aws_wafv2_web_acl'))[0]!, 'arn'));
  });

  it("alarms on any blocked request, by the web ACL's name, notifying the stack's topic", () => {
    const blocked = Object.values(resources(s, 'aws_cloudwatch_metric_alarm')).filter((a) => a.metric_name === 'BlockedRequests');
    expect(blocked).to.have.length(1);
    expect(blocked[0]).to.deep.include({ namespace: 'AWS/WAFV2', statistic: 'Sum', threshold: 1, comparison_operator: 'GreaterThanOrEqualToThreshold' });
    expect(blocked[0]!.dimensions).to.deep.equal({ WebACL: 'cognito-triggers-dev-user-pool', Region: 'us-east-1', Rule: 'ALL' });
    expect(blocked[0]!.alarm_actions).to.have.length(1);
  });

  it('creates none of it when waf.enabled is false', () => {
    const off = synthesize(testConfig({ waf: { enabled: false } }));
    for (const type of ['aws_wafv2_web_acl', 'aws_wafv2_web_acl_association']) expect(resources(off, type), type).to.deep.equal({});
    expect(Object.values(resources(off, 'aws_cloudwatch_metric_alarm')).filter((a) => a.metric_name === 'BlockedRequests')).to.deep.equal([]);
    expect(off.json.output).not.to.have.property('web_acl_arn');
  });
});

describe('threat protection (infra/threat-protection.ts)', () => {
  for (const mode of ['custom-senders', 'cognito'] as const) {
    it(`blocks compromised credentials on sign-in, sign-up and password change, in ${mode} mode`, () => {
      const s = synthesize(testConfig({ deliveryMode: mode, userPoolTier: 'PLUS', threatProtection: { mode: 'enforced' } }));
      const [risk] = Object.values(resources(s, 'aws_cognito_risk_configuration'));
      expect(risk!.user_pool_id).to.equal(ref('aws_cognito_user_pool', poolId(s), 'id'));
      expect(risk!.compromised_credentials_risk_configuration).to.deep.equal({ event_filter: ['SIGN_IN', 'SIGN_UP', 'PASSWORD_CHANGE'], actions: { event_action: 'BLOCK' } });
      const pool = resources(s, 'aws_cognito_user_pool')[poolId(s)]!;
      expect(pool.user_pool_tier).to.equal('PLUS');
      expect(pool.user_pool_add_ons).to.deep.equal({ advanced_security_mode: 'ENFORCED' });
    });
  }

  it("takes the configured action per risk level and notifies with the project's account-takeover template", () => {
    const config = testConfig({ userPoolTier: 'PLUS', threatProtection: { mode: 'enforced', lowRisk: 'NO_ACTION', mediumRisk: 'MFA_REQUIRED', highRisk: 'BLOCK', notify: true } });
    const s = synthesize(config);
    const ato = Object.values(resources(s, 'aws_cognito_risk_configuration'))[0]!.account_takeover_risk_configuration;
    expect(ato.actions).to.deep.equal({
      low_action: { event_action: 'NO_ACTION', notify: true },
      medium_action: { event_action: 'MFA_REQUIRED', notify: true },
      high_action: { event_action: 'BLOCK', notify: true },
    });
    const template = renderEmail('AccountTakeOverNotification', { branding: { appName: config.email.appName }, recipient: {} });
    for (const kind of ['block_email', 'mfa_email', 'no_action_email']) {
      expect(ato.notify_configuration[kind], kind).to.deep.equal({ subject: template.subject, html_body: template.html, text_body: template.text });
    }
    expect(ato.notify_configuration.from).to.equal(`${config.email.fromName} <${config.email.fromAddress}>`);
    expect(ato.notify_configuration.source_arn).to.be.a('string').and.not.equal('');
  });

  it('scores risk without acting in audit mode, and adds nothing when off', () => {
    const audit = synthesize(testConfig({ userPoolTier: 'PLUS', threatProtection: { mode: 'audit' } }));
    expect(resources(audit, 'aws_cognito_user_pool')[poolId(audit)]!.user_pool_add_ons).to.deep.equal({ advanced_security_mode: 'AUDIT' });
    const off = synthesize(testConfig({ userPoolTier: 'PLUS' }));
    expect(resources(off, 'aws_cognito_risk_configuration')).to.deep.equal({});
    expect(resources(off, 'aws_cognito_user_pool')[poolId(off)]!.user_pool_add_ons).to.equal(undefined);
  });
});
