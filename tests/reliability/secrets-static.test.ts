/**
 * What ships to Terraform must hold no secret, and every permission it grants must be named and scoped:
 * the synthesized stacks of both delivery modes and the offline plan JSONs are read as the files on
 * disk that `make synth` and `make plan-offline` wrote.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_CREDENTIALS } from '../../sandbox/index.ts';
import { record } from './lib/figures.ts';
import { ROOT } from './lib/handlers.ts';
import { allows, list, policiesIn, statements, violations, type FoundPolicy } from './lib/policy.ts';

type TfJson = { resource?: Record<string, Record<string, Record<string, unknown>>> };

/** The synthesized stacks: cdktf.out/ (configured mode) and .build/synth-<mode>/ (the other mode, written by plan-offline). */
function synthesizedStacks(): Array<{ file: string; mode: 'custom-senders' | 'cognito'; tf: TfJson }> {
  const roots = [path.join(ROOT, 'cdktf.out')];
  const build = path.join(ROOT, '.build');
  if (existsSync(build)) for (const d of readdirSync(build)) if (d.startsWith('synth-')) roots.push(path.join(build, d));
  const out: Array<{ file: string; mode: 'custom-senders' | 'cognito'; tf: TfJson }> = [];
  for (const r of roots) {
    const stacks = path.join(r, 'stacks');
    if (!existsSync(stacks)) continue;
    for (const s of readdirSync(stacks)) {
      const file = path.join(stacks, s, 'cdk.tf.json');
      if (!existsSync(file)) continue;
      const tf = JSON.parse(readFileSync(file, 'utf8')) as TfJson;
      out.push({ file: path.relative(ROOT, file), mode: tf.resource?.aws_kms_key ? 'custom-senders' : 'cognito', tf });
    }
  }
  return out;
}

function planFiles(): string[] {
  const dir = path.join(ROOT, 'cdktf.out');
  return existsSync(dir) ? readdirSync(dir).filter((f) => /^plan.*\.json$/.test(f)).map((f) => path.join(dir, f)) : [];
}

/** Values that must never be in Terraform: provider key shapes, AWS keys, private keys, the sandbox's own credentials. */
const SECRET_PATTERNS: Array<[string, RegExp]> = [
  ['SendGrid API key', /SG\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/],
  ['AWS access key id', /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['Twilio auth token (32 hex)', /(?<![0-9a-fA-F])[0-9a-f]{32}(?![0-9a-fA-F])/],
  ['sandbox SendGrid key', new RegExp(DEFAULT_CREDENTIALS.sendgrid.apiKey.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))],
  ['sandbox Twilio token', new RegExp(DEFAULT_CREDENTIALS.twilio.authToken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))],
];

/** Attribute or variable names that would carry a secret, when they hold a literal rather than a reference. */
const SECRET_NAME = /(password|passwd|secret_string|api_?key|auth_?token|private_?key|client_secret|access_key|secret_key)$/i;
const REFERENCE = /^(\$\{[^}]+\}|arn:aws[a-z-]*:[^\s]+)$/;

