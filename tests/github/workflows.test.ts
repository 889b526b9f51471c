import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const dir = path.resolve(import.meta.dirname, '../../.github/workflows');

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  shell?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  'continue-on-error'?: boolean;
}
interface Job {
  'runs-on': string;
  if?: string;
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  jobs: Record<string, Job>;
}

const text = (file: string): string => readFileSync(path.join(dir, file), 'utf8');
const load = (file: string): Workflow => parse(text(file)) as Workflow;
const steps = (wf: Workflow): Step[] => Object.values(wf.jobs).flatMap((j) => j.steps);
const uses = (wf: Workflow, action: string): Step[] => steps(wf).filter((s) => s.uses?.startsWith(`${action}@`));

describe('GitHub Actions workflows', () => {
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();

  it('are exactly ci, plan and deploy', () => {
    expect(files).to.deep.equal(['ci.yml', 'deploy.yml', 'plan.yml']);
  });

  for (const file of ['ci.yml', 'deploy.yml', 'plan.yml']) {
    describe(file, () => {
      it('pins every action to a full commit SHA with a version comment', () => {
        const lines = text(file).split('\n').filter((l) => /^\s*-?\s*uses:/.test(l));
        expect(lines).not.to.have.length(0);
        for (const line of lines) expect(line).to.match(/uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*$/, line);
        // The parsed view agrees with the line view (no action hidden in a flow mapping).
        expect(steps(load(file)).filter((s) => s.uses)).to.have.length(lines.length);
      });

      it('grants contents: read and nothing beyond what the workflow needs', () => {
        const wf = load(file);
        expect(wf.permissions.contents).to.equal('read');
        const allowed: Record<string, Record<string, string>> = {
          'ci.yml': { contents: 'read' },
          'plan.yml': { contents: 'read', 'id-token': 'write', 'pull-requests': 'write' },
          'deploy.yml': { contents: 'read', 'id-token': 'write' },
        };
        expect(wf.permissions).to.deep.equal(allowed[file]);
        for (const job of Object.values(wf.jobs)) expect(job.permissions, 'no job widens the permissions').to.equal(undefined);
      });

      it('runs on Ubuntu with Node 20 and Terraform 1.11.4 (without the wrapper, whose output would corrupt terraform show -json)', () => {
        const wf = load(file);
        for (const job of Object.values(wf.jobs)) expect(job['runs-on']).to.equal('ubuntu-latest');
        expect(uses(wf, 'actions/setup-node').map((s) => String(s.with?.['node-version']))).to.deep.equal(['20']);
        expect(uses(wf, 'hashicorp/setup-terraform').map((s) => s.with)).to.deep.equal([{ terraform_version: '1.11.4', terraform_wrapper: false }]);
        expect(uses(wf, 'actions/checkout').map((s) => s.with?.['persist-credentials'])).to.deep.equal([false]);
      });

      it('stores no AWS keys: any AWS access goes through role-to-assume (OIDC)', () => {
        expect(text(file)).not.to.match(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY|secrets\.AWS/i);
        for (const s of uses(load(file), 'aws-actions/configure-aws-credentials')) {
          expect(s.with?.['role-to-assume']).to.match(/^\$\{\{ vars\.AWS_(PLAN|DEPLOY)_ROLE_ARN \}\}$/);
        }
      });
    });
  }

  describe('ci.yml', () => {
    const wf = load('ci.yml');

    it('runs on every push and every pull request', () => {
      expect(Object.keys(wf.on).sort()).to.deep.equal(['pull_request', 'push']);
      expect(wf.on.push).to.equal(null);
      expect(wf.on.pull_request).to.equal(null);
    });

    it("runs the README's test command, make test", () => {
      expect(steps(wf).filter((s) => s.run).map((s) => s.run!.trim())).to.deep.equal(['make test']);
    });

    it('uses no AWS credentials', () => {
      expect(uses(wf, 'aws-actions/configure-aws-credentials')).to.have.length(0);
    });
  });

  describe('plan.yml', () => {
    const wf = load('plan.yml');
    const job = wf.jobs.plan!;
    const byName = (name: string): Step => {
      const s = job.steps.find((x) => x.name === name);
      expect(s, name).not.to.equal(undefined);
      return s!;
    };

    it('runs on pull requests only, and not for forks (which get no OIDC token)', () => {
      expect(Object.keys(wf.on)).to.deep.equal(['pull_request']);
      expect(job.if).to.equal('github.event.pull_request.head.repo.full_name == github.repository');
    });

    it('assumes the read-only plan role through OIDC before planning', () => {
      const names = job.steps.map((s) => s.uses?.split('@')[0] ?? s.name);
      expect(names.indexOf('aws-actions/configure-aws-credentials')).to.be.lessThan(names.indexOf('Build, synthesize and plan'));
      expect(uses(wf, 'aws-actions/configure-aws-credentials')[0]!.with?.['role-to-assume']).to.equal('${{ vars.AWS_PLAN_ROLE_ARN }}');
    });

    it('builds, synthesizes and plans through make plan, keeping going so the comment is posted, with pipefail so a failure is seen', () => {
      const plan = byName('Build, synthesize and plan');
      expect(plan.run).to.equal('make plan 2>&1 | tee plan.log');
      expect(plan.shell).to.equal('bash');
      expect(plan['continue-on-error']).to.equal(true);
      expect(plan.id).to.equal('plan');
      expect(job.env?.PLAN_COMMENT_FILE).to.equal('plan-comment.md');
    });

    it('renders a failure comment from the log when the plan fails', () => {
      const failed = byName('Summarize a failed plan');
      expect(failed.if).to.equal("steps.plan.outcome == 'failure'");
      expect(failed.run).to.contain('scripts/plan-summary.ts --failed plan.log');
    });

    it('posts or updates one sticky comment found by its hidden marker, even when the plan failed', () => {
      const post = byName('Post or update the plan comment');
      expect(post.uses).to.match(/^actions\/github-script@/);
      expect(post.if).to.equal("always() && hashFiles('plan-comment.md') != ''");
      const script = String(post.with?.script);
      expect(script).to.contain('startsWith(marker)');
      expect(script).to.contain('github.rest.issues.updateComment');
      expect(script).to.contain('github.rest.issues.createComment');
      expect(script).to.contain('github.paginate');
    });

    it('fails the check when the plan failed, as the last step', () => {
      const last = job.steps.at(-1)!;
      expect(last.if).to.equal("steps.plan.outcome == 'failure'");
      expect(last.run).to.contain('exit 1');
    });
  });

  describe('deploy.yml', () => {
    const wf = load('deploy.yml');
    const job = wf.jobs.deploy!;

    it('runs for pushes to main (and manual runs, which the job limits to main)', () => {
      expect(wf.on).to.deep.equal({ push: { branches: ['main'] }, workflow_dispatch: null });
      expect(job.if).to.equal("github.ref == 'refs/heads/main'");
    });

    it('waits on a protected GitHub environment and assumes the deploy role that trusts only that environment', () => {
      expect(job.environment).to.deep.equal({ name: "${{ vars.DEPLOY_ENV || 'prod' }}" });
      expect(uses(wf, 'aws-actions/configure-aws-credentials')[0]!.with?.['role-to-assume']).to.equal('${{ vars.AWS_DEPLOY_ROLE_ARN }}');
    });

    it('applies with make deploy, approved by the environment reviewers, one run at a time', () => {
      expect(job.steps.some((s) => s.run === 'make deploy')).to.equal(true);
      expect(job.env?.AUTO_APPROVE).to.equal('1');
      expect(wf.concurrency?.['cancel-in-progress']).to.equal(false);
    });

    it('uses the same environment name for ENV and the GitHub environment', () => {
      expect(job.env?.ENV).to.equal("${{ vars.DEPLOY_ENV || 'prod' }}");
    });
  });
});
