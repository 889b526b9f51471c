/**
 * What `make sandbox` prints at start: the console, and human-paced workflow waits with the places to
 * change them, computed from the stack that actually runs.
 */
import { expect } from 'chai';
import { describeDuration, startupGuide } from '../../sandbox/guide.ts';
import type { SandboxEndpoints } from '../../sandbox/index.ts';
import { contractStack } from '../../sandbox/stack.ts';

const endpoints: SandboxEndpoints = {
  region: 'us-east-1',
  cognito: { endpoint: 'http://127.0.0.1:9229', userPoolId: 'us-east-1_pool', clientId: 'client', legacyUserPoolId: 'us-east-1_legacy', legacyClientId: 'legacy' },
  dynamodb: { endpoint: 'http://127.0.0.1:8000', tableName: 'users' },
  lambda: { endpoint: 'http://127.0.0.1:9001' },
  stores: { sendgrid: 'http://127.0.0.1:9004/stores/sendgrid', twilio: 'http://127.0.0.1:9004/stores/twilio', ses: 'http://127.0.0.1:9004/stores/ses' },
  console: { url: 'http://127.0.0.1:9005/' },
};
const urls = { ses: 'http://127.0.0.1:8005' };

describe('sandbox start-up guide', () => {
  it('says durations as a person would', () => {
    expect([1, 45, 60, 90, 600, 1200, 3600, 5400, 86_400].map(describeDuration)).to.deep.equal([
      '1 second',
      '45 seconds',
      '1 minute',
      '1 minute 30 seconds',
      '10 minutes',
      '20 minutes',
      '1 hour',
      '1 hour 30 minutes',
      '24 hours',
    ]);
  });

  it('gives a person minutes before the reminder and the deletion, and says where to change that', async () => {
    const stack = await contractStack('sandbox');
    const guide = startupGuide({ stack, endpoints, urls }, { endpointsFile: '.sandbox/endpoints.json', waitScale: 1 });
    expect(guide).to.include('Console  http://127.0.0.1:9005/');
    expect(guide).to.include('reminded 10 minutes after signing up and deleted 20 minutes after the reminder');
    expect(guide).to.include('config/sandbox.json (workflow.reminderDelaySeconds, workflow.deletionDelaySeconds)');
    expect(guide).to.include('CT_WORKFLOW_REMINDER_DELAY_SECONDS=<seconds>').and.include('CT_WORKFLOW_DELETION_DELAY_SECONDS=<seconds>');
    expect(guide).to.include('SANDBOX_WAIT_SCALE');
    expect(guide).to.include("userPoolEndpoint: 'http://127.0.0.1:9229'");
  });

  it('reports the waits as scaled by SANDBOX_WAIT_SCALE', async () => {
    const stack = await contractStack('sandbox');
    const guide = startupGuide({ stack, endpoints, urls }, { endpointsFile: '.sandbox/endpoints.json', waitScale: 0.1 });
    expect(guide).to.include('reminded 1 minute after signing up and deleted 2 minutes after the reminder');
    expect(guide).to.include('(0.1 now)');
  });
});
