/**
 * The console's snapshot: codes found in every message the templates render, whatever the recipient's
 * name, and the users, locks and workflow executions assembled from stub sources, newest first.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { ListUsersCommand, type UserType } from '@aws-sdk/client-cognito-identity-provider';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { lockoutKey } from '../../../functions/common/lockout.ts';
import { CODE_KINDS, renderEmail, renderSms, type MessageKind } from '../../../functions/common/templates.ts';
import { codeIn, linkIn, ConsoleSnapshots, reminderWaits, type ConsoleSources } from '../../../sandbox/console/state.ts';
import type { StoredMessage } from '../../../sandbox/providers.ts';
import type { Execution } from '../../../sandbox/sfn.ts';

const branding = { appName: 'The Shire', appUrl: 'http://localhost:3000' };
const NOW = Date.parse('2026-05-01T12:00:00.000Z');
const DEFINITION = JSON.stringify({
  StartAt: 'WaitBeforeReminder',
  States: {
    WaitBeforeReminder: { Type: 'Wait', Seconds: 600, Next: 'SendReminder' },
    SendReminder: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:send-reminder', Next: 'WaitBeforeDeletion' },
    WaitBeforeDeletion: { Type: 'Wait', Seconds: 1200, Next: 'DeleteUnconfirmedUser' },
    DeleteUnconfirmedUser: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:delete', End: true },
  },
});

describe('sandbox console state', () => {
  describe('codeIn', () => {
    const codeKinds = [...CODE_KINDS] as MessageKind[];

    it('finds the code, under its label, in every email and SMS the templates render, whatever the name says', () => {
      fc.assert(
        fc.property(fc.constantFrom(...codeKinds), fc.stringMatching(/^\d{6}$/), fc.option(fc.string({ maxLength: 80 }), { nil: undefined }), (kind, code, name) => {
          const ctx = { branding, recipient: { ...(name !== undefined ? { name } : {}), email: 'frodo@gmail.com' }, code, username: 'frodo@gmail.com' };
          expect(codeIn(renderEmail(kind, ctx).text)?.value, `${kind} email`).to.equal(code);
          expect(codeIn(renderSms(kind, ctx))?.value, `${kind} SMS`).to.equal(code);
        }),
      );
    });

    it('finds the magic link of a MagicLink email, and no code in it, whatever the name says', () => {
      const link = 'http://localhost:3000/sign-in/link#token=0123456789abcdef0123456789abcdef.qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq';
      const text = renderEmail('MagicLink', { branding, recipient: { name: 'Eve: http://evil.example/#token=x 123456' }, link }).text;
      expect(linkIn(text)).to.equal(link);
      expect(linkIn(renderEmail('SignInCode', { branding, recipient: {}, code: '123456' }).text)).to.equal(undefined);
      expect(linkIn(renderEmail('Welcome', { branding, recipient: {} }).text)).to.equal(undefined);
    });

    it('is not fooled by a name that looks like a code', () => {
      const ctx = { branding, recipient: { name: 'Mallory, your code is 000000' }, code: '123456' };
      expect(codeIn(renderSms('SignUp', ctx))).to.deep.equal({ label: 'Confirmation code', value: '123456' });
      expect(codeIn(renderEmail('SignUp', ctx).text)).to.deep.equal({ label: 'Confirmation code', value: '123456' });
    });

    it('names what the code is for, and reads a temporary password whole', () => {
      expect(codeIn(renderEmail('ForgotPassword', { branding, recipient: {}, code: '654321' }).text)).to.deep.equal({ label: 'Reset code', value: '654321' });
      expect(codeIn(renderSms('ForgotPassword', { branding, recipient: {}, code: '654321' }))).to.deep.equal({ label: 'Reset code', value: '654321' });
      expect(codeIn(renderEmail('AdminCreateUser', { branding, recipient: {}, code: 'Tmp.p4ss-W0rd!', username: 'frodo' }).text)).to.deep.equal({ label: 'Temporary password', value: 'Tmp.p4ss-W0rd!' });
      expect(codeIn('Your verification code is 246810. ')).to.deep.equal({ label: 'Verification code', value: '246810' });
    });

    it('finds none in messages without one', () => {
      for (const kind of ['Welcome', 'Reminder', 'AccountDeleted'] as const) {
        expect(codeIn(renderEmail(kind, { branding, recipient: { name: 'Frodo' } }).text), kind).to.equal(undefined);
        expect(codeIn(renderSms(kind, { branding, recipient: { name: 'Frodo' } })), kind).to.equal(undefined);
      }
    });
  });

  it('reads the two reminder waits from the definition', () => {
    expect(reminderWaits(DEFINITION)).to.deep.equal({ reminderSeconds: 600, deletionSeconds: 1200 });
    expect(reminderWaits(undefined)).to.equal(undefined);
  });

  describe('snapshot', () => {
    const frodoSub = '11111111-1111-4111-a111-111111111111';
    const samSub = '22222222-2222-4222-a222-222222222222';
    const user = (sub: string, email: string, status: string, created: string, extra: Array<{ Name: string; Value: string }> = []): UserType => ({
      Username: sub,
      UserStatus: status as UserType['UserStatus'],
      Enabled: true,
      UserCreateDate: new Date(created),
      Attributes: [{ Name: 'sub', Value: sub }, { Name: 'email', Value: email }, ...extra],
    });
    const message = (provider: StoredMessage['provider'], to: string, text: string, at: string, id: string): StoredMessage => ({ provider, to, recipients: [to], from: 'no-reply@example.com', subject: 's', text, at, id });
    const execution = (sub: string, start: string, overrides: Partial<Execution> = {}): Execution => ({
      executionArn: `arn:aws:states:us-east-1:123456789012:execution:reminder:signup-${sub}`,
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:reminder',
      name: `signup-${sub}`,
      input: JSON.stringify({ userPoolId: 'us-east-1_pool', username: sub }),
      status: 'RUNNING',
      startDate: new Date(start),
      states: ['WaitBeforeReminder', 'SendReminder'],
      pendingWaitSeconds: 600,
      ...overrides,
    });

    let users: Record<string, UserType[]>;
    let scanPages: Array<Array<Record<string, unknown>>>;
    let executions: Execution[];
    const scans: unknown[] = [];
    const sources = (): ConsoleSources => ({
      info: { stackName: 's', region: 'us-east-1', deliveryMode: 'custom-senders', cognito: { endpoint: 'http://127.0.0.1:9229', userPoolId: 'us-east-1_pool', clientId: 'c', legacyUserPoolId: 'us-east-1_legacy' }, lockout: { maxAttempts: 5, windowSeconds: 900, lockSeconds: 300 } },
      messages: async () => [
        message('sendgrid', 'frodo@gmail.com', 'Confirmation code: 111111', '2026-05-01T11:50:00.000Z', 'a'),
        message('twilio', '+15555550100', 'Your The Shire confirmation code is 222222', '2026-05-01T11:55:00.000Z', 'b'),
        message('ses', 'frodo@gmail.com', 'Welcome', '2026-05-01T11:52:00.000Z', 'c'),
        { ...message('ses', '+15555550101', 'Your code is 333333', '2026-05-01T11:58:00.000Z', 'd'), via: 'Cognito SMS' as const },
      ],
      cognito: {
        send: (async (command: ListUsersCommand) => {
          expect(command).to.be.instanceOf(ListUsersCommand);
          return { Users: users[command.input.UserPoolId!] ?? [] };
        }) as never,
      },
      pools: { user: 'us-east-1_pool', legacy: 'us-east-1_legacy' },
      db: {
        send: (async (command: ScanCommand) => {
          expect(command).to.be.instanceOf(ScanCommand);
          scans.push(command.input.ExclusiveStartKey);
          const index = command.input.ExclusiveStartKey ? Number(command.input.ExclusiveStartKey.page) : 0;
          return { Items: scanPages[index], ...(index + 1 < scanPages.length ? { LastEvaluatedKey: { page: index + 1 } } : {}) };
        }) as never,
      },
      tableName: 'users',
      lockout: { maxAttempts: 5, windowSeconds: 900 },
      executions: () => executions,
      definition: DEFINITION,
      now: () => NOW,
    });

    beforeEach(() => {
      scans.length = 0;
      users = {
        'us-east-1_pool': [user(frodoSub, 'Frodo@Gmail.com', 'CONFIRMED', '2026-05-01T11:00:00Z', [{ Name: 'email_verified', Value: 'true' }]), user(samSub, 'sam@gmail.com', 'UNCONFIRMED', '2026-05-01T11:30:00Z', [{ Name: 'name', Value: 'Samwise' }])],
        'us-east-1_legacy': [{ Username: 'bilbo@gmail.com', UserStatus: 'CONFIRMED', Enabled: true, Attributes: [{ Name: 'email', Value: 'bilbo@gmail.com' }] }],
      };
      const lockItem = (login: string, state: Record<string, unknown>) => ({ ...lockoutKey(login), attempts: 0, windowStart: NOW - 60_000, lockedUntil: 0, lockCount: 0, total: 0, refused: 0, expiresAt: 0, ...state });
      scanPages = [
        [lockItem('frodo@gmail.com', { attempts: 0, lockedUntil: NOW + 90_000, lockCount: 1, total: 6, refused: 2 }), { pk: `USER#${frodoSub}`, sk: 'PROFILE', lastLoginAt: '2026-05-01T11:40:00.000Z', loginCount: 3 }],
        [lockItem('sam@gmail.com', { attempts: 3, windowStart: NOW - 1_000_000, total: 3 }), lockItem('ghost@gmail.com', { attempts: 2, total: 2 })],
      ];
      executions = [
        execution(frodoSub, '2026-05-01T11:00:00Z', { status: 'SUCCEEDED', stopDate: new Date('2026-05-01T11:10:00Z'), states: ['WaitBeforeReminder', 'SendReminder'], pendingWaitSeconds: 0 }),
        execution(samSub, '2026-05-01T11:30:00Z', { release: () => undefined, holdUntil: new Date('2026-05-01T11:40:00Z') }),
      ];
    });

    it('lists every message newest first, with its deliverer, channel and code', async () => {
      const state = await new ConsoleSnapshots(sources()).snapshot();
      expect(state.messages.map((m) => [m.via, m.channel, m.code?.value])).to.deep.equal([
        ['Cognito SMS', 'sms', '333333'],
        ['Twilio', 'sms', '222222'],
        ['SES', 'email', undefined],
        ['SendGrid', 'email', '111111'],
      ]);
      expect(state.generatedAt).to.equal(new Date(NOW).toISOString());
    });

    it('lists the users of both pools newest first, with status, verification, last sign-in and lock, reading every page of the table', async () => {
      const state = await new ConsoleSnapshots(sources()).snapshot();
      expect(scans, 'both scan pages read').to.have.length(2);
      const [sam, frodo, bilbo] = state.users;
      expect(sam).to.deep.include({ pool: 'user', email: 'sam@gmail.com', name: 'Samwise', status: 'UNCONFIRMED', enabled: true });
      // The window of Sam's three attempts has passed, so they no longer count.
      expect(sam!.lock).to.deep.equal({ login: 'sam@gmail.com', attempts: 0, maxAttempts: 5, refused: 0 });
      expect(frodo).to.deep.include({ email: 'Frodo@Gmail.com', status: 'CONFIRMED', emailVerified: true, lastSignInAt: '2026-05-01T11:40:00.000Z', signIns: 3 });
      // The lock item is keyed by the normalised email, whatever case the attribute has.
      expect(frodo!.lock).to.deep.equal({ login: 'Frodo@Gmail.com', attempts: 0, maxAttempts: 5, lockedUntil: new Date(NOW + 90_000).toISOString(), refused: 2 });
      expect(bilbo).to.deep.include({ pool: 'legacy', username: 'bilbo@gmail.com' });
      expect(bilbo).to.not.have.property('lock');
      expect(state.otherLogins).to.deep.equal([{ login: 'ghost@gmail.com', attempts: 2, maxAttempts: 5, refused: 0 }]);
    });

    it('lists executions newest first: the wait one holds, the task after it and when it ends, and the path of a finished one', async () => {
      const state = await new ConsoleSnapshots(sources()).snapshot();
      expect(state.executions.map((e) => e.user)).to.deep.equal(['sam@gmail.com', 'Frodo@Gmail.com']);
      expect(state.executions[0]).to.deep.include({ status: 'RUNNING', userStatus: 'UNCONFIRMED', waiting: { state: 'WaitBeforeReminder', next: 'SendReminder', until: '2026-05-01T11:40:00.000Z' } });
      expect(state.executions[1]).to.deep.include({ status: 'SUCCEEDED', stoppedAt: '2026-05-01T11:10:00.000Z', states: ['WaitBeforeReminder', 'SendReminder'] });
      expect(state.executions[1]).to.not.have.property('waiting');
    });

    it('still names the user of an execution after the workflow deleted the account', async () => {
      const snapshots = new ConsoleSnapshots(sources());
      await snapshots.snapshot();
      users['us-east-1_pool'] = users['us-east-1_pool']!.filter((u) => u.Username !== samSub);
      const state = await snapshots.snapshot();
      expect(state.executions[0]).to.deep.include({ user: 'sam@gmail.com' });
      expect(state.executions[0]).to.not.have.property('userStatus');
      expect(state.users.map((u) => u.username)).to.not.include(samSub);
    });
  });
});