function walk(value: unknown, pathSoFar: string, visit: (p: string, v: unknown) => void): void {
  visit(pathSoFar, value);
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${pathSoFar}[${i}]`, visit));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, `${pathSoFar}.${k}`, visit);
}

function secretFindings(label: string, doc: unknown): string[] {
  const out: string[] = [];
  walk(doc, label, (p, v) => {
    if (typeof v !== 'string') return;
    for (const [what, re] of SECRET_PATTERNS) if (re.test(v)) out.push(`${p}: looks like a ${what}`);
    const key = p.slice(p.lastIndexOf('.') + 1).replace(/\[\d+\]$/, '');
    if (SECRET_NAME.test(key) && v !== '' && !REFERENCE.test(v)) out.push(`${p}: literal value in a secret-named field`);
  });
  return out;
}

describe('reliability: no secret in Terraform, least privilege in every policy', () => {
  const stacks = synthesizedStacks();
  const plans = planFiles();

  it('has checkers that catch a planted secret, a wildcard action and an unscoped resource (so a clean result means something)', () => {
    const planted = {
      resource: {
        aws_lambda_function: { f: { environment: { variables: { SENDGRID_API_KEY: 'SG.abcdefghijkl.mnopqrstuvwx' } } } },
        aws_iam_role_policy: {
          p: { role: '${aws_iam_role.r.name}', policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Action: ['dynamodb:*'], Resource: '*' }] }) },
        },
      },
    };
    expect(secretFindings('planted', planted).join('\n')).to.match(/SendGrid API key/);
    expect(secretFindings('planted', { password: 'hunter2hunter2' })).to.have.length(1);
    const v = policiesIn(planted, 'planted').flatMap(violations).join('\n');
    expect(v).to.match(/"dynamodb:\*" is a wildcard/);
    expect(v).to.match(/resource "\*" is not scoped/);
  });

  it('finds the synthesized stack of both delivery modes and both offline plans (make plan-offline ran)', () => {
    expect(stacks.map((s) => s.mode).sort(), 'synthesized stacks found').to.include.members(['cognito', 'custom-senders']);
    expect(plans.length, 'offline plan JSON files in cdktf.out/').to.be.at.least(2);
  });

  it('holds no secret value in the synthesized Terraform JSON or the offline plan JSON', () => {
    const findings: string[] = [];
    let scanned = 0;
    for (const s of stacks) {
      findings.push(...secretFindings(s.file, s.tf));
      scanned += 1;
      const versions = Object.keys(s.tf.resource?.aws_secretsmanager_secret_version ?? {});
      if (versions.length) findings.push(`${s.file}: aws_secretsmanager_secret_version ${versions.join(', ')} would put a secret value in state`);
      for (const [name, fn] of Object.entries(s.tf.resource?.aws_lambda_function ?? {})) {
        const vars = ((fn.environment as { variables?: Record<string, string> } | undefined)?.variables ?? {}) as Record<string, string>;
        for (const [k, v] of Object.entries(vars)) {
          if (/(KEY|TOKEN|PASSWORD|SECRET)/.test(k) && !/_ARN$/.test(k)) findings.push(`${s.file}: ${name} has variable ${k}`);
          if (/_ARN$/.test(k) && !REFERENCE.test(v)) findings.push(`${s.file}: ${name} ${k} is not an ARN reference`);
        }
      }
    }
    for (const p of plans) {
      findings.push(...secretFindings(path.relative(ROOT, p), JSON.parse(readFileSync(p, 'utf8'))));
      scanned += 1;
    }
    record({
      id: 'secrets.terraform',
      area: 'secrets',
      scenario: 'Secret values in synthesized Terraform and offline plans',
      load: `${stacks.length} synthesized stacks + ${plans.length} plan JSONs, ${SECRET_PATTERNS.length} secret shapes + secret-named fields`,
      expected: 'no secret value; secrets only as Secrets Manager ARNs; no secret version resource',
      measured: findings.length === 0 ? `0 findings in ${scanned} files` : `${findings.length} findings: ${findings.slice(0, 3).join('; ')}`,
      ok: findings.length === 0,
    });
    expect(scanned).to.be.at.least(4);
    expect(findings).to.deep.equal([]);
  });

  it('names every action and scopes every resource in every IAM policy and the KMS key policy', () => {
    const all: FoundPolicy[] = stacks.flatMap((s) => policiesIn(s.tf, `${s.mode}`));
    const found = all.flatMap(violations);
    const unscopable = all.flatMap((p) => statements(p.doc).filter((s) => list(s.Resource).includes('*') && p.kind !== 'key-policy').map((s) => `${p.where} ${s.Sid ?? ''}`));
    record({
      id: 'secrets.least-privilege',
      area: 'secrets',
      scenario: 'Least privilege: every IAM policy and the KMS key policy, both delivery modes',
      load: `${all.length} policy documents, ${all.reduce((n, p) => n + statements(p.doc).length, 0)} statements`,
      expected: 'every Allow names each action (no wildcard) and scopes each resource (only AWS-unscopable log-delivery actions on "*")',
      measured: found.length === 0 ? `0 violations (${unscopable.length} statements on "*", all AWS-unscopable log-delivery actions)` : `${found.length} violations: ${found.join('; ')}`,
      ok: found.length === 0,
    });
    expect(all.length).to.be.greaterThan(10);
    expect(found).to.deep.equal([]);
  });

  it('lets only the two sender roles decrypt with the KMS key, and no key exists in the cognito mode', () => {
    const problems: string[] = [];
    const senders = /custom-(email|sms)-sender/;
    const roleOf = (ref: string | undefined) => /aws_iam_role\.([^.}]+)/.exec(ref ?? '')?.[1] ?? String(ref);
    const decryptors = new Set<string>();
    for (const s of stacks) {
      const policies = policiesIn(s.tf, s.mode);
      const keyPolicies = policies.filter((p) => p.kind === 'key-policy');
      if (s.mode === 'cognito') {
        if (Object.keys(s.tf.resource?.aws_kms_key ?? {}).length) problems.push('cognito mode creates a KMS key');
      } else if (keyPolicies.length !== 1) problems.push(`${s.mode}: expected one key policy, found ${keyPolicies.length}`);
      for (const p of keyPolicies) {
        for (const st of statements(p.doc).filter((x) => allows(x, 'kms:Decrypt'))) {
          const principals = JSON.stringify(st.Principal ?? {}).match(/aws_iam_role\.[^.}"]+/g) ?? [];
          const others = JSON.stringify(st.Principal ?? {}).replace(/\$\{aws_iam_role\.[^}]+\}/g, '');
          if (!/^\{"AWS":\[?(,?"")*\]?\}$/.test(others)) problems.push(`${p.where}: ${st.Sid} lets ${others} decrypt`);
          for (const r of principals) {
            decryptors.add(`${s.mode}:key:${r}`);
            if (!senders.test(r)) problems.push(`${p.where}: ${st.Sid} lets ${r} decrypt`);
          }
        }
      }
      for (const p of policies.filter((x) => x.kind === 'role-policy')) {
        if (statements(p.doc).some((x) => allows(x, 'kms:Decrypt'))) {
          const role = roleOf(p.role);
          decryptors.add(`${s.mode}:iam:${role}`);
          if (!senders.test(role)) problems.push(`${p.where}: role ${role} may decrypt`);
        }
      }
    }
    const senderMode = [...decryptors].filter((d) => d.startsWith('custom-senders:'));
    record({
      id: 'secrets.kms-decrypt',
      area: 'secrets',
      scenario: 'Who can decrypt Cognito codes with the KMS key',
      load: 'key policy and every role policy, both delivery modes',
      expected: 'exactly the custom-email-sender and custom-sms-sender roles (key policy and IAM); no key in the cognito mode',
      measured: problems.length === 0 ? `${senderMode.length} grants, all to the two sender roles; cognito mode: no key` : problems.join('; '),
      ok: problems.length === 0,
    });
    expect(problems).to.deep.equal([]);
    const keyGrants = senderMode.filter((d) => d.includes(':key:'));
    const iamGrants = senderMode.filter((d) => d.includes(':iam:'));
    expect(keyGrants.length, 'key policy grants').to.equal(2);
    expect(iamGrants.length, 'IAM grants').to.equal(2);
  });

  it('scopes every Lambda permission for Cognito to this user pool (source_arn), so event.userPoolId can be trusted', () => {
    const unscoped: string[] = [];
    let count = 0;
    for (const s of stacks) {
      for (const [name, perm] of Object.entries(s.tf.resource?.aws_lambda_permission ?? {})) {
        count += 1;
        if (perm.principal === 'cognito-idp.amazonaws.com' && !/aws_cognito_user_pool\.[^.]+\.arn/.test(String(perm.source_arn))) unscoped.push(`${s.mode}: ${name}`);
      }
    }
    expect(count).to.be.greaterThan(0);
    expect(unscoped).to.deep.equal([]);
  });
});
