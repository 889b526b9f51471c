import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig, type Config } from '../../infra/config.ts';
import { expectedResourceCounts } from '../../infra/expected.ts';
import { checkPlan, cliConfig, findProviderMirror, OFFLINE_OVERRIDE, planJsonPath, variantConfig, VARIANTS, type PlanJson } from '../../scripts/terraform.ts';

describe('terraform CLI config', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'ct-mirror-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('installs hashicorp/aws from the mirror and everything else directly when a mirror is set', () => {
    const text = cliConfig('/some/mirror');
    expect(text).to.include('filesystem_mirror').and.include('path    = "/some/mirror"');
    expect(text).to.include('include = ["registry.terraform.io/hashicorp/aws"]');
    expect(text).to.include('exclude = ["registry.terraform.io/hashicorp/aws"]');
  });

  it('installs from the registry when there is no mirror', () => {
    expect(cliConfig(undefined)).to.equal('provider_installation {\n  direct {}\n}\n');
  });

  it('takes the mirror from TF_PROVIDER_MIRROR, and `none` means the registry', () => {
    mkdirSync(path.join(tmp, 'registry.terraform.io', 'hashicorp', 'aws'), { recursive: true });
    expect(findProviderMirror({ TF_PROVIDER_MIRROR: tmp })).to.equal(tmp);
    expect(findProviderMirror({ TF_PROVIDER_MIRROR: 'none' })).to.equal(undefined);
  });

  it('refuses a TF_PROVIDER_MIRROR without the provider', () => {
    const empty = path.join(tmp, 'empty');
    mkdirSync(empty, { recursive: true });
    expect(() => findProviderMirror({ TF_PROVIDER_MIRROR: empty })).to.throw('registry.terraform.io/hashicorp/aws');
  });

  it('plans offline with placeholder credentials, the skip flags and local state', () => {
    expect(OFFLINE_OVERRIDE.provider.aws).to.include({
      skip_credentials_validation: true,
      skip_requesting_account_id: true,
      skip_metadata_api_check: true,
      skip_region_validation: true,
    });
    expect(OFFLINE_OVERRIDE.terraform.backend).to.have.key('local');
  });
});

describe('offline plan check', () => {
  const create = (address: string, type: string) => ({ address, type, mode: 'managed', change: { actions: ['create'] } });

  it('accepts a create-only plan with exactly the expected resources', () => {
    expect(checkPlan({ resource_changes: [create('a.x', 'a'), create('a.y', 'a')] }, { a: 2 })).to.deep.equal([]);
  });

  it('flags updates, replacements, data sources and wrong counts', () => {
    const plan: PlanJson = {
      resource_changes: [
        { address: 'a.x', type: 'a', mode: 'managed', change: { actions: ['update'] } },
        { address: 'a.y', type: 'a', mode: 'managed', change: { actions: ['delete', 'create'] } },
        { address: 'data.d.z', type: 'd', mode: 'data', change: { actions: ['read'] } },
      ],
    };
    const problems = checkPlan(plan, { a: 2, b: 1 });
    expect(problems.join('\n')).to.include('a.x would update').and.include('a.y would delete+create').and.include('data.d.z is a data source').and.include('b: plan creates 0, expected 1');
  });
});

/** What a planned resource will hold once created. */
function afterOf(rc: NonNullable<PlanJson['resource_changes']>[number]): Record<string, any> {
  return (rc.change as { after?: Record<string, any> }).after ?? {};
}

