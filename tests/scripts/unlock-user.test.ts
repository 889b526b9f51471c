import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'chai';
import type { LockoutSettings } from '../../functions/common/config.ts';
import { lockoutKey } from '../../functions/common/lockout.ts';
import { recordAttempt } from '../../functions/pre-authentication/attempts.ts';
import { EXIT, UsageError, describeResult, main, parseRequest } from '../../scripts/unlock-user.ts';
import { createProjectTable } from '../../sandbox/lib/table.ts';

const require = createRequire(import.meta.url);
// dynalite ships no types; this is the one call made.
const dynalite = require('dynalite') as (options: { createTableMs: number }) => Server;
const root = path.resolve(import.meta.dirname, '../..');
const SETTINGS: LockoutSettings = { maxAttempts: 3, windowSeconds: 900, lockSeconds: 300, escalate: true, maxLockSeconds: 3600, failMode: 'closed' };
const ENV = { TABLE_NAME: 'users-table', AWS_REGION: 'eu-west-1' };

describe('unlock-user', () => {
  describe('parseRequest', () => {
    it('normalises the login and takes table and region from flags before the environment', () => {
      expect(parseRequest(['  Frodo@Gmail.com '], ENV)).to.deep.equal({ login: 'frodo@gmail.com', tableName: 'users-table', region: 'eu-west-1' });
      expect(parseRequest(['frodo@gmail.com', '--table', 'other', '--region', 'us-east-2'], ENV)).to.deep.equal({ login: 'frodo@gmail.com', tableName: 'other', region: 'us-east-2' });
      expect(parseRequest(['frodo@gmail.com'], { TABLE_NAME: 't-1', AWS_DEFAULT_REGION: 'ap-southeast-2' }).region).to.equal('ap-southeast-2');
    });

    it('refuses a missing, empty, doubled or control-character login, a bad table, a bad region and unknown flags', () => {
      const refused: Array<[string[], Record<string, string>, RegExp]> = [
        [[], ENV, /Give the login/],
        [[''], ENV, /empty/],
        [['   '], ENV, /empty/],
        [['a@gmail.com', 'b@gmail.com'], ENV, /exactly one/],
        [['a@gmail.com\r\nx'], ENV, /control characters/],
        [['a@gmail.com'], { AWS_REGION: 'eu-west-1' }, /--table or TABLE_NAME/],
        [['a@gmail.com', '--table', 'bad table!'], ENV, /not a DynamoDB table name/],
        [['a@gmail.com'], { TABLE_NAME: 'users' }, /--region or AWS_REGION/],
        [['a@gmail.com', '--region', 'mars'], ENV, /not an AWS region/],
        [['a@gmail.com', '--force'], ENV, /Unknown option/],
      ];
      for (const [argv, env, message] of refused) {
        expect(() => parseRequest(argv, env), argv.join(' ')).to.throw(UsageError, message);
      }
    });
  });

  it('says plainly what it cleared, or that there was nothing', () => {
    const request = { login: 'frodo@gmail.com', tableName: 'users', region: 'eu-west-1' };
    const now = Date.UTC(2025, 0, 1);
    expect(describeResult(request, undefined, now)).to.equal('Nothing to clear for frodo@gmail.com: no sign-in attempts are recorded (LOCKOUT#frodo@gmail.com in table users).');
    const locked = { attempts: 0, windowStart: now + 60_000, lockedUntil: now + 60_000, lockCount: 2, total: 12, refused: 4, expiresAt: 0 };
    expect(describeResult(request, locked, now)).to.equal(
      'Cleared sign-in lockout for frodo@gmail.com: was locked until 2025-01-01T00:01:00.000Z; 0 attempt(s) in the current window, lock level 2, 4 refused attempt(s) recorded (LOCKOUT#frodo@gmail.com in table users).',
    );
    expect(describeResult(request, { ...locked, lockedUntil: now - 1, attempts: 2 }, now)).to.match(/^Cleared sign-in lockout for frodo@gmail.com: was not locked; 2 attempt\(s\)/);
  });

  describe('against dynalite', function () {
    this.timeout(60_000);
    let server: Server;
    let endpoint: string;
    let doc: DynamoDBDocumentClient;
    const table = 'unlock-table';
    const makeDb = () => doc;

    before(async () => {
      server = dynalite({ createTableMs: 0 });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      endpoint = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
      const raw = new DynamoDBClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      await createProjectTable(raw, table);
      doc = DynamoDBDocumentClient.from(raw);
    });

    after(async () => {
      doc?.destroy();
      server?.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    const lockOut = async (login: string) => {
      for (let i = 0; i <= SETTINGS.maxAttempts; i++) await recordAttempt({ db: doc, tableName: table, settings: SETTINGS, now: Date.now }, login);
    };
    const stateExists = async (login: string) => (await doc.send(new GetCommand({ TableName: table, Key: lockoutKey(login), ConsistentRead: true }))).Item !== undefined;

    it('clears a locked login so its next attempt is let through, and says there is nothing left on a second run', async () => {
      await lockOut('frodo@gmail.com');
      const out: string[] = [];
      const err: string[] = [];
      const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
      expect(await main(['FRODO@gmail.com', '--table', table], { AWS_REGION: 'eu-west-1' }, io, makeDb)).to.equal(EXIT.ok);
      expect(out[0]).to.match(/^Cleared sign-in lockout for frodo@gmail.com: was locked until .*lock level 1, 1 refused attempt\(s\) recorded/);
      expect(await stateExists('frodo@gmail.com')).to.equal(false);
      expect(await recordAttempt({ db: doc, tableName: table, settings: SETTINGS, now: Date.now }, 'frodo@gmail.com')).to.deep.equal({ allowed: true, attempts: 1 });

      await main(['sam@gmail.com', '--table', table], { AWS_REGION: 'eu-west-1' }, io, makeDb);
      expect(out[1]).to.match(/^Nothing to clear for sam@gmail.com/);
      expect(err).to.deep.equal([]);
    });

    it('exits 2 with the usage line for bad input and 1 with the reason when DynamoDB refuses', async () => {
      const err: string[] = [];
      const io = { out: () => undefined, err: (l: string) => err.push(l) };
      expect(await main([], ENV, io, makeDb)).to.equal(EXIT.usage);
      expect(err.join('\n')).to.include('Usage: unlock-user.ts');
      err.length = 0;
      expect(await main(['frodo@gmail.com', '--table', 'no-such-table'], { AWS_REGION: 'eu-west-1' }, io, makeDb)).to.equal(EXIT.failed);
      expect(err[0]).to.match(/could not clear the lockout of frodo@gmail.com in no-such-table \(eu-west-1\): ResourceNotFoundException/);
    });

    it('runs as the make target does, reaching a local DynamoDB through AWS_ENDPOINT_URL_DYNAMODB', async () => {
      await lockOut('pippin@gmail.com');
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/unlock-user.ts', 'pippin@gmail.com'], {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? '',
          TABLE_NAME: table,
          AWS_REGION: 'eu-west-1',
          AWS_ENDPOINT_URL_DYNAMODB: endpoint,
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      });
      expect(stdout).to.match(/^Cleared sign-in lockout for pippin@gmail.com: was locked until/);
      expect(await stateExists('pippin@gmail.com')).to.equal(false);
    });
  });
});
