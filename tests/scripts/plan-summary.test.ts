import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { planSummaryCli } from '../../scripts/plan-summary.ts';
import {
  classify,
  commentMarker,
  countActions,
  diffHighlight,
  summarizeFailure,
  summarizePlan,
  summaryRows,
  type PlanJson,
  type ResourceChange,
} from '../../scripts/lib/plan-summary.ts';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/plans');
const load = (name: string): PlanJson => JSON.parse(readFileSync(path.join(fixtures, name), 'utf8')) as PlanJson;

/** The table rows of a rendered comment, as [address, action cell]. */
function tableRows(markdown: string): [string, string][] {
  return markdown
    .split('\n')
    .filter((l) => /^\| \S+ \| `/.test(l))
    .map((l) => {
      const cells = l.split(/(?<!\\)\|/).map((c) => c.trim());
      return [cells[2]!.replaceAll('`', ''), cells[4]!];
    });
}

function change(address: string, actions: ResourceChange['change']['actions'], extra: Partial<ResourceChange> = {}): ResourceChange {
  const type = address.split('.')[0]!;
  return { address, mode: 'managed', type, name: address.split('.')[1]!, change: { actions, before: {}, after: {} }, ...extra };
}

describe('plan summary', () => {
  describe('create-only plan (trimmed from the offline plan of the stack)', () => {
    let plan: PlanJson;
    let md: string;
    before(() => {
      plan = load('create.json');
      md = summarizePlan(plan, { environment: 'dev' });
    });

    it('counts every resource as an add and nothing as a change or destroy', () => {
      const n = plan.resource_changes!.filter((r) => r.mode === 'managed').length;
      expect(n).to.be.greaterThan(5);
      expect(md).to.contain(`**Plan: ${n} to add, 0 to change, 0 to destroy.**`);
      expect(md).not.to.contain('[!WARNING]');
      expect(md).not.to.contain('[!CAUTION]');
    });

    it('lists each created resource with its type', () => {
      const rows = tableRows(md);
      expect(rows.map(([a]) => a)).to.have.members(plan.resource_changes!.map((r) => r.address));
      for (const [, action] of rows) expect(action).to.equal('create');
      expect(md).to.match(/\| ➕ \| `aws_cognito_user_pool\.[^`]+` \| `aws_cognito_user_pool` \| create \|/);
    });

    it('starts with the sticky-comment marker and folds the full plan', () => {
      expect(md.startsWith(commentMarker('dev'))).to.equal(true);
      expect(md).to.match(/<details><summary>Full plan<\/summary>\n\n```diff\n/);
      expect(md.trimEnd().endsWith('</details>')).to.equal(true);
      expect(md).to.contain('(known after apply)');
    });
  });

  describe('the offline plan that make plan-offline writes (what make plan-summary prints)', () => {
    it('lists every planned resource as a create and matches the resource count', () => {
      const plan = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../cdktf.out/plan.json'), 'utf8')) as PlanJson;
      const md = planSummaryCli([path.resolve(import.meta.dirname, '../../cdktf.out/plan.json')], { ENV: 'dev' }, (f) => readFileSync(f, 'utf8'));
      const managed = plan.resource_changes!.filter((r) => r.mode === 'managed');
      expect(md).to.contain(`**Plan: ${managed.length} to add, 0 to change, 0 to destroy.**`);
      expect(tableRows(md)).to.have.length(managed.length);
      expect(md.length).to.be.at.most(60_000);
    });
  });

  describe('update plan made by Terraform offline (config change: log retention 7 -> 90, memory 256 -> 512)', () => {
    const md = summarizePlan(load('update-offline.json'), { environment: 'dev' });

    it('counts in-place updates and lists them, with the changed attributes in the fold', () => {
      expect(md).to.contain('**Plan: 0 to add, 4 to change, 0 to destroy.**');
      expect(tableRows(md).map(([, a]) => a)).to.deep.equal(Array(4).fill('update in place'));
      expect(md.match(/retention_in_days = 7 -> 90/g)).to.have.length(3);
      expect(md).to.contain('memory_size = 256 -> 512');
      expect(md).not.to.contain('[!WARNING]');
    });
  });

  describe('replace plan made by Terraform offline (table key changed, delivery mode switched to cognito)', () => {
    const md = summarizePlan(load('replace-offline.json'), { environment: 'dev' });

    it('flags the table replacement with the key attributes that force it, then the destroys, then the update', () => {
      expect(md).to.contain('**Plan: 1 to add, 1 to change, 4 to destroy (1 to replace).**');
      expect(tableRows(md)).to.deep.equal([
        ['aws_dynamodb_table.data_table_A9CB8620', '**⚠ replace** (destroy, then create; forced by `range_key`, `hash_key`)'],
        ['aws_kms_key.sender-key_90FB57F7', '**destroy** (no longer in the configuration)'],
        ['aws_lambda_function.fn-custom-email-sender_function_23A3E419', '**destroy** (no longer in the configuration)'],
        ['aws_secretsmanager_secret.secrets_sendgrid_F2207D82', '**destroy** (no longer in the configuration)'],
        ['aws_cognito_user_pool.user-pool_54D4728B', 'update in place'],
      ]);
      expect(md).to.contain('hash_key = "id" -> "pk" # forces replacement');
      expect(md).to.contain('Outputs changing:');
    });
  });

  describe('update plan (crafted: no-op resources, sensitive nested values)', () => {
    const md = summarizePlan(load('update.json'), { environment: 'dev' });

    it('counts in-place updates as changes and ignores no-op resources', () => {
      expect(md).to.contain('**Plan: 0 to add, 2 to change, 0 to destroy.**');
      const rows = tableRows(md);
      expect(rows).to.deep.equal([
        ['aws_cloudwatch_log_group.pre-sign-up_logs_1A2B3C4D', 'update in place'],
        ['aws_lambda_function.pre-sign-up_function_5E6F7A8B', 'update in place'],
      ]);
      expect(md).not.to.contain('aws_secretsmanager_secret.sendgrid');
    });

    it('shows only the attributes that change, with before and after', () => {
      expect(md).to.contain('retention_in_days = 7 -> 30');
      expect(md).to.contain('memory_size = 256 -> 512');
      expect(md).not.to.contain('runtime =');
    });

    it('does not flag anything as a replacement or destroy', () => {
      expect(md).not.to.match(/replace|destroy\*\*/i);
    });
  });

  describe('replace plan (crafted: both replacement orders, sensitive values, drift, output changes)', () => {
    const plan = load('replace.json');
    const md = summarizePlan(plan, { environment: 'prod', runUrl: 'https://github.com/o/r/actions/runs/1' });

    it('counts a replacement as one add and one destroy, and says how many are replacements', () => {
      expect(md).to.contain('**Plan: 3 to add, 1 to change, 5 to destroy (3 to replace).**');
      expect(countActions(summaryRows(plan))).to.include({ add: 3, change: 1, destroy: 5, replace: 3 });
    });

    it('flags replacements first, with the order and the attributes that force them', () => {
      const rows = tableRows(md);
      expect(rows[0]).to.deep.equal([
        'aws_cognito_user_pool.user-pool_pool_0A1B2C3D',
        '**⚠ replace** (destroy, then create; forced by `alias_attributes`, `username_attributes`)',
      ]);
      expect(rows[2]![1]).to.contain('create before destroy');
      expect(md).to.contain('> [!WARNING]\n> **3 resources will be replaced**');
    });

    it('highlights destroys after replacements and gives the reason', () => {
      const rows = tableRows(md);
      expect(rows.slice(3, 5).map(([, a]) => a)).to.deep.equal([
        '**destroy** (no longer in the configuration)',
        '**destroy** (no longer in the configuration)',
      ]);
      expect(md).to.contain('> **2 resources will be destroyed:**\n> - `aws_kms_key.senders_key_2A3B4C5D`');
    });

    it('never prints a value Terraform marks sensitive', () => {
      expect(JSON.stringify(plan)).to.contain('never-shown');
      expect(md).not.to.contain('never-shown');
      expect(md).to.contain('secret_string = (sensitive value)');
    });

    it('reports output changes, drift and the run link', () => {
      expect(md).to.contain('Outputs changing: `user_pool_id` (update), `kms_key_arn` (delete).');
      expect(md).to.contain('Changed outside Terraform since the last apply: `aws_cloudwatch_log_group.pre-sign-up_logs_1A2B3C4D`.');
      expect(md).to.contain('[Workflow run](https://github.com/o/r/actions/runs/1) · Terraform 1.11.4');
      expect(md.startsWith('<!-- cognito-triggers-plan:prod -->')).to.equal(true);
    });
  });

  describe('rendering details', () => {
    it('says "No changes." for an empty plan', () => {
      const md = summarizePlan({ format_version: '1.2', resource_changes: [] });
      expect(md).to.contain('**No changes.**');
      expect(md).not.to.contain('| Resource |');
    });

    it('folds the terraform show text when given, with markers moved to column 0 for diff colouring', () => {
      const text = '  # aws_x.y will be updated in-place\n  ~ resource "aws_x" "y" {\n      ~ a = 1 -> 2\n      + b = 3\n    }\n';
      const md = summarizePlan(load('update.json'), { planText: text });
      expect(md).to.contain('!   resource "aws_x" "y" {\n!       a = 1 -> 2\n+       b = 3');
      expect(diffHighlight('-/+ resource "a" "b" {')).to.equal('! resource "a" "b" {');
      expect(diffHighlight('  - x = 1')).to.equal('-   x = 1');
    });

    it('cuts an oversized plan so the comment stays under GitHub\'s limit, and says so', () => {
      const md = summarizePlan(load('update.json'), { planText: 'x'.repeat(200_000), maxChars: 10_000 });
      expect(md.length).to.be.at.most(10_000);
      expect(md).to.contain('more than a comment holds');
      expect(md.trimEnd().endsWith('</details>')).to.equal(true);
    });

    it('uses a fence longer than any backtick run in the plan, so plan text cannot break out', () => {
      const md = summarizePlan(load('update.json'), { planText: 'a = "```"\n' });
      expect(md).to.contain('````diff\n');
    });

    it('escapes table-breaking characters in addresses', () => {
      const md = summarizePlan({ format_version: '1.2', resource_changes: [change('aws_x.y["a|b"]', ['create'])] });
      expect(md).to.contain('`aws_x.y["a\\|b"]`');
    });

    it('lists imports, moves and forgets, and leaves data-source reads out', () => {
      const rows = summaryRows({
        format_version: '1.2',
        resource_changes: [
          change('aws_a.imported', ['no-op'], { change: { actions: ['no-op'], before: {}, after: {}, importing: { id: 'i-1' } } }),
          change('aws_a.moved', ['no-op'], { previous_address: 'aws_a.old' }),
          change('aws_a.forgotten', ['forget']),
          { ...change('data.aws_b.read', ['read']), mode: 'data' },
        ],
      });
      expect(rows.map((r) => [r.address, r.action])).to.deep.equal([
        ['aws_a.forgotten', 'forget'],
        ['aws_a.moved', 'move'],
        ['aws_a.imported', 'import'],
      ]);
    });

    it('lists a deposed object as a destroy', () => {
      const rows = summaryRows({ format_version: '1.2', resource_changes: [change('aws_a.b', ['delete'], { deposed: 'abc123' })] });
      expect(rows).to.deep.equal([{ address: 'aws_a.b (deposed abc123)', type: 'aws_a', action: 'delete' }]);
    });

    it('rejects actions it does not know rather than hiding a change', () => {
      expect(() => classify(change('aws_a.b', ['teleport' as never]))).to.throw('aws_a.b: unknown plan actions ["teleport"]');
    });

    it('rejects input that is not plan JSON with a message saying what to pass', () => {
      expect(() => summarizePlan('Plan: 1 to add')).to.throw('plan JSON must be an object');
      expect(() => summarizePlan({ resource_changes: [] })).to.throw('has no format_version');
      expect(() => summarizePlan({ format_version: '2.0' })).to.throw('format_version 2.0 is not supported');
    });

    it('warns when Terraform says the plan errored', () => {
      expect(summarizePlan({ format_version: '1.2', errored: true })).to.contain('The plan **errored**');
    });
  });

  describe('failure comment', () => {
    it('keeps the marker, says the check fails, and folds the end of the log', () => {
      const log = Array.from({ length: 300 }, (_, i) => `line ${i}`).join('\n') + '\nError: Invalid provider configuration';
      const md = summarizeFailure(log, { environment: 'dev' });
      expect(md.startsWith(commentMarker('dev'))).to.equal(true);
      expect(md).to.contain('**The plan failed.**');
      expect(md).to.contain('Error: Invalid provider configuration');
      expect(md).not.to.contain('line 50\n');
    });
  });

  describe('CLI', () => {
    const files: Record<string, string> = {
      'plan.json': readFileSync(path.join(fixtures, 'update.json'), 'utf8'),
      'plan.txt': '  ~ resource "aws_x" "y" {\n',
      'plan.log': 'Error: No valid credential sources found',
      'bad.json': 'Plan: 1 to add',
    };
    const read = (f: string): string => {
      if (!(f in files)) throw new Error('ENOENT');
      return files[f]!;
    };

    it('prints the same comment as summarizePlan, for ENV', () => {
      expect(planSummaryCli(['plan.json'], { ENV: 'qa' }, read)).to.equal(summarizePlan(JSON.parse(files['plan.json']!), { environment: 'qa' }));
    });

    it('folds the --text file and honours --env and --run-url', () => {
      const md = planSummaryCli(['plan.json', '--text', 'plan.txt', '--env', 'prod', '--run-url', 'https://x/1'], {}, read);
      expect(md).to.contain('<!-- cognito-triggers-plan:prod -->');
      expect(md).to.contain('!   resource "aws_x" "y" {');
      expect(md).to.contain('[Workflow run](https://x/1)');
    });

    it('renders the failure comment with --failed', () => {
      expect(planSummaryCli(['--failed', 'plan.log'], {}, read)).to.contain('No valid credential sources found');
    });

    it('explains a missing file, a non-JSON file and a missing argument', () => {
      expect(() => planSummaryCli(['missing.json'], {}, read)).to.throw('cannot read missing.json: expected the plan JSON (make plan-offline writes cdktf.out/plan.json)');
      expect(() => planSummaryCli(['bad.json'], {}, read)).to.throw('bad.json is not JSON');
      expect(() => planSummaryCli([], {}, read)).to.throw('usage: plan-summary.ts <plan.json>');
    });
  });
});