// `make test` runs plan-offline before mocha; these read what it wrote.
for (const variant of VARIANTS) {
  const mode = variant.overrides.deliveryMode;
  const threatProtection = variant.name !== mode;
  describe(`offline plan of the ${variant.name} variant`, () => {
    let plan: PlanJson;
    let expected: Record<string, number>;
    let planned: Config;
    before(function () {
      const configured = loadConfig();
      const file = planJsonPath(variant.name, configured.deliveryMode);
      if (!existsSync(file)) throw new Error(`${file} is missing: run \`make plan-offline\` first`);
      plan = JSON.parse(readFileSync(file, 'utf8')) as PlanJson;
      planned = variantConfig(variant, configured);
      expected = expectedResourceCounts(planned);
    });

    it('creates the web ACL with both rate rules, associates it with the user pool and alarms on its blocked requests', function () {
      // On by default; a run that switched it off for its environment has nothing to check here.
      if (!planned.waf.enabled) this.skip();
      const after = (type: string) => plan.resource_changes!.filter((rc) => rc.type === type).map(afterOf);
      const [acl] = after('aws_wafv2_web_acl');
      expect(acl?.scope).to.equal('REGIONAL');
      const rules = (acl?.rule as { name: string; statement: { rate_based_statement: { aggregate_key_type: string; limit: number }[] }[] }[]).map((r) => [r.name, r.statement[0]!.rate_based_statement[0]!.aggregate_key_type]);
      expect(rules).to.have.deep.members([['sign-in-per-ip', 'IP'], ['sign-up-and-recovery-per-ip', 'IP']]);
      expect(after('aws_wafv2_web_acl_association')).to.have.length(1);
      expect(after('aws_cloudwatch_metric_alarm').filter((a) => a.metric_name === 'BlockedRequests' && a.namespace === 'AWS/WAFV2')).to.have.length(1);
    });

    it(threatProtection ? 'creates the risk configuration, blocking compromised credentials on every password path' : 'has no risk configuration', () => {
      const risk = plan.resource_changes!.filter((rc) => rc.type === 'aws_cognito_risk_configuration');
      expect(risk).to.have.length(threatProtection ? 1 : 0);
      if (!threatProtection) return;
      const after = afterOf(risk[0]!);
      const compromised = after.compromised_credentials_risk_configuration[0];
      expect(compromised.actions[0].event_action).to.equal('BLOCK');
      expect(compromised.event_filter).to.have.members(['SIGN_IN', 'SIGN_UP', 'PASSWORD_CHANGE']);
      const pool = plan.resource_changes!.find((rc) => rc.type === 'aws_cognito_user_pool' && rc.address.includes('user-pool'));
      expect(afterOf(pool!).user_pool_tier).to.equal('PLUS');
    });

    it('only creates, and creates every expected resource', () => {
      expect(checkPlan(plan, expected)).to.deep.equal([]);
      expect(plan.resource_changes!.length).to.equal(Object.values(expected).reduce((a, b) => a + b, 0));
    });

    it(mode === 'custom-senders' ? 'includes the sender key, its policy and both provider secrets' : 'has no key, no sender and no secret', () => {
      const types = new Set(plan.resource_changes!.map((rc) => rc.type));
      for (const type of ['aws_kms_key', 'aws_kms_key_policy', 'aws_secretsmanager_secret']) expect(types.has(type), type).to.equal(mode === 'custom-senders');
      const functions = plan.resource_changes!.filter((rc) => rc.type === 'aws_lambda_function').length;
      expect(functions).to.equal((mode === 'custom-senders' ? 13 : 11) + (planned.passwordless.enabled ? 3 : 0));
    });

    it('wires the challenge triggers and CUSTOM_AUTH exactly when its configuration turns passwordless sign-in on', () => {
      const client = plan.resource_changes!.find((rc) => rc.type === 'aws_cognito_user_pool_client' && !rc.address.includes('legacy'))!;
      const after = (rc: { change: object }) => (rc.change as { after?: Record<string, any> }).after!;
      const wired = plan.resource_changes!.some((rc) => rc.type === 'aws_lambda_function' && rc.address.includes('create-auth-challenge'));
      expect(wired).to.equal(planned.passwordless.enabled);
      expect(after(client).explicit_auth_flows.includes('ALLOW_CUSTOM_AUTH')).to.equal(planned.passwordless.enabled);
    });
  });
}
