import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { LAMBDA_NODE_MAJOR, LAMBDA_RUNTIME } from '../../../functions/runtime.ts';
import { lambdaNode } from '../../../sandbox/lambda/node.ts';

describe('sandbox/lambda/node', () => {
  it(`resolves a Node.js binary of the Lambda runtime's major (${LAMBDA_RUNTIME})`, () => {
    const version = execFileSync(lambdaNode(), ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
    expect(Number(version.split('.')[0])).to.equal(LAMBDA_NODE_MAJOR);
  });

  it('runs the test suites themselves on that major, so in-process handler tests see the runtime Lambda gives', () => {
    expect(Number(process.versions.node.split('.')[0])).to.equal(LAMBDA_NODE_MAJOR);
  });
});
