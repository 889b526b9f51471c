/**
 * The sandbox's DynamoDB stream and event source mappings (sandbox/dynamodb/stream.ts,
 * sandbox/lambda/event-source-mapping.ts, sandbox/lambda/filter.ts), against dynalite and a scripted
 * function, so that what the journey shows about the welcome email rests on an emulation that behaves
 * like DynamoDB Streams and Lambda.
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { expect } from 'chai';
import { WELCOME_EMAIL_STREAM } from '../../infra/welcome-email-stream.ts';
import { TableStreamProxy } from '../../sandbox/dynamodb/stream.ts';
import { EventSourceMappings } from '../../sandbox/lambda/event-source-mapping.ts';
import { matchesPattern, passesFilters } from '../../sandbox/lambda/filter.ts';
import type { InvokeResult } from '../../sandbox/lambda/host.ts';
import { listen, type Listening } from '../../sandbox/lib/http.ts';
import { createProjectTable } from '../../sandbox/lib/table.ts';
import type { StackStreamMapping } from '../../sandbox/stack.ts';
import { pendingProfileImage, streamRecord } from '../fixtures/events.ts';
import { rejection } from '../fixtures/promises.ts';

const require = createRequire(import.meta.url);
const CREDENTIALS = { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' };
const STREAM = 'arn:aws:dynamodb:us-east-1:123456789012:table/streams-test/stream/1970-01-01T00:00:00.000';
const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:streams-test-failures';

describe('sandbox: Lambda event filtering', () => {
  it('lets exactly the INSERTs of PENDING profiles through the welcome email’s synthesized patterns', () => {
    const passes = (record: DynamoDBRecord) => passesFilters(WELCOME_EMAIL_STREAM.filterPatterns, record);
    expect(passes(streamRecord())).to.equal(true);
    expect(passes(streamRecord({ eventName: 'MODIFY' })), 'the SENT mark, a sign-in').to.equal(false);
    expect(passes(streamRecord({ eventName: 'REMOVE' }))).to.equal(false);
    expect(passes(streamRecord({ image: pendingProfileImage({ welcomeEmail: { S: 'SENT' } }) }))).to.equal(false);
    const { welcomeEmail: _w, ...noWelcome } = pendingProfileImage();
    expect(passes(streamRecord({ image: noWelcome })), 'a profile without an address').to.equal(false);
    expect(passes(streamRecord({ image: { pk: { S: 'USER#x' }, sk: { S: 'LOGIN#2025' }, welcomeEmail: { S: 'PENDING' } } })), 'an audit entry').to.equal(false);
    expect(passes(streamRecord({ image: { pk: { S: 'idempotency#send-welcome-email' }, sk: { S: 'abc' }, status: { S: 'COMPLETED' } } }))).to.equal(false);
  });

  it('matches values, prefixes, suffixes, case-insensitive equality, anything-but, numeric ranges and existence', () => {
    const record = { a: 'USER#1', n: 5, list: ['x', 'y'], nested: { b: true, c: null } };
    const cases: Array<[object, boolean]> = [
      [{ a: ['USER#1'] }, true],
      [{ a: ['USER#2', 'USER#1'] }, true],
      [{ a: [{ prefix: 'USER#' }] }, true],
      [{ a: [{ suffix: '#1' }] }, true],
      [{ a: [{ 'equals-ignore-case': 'user#1' }] }, true],
      [{ a: [{ 'anything-but': ['USER#1'] }] }, false],
      [{ a: [{ 'anything-but': { prefix: 'LOCKOUT#' } }] }, true],
      [{ n: [{ numeric: ['>', 1, '<=', 5] }] }, true],
      [{ n: [{ numeric: ['<', 5] }] }, false],
      [{ list: ['y'] }, true],
      [{ nested: { b: [true], c: [null] } }, true],
      [{ missing: [{ exists: false }] }, true],
      [{ missing: ['x'] }, false],
      [{ a: [{ exists: true }] }, true],
      [{ a: [{ exists: false }] }, false],
      [{ nested: { missing: [{ exists: true }] } }, false],
    ];
    for (const [pattern, expected] of cases) expect(matchesPattern(pattern, record), JSON.stringify(pattern)).to.equal(expected);
    expect(passesFilters([], record), 'no patterns pass everything').to.equal(true);
  });

  it('refuses a pattern it cannot judge rather than letting records through', () => {
    expect(() => matchesPattern({ a: [{ wildcard: 'U*' }] }, { a: 'USER#1' })).to.throw(/does not know the filter operator "wildcard"/);
    expect(() => matchesPattern({ a: 'USER#1' }, { a: 'USER#1' })).to.throw(/must be an array or an object/);
  });
});

describe('sandbox: DynamoDB stream proxy in front of dynalite', function () {
  this.timeout(30_000);
  let dynalite: Listening;
  let proxy: TableStreamProxy;
  let db: DynamoDBClient;
  const seen: DynamoDBRecord[] = [];

  before(async () => {
    const create = require('dynalite') as (o: object) => Server;
    dynalite = await listen(create({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }), 0);
    const admin = new DynamoDBClient({ region: 'us-east-1', endpoint: dynalite.url, credentials: CREDENTIALS });
    await createProjectTable(admin, 'streams-test');
    await createProjectTable(admin, 'no-stream');
    admin.destroy();
    proxy = new TableStreamProxy({
      upstream: dynalite.url,
      region: 'us-east-1',
      credentials: CREDENTIALS,
      tables: [{ tableName: 'streams-test', streamArn: STREAM, viewType: 'NEW_IMAGE' }],
      onRecords: (arn, records) => {
        expect(arn).to.equal(STREAM);
        seen.push(...records);
      },
    });
    await proxy.start();
    db = new DynamoDBClient({ region: 'us-east-1', endpoint: proxy.url, credentials: CREDENTIALS });
  });
  beforeEach(() => {
    seen.length = 0;
  });
  after(async () => {
    db?.destroy();
    await proxy?.stop();
    await dynalite?.close();
  });

  const key = (pk: string) => ({ pk: { S: pk }, sk: { S: 'PROFILE' } });

  it('turns a put into an INSERT with the new image in attribute-value form, and serves the write itself unchanged', async () => {
    await db.send(new PutItemCommand({ TableName: 'streams-test', Item: { ...key('USER#1'), email: { S: 'frodo@gmail.com' }, n: { N: '1' } } }));
    expect(seen).to.have.length(1);
    const [record] = seen;
    expect(record).to.deep.include({ eventName: 'INSERT', eventSource: 'aws:dynamodb', eventVersion: '1.1', awsRegion: 'us-east-1', eventSourceARN: STREAM });
    expect(record!.dynamodb).to.deep.include({ Keys: key('USER#1'), NewImage: { ...key('USER#1'), email: { S: 'frodo@gmail.com' }, n: { N: '1' } }, StreamViewType: 'NEW_IMAGE' });
    expect(record!.dynamodb!.SequenceNumber).to.match(/^\d{21}$/);
  });

  it('turns a change into a MODIFY, a removal into a REMOVE without image, and emits nothing for a write that changes nothing or fails', async () => {
    await db.send(new UpdateItemCommand({ TableName: 'streams-test', Key: key('USER#1'), UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': { N: '2' } } }));
    await db.send(new UpdateItemCommand({ TableName: 'streams-test', Key: key('USER#1'), UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': { N: '2' } } }));
    const failed = await rejection(db.send(new PutItemCommand({ TableName: 'streams-test', Item: key('USER#1'), ConditionExpression: 'attribute_not_exists(pk)' })));
    expect(failed).to.be.instanceOf(ConditionalCheckFailedException);
    await db.send(new DeleteItemCommand({ TableName: 'streams-test', Key: key('USER#1') }));
    await db.send(new DeleteItemCommand({ TableName: 'streams-test', Key: key('USER#1') }));
    expect(seen.map((r) => r.eventName)).to.deep.equal(['MODIFY', 'REMOVE']);
    expect(seen[0]!.dynamodb!.NewImage!.n).to.deep.equal({ N: '2' });
    expect(seen[1]!.dynamodb).to.not.have.property('NewImage');
    expect(BigInt(seen[1]!.dynamodb!.SequenceNumber!) > BigInt(seen[0]!.dynamodb!.SequenceNumber!)).to.equal(true);
  });

  it('streams batch writes, and only the tables with a stream', async () => {
    await db.send(
      new BatchWriteItemCommand({
        RequestItems: {
          'streams-test': [{ PutRequest: { Item: key('USER#2') } }, { PutRequest: { Item: key('USER#3') } }],
          'no-stream': [{ PutRequest: { Item: key('USER#9') } }],
        },
      }),
    );
    await db.send(
      new BatchWriteItemCommand({
        RequestItems: {
          'streams-test': [{ DeleteRequest: { Key: key('USER#2') } }, { PutRequest: { Item: { ...key('USER#3'), x: { S: 'y' } } } }],
          'no-stream': [{ DeleteRequest: { Key: key('USER#9') } }],
        },
      }),
    );
    expect(seen.map((r) => [r.eventName, r.dynamodb!.Keys!.pk!.S])).to.deep.equal([
      ['INSERT', 'USER#2'],
      ['INSERT', 'USER#3'],
      ['REMOVE', 'USER#2'],
      ['MODIFY', 'USER#3'],
    ]);
  });

  it('serialises concurrent writes to one item, so every record shows the item as that write left it', async () => {
    await Promise.all(
      Array.from({ length: 20 }, () =>
        db.send(new UpdateItemCommand({ TableName: 'streams-test', Key: key('USER#4'), UpdateExpression: 'ADD hits :one', ExpressionAttributeValues: { ':one': { N: '1' } } })),
      ),
    );
    expect(seen.map((r) => r.eventName)).to.deep.equal(['INSERT', ...Array<string>(19).fill('MODIFY')]);
    expect(seen.map((r) => Number(r.dynamodb!.NewImage!.hits!.N))).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(proxy.records.get(STREAM)!.length).to.be.greaterThan(20);
  });
});

describe('sandbox: event source mapping on a stream', function () {
  this.timeout(30_000);

  const mapping = (overrides: Partial<StackStreamMapping> = {}): StackStreamMapping => ({
    functionName: 'consumer',
    eventSourceArn: STREAM,
    startingPosition: 'LATEST',
    batchSize: 10,
    maximumBatchingWindowSeconds: 0,
    functionResponseTypes: ['ReportBatchItemFailures'],
    bisectBatchOnFunctionError: true,
    maximumRetryAttempts: 2,
    maximumRecordAgeSeconds: 3600,
    filterPatterns: [],
    onFailureDestinationArn: QUEUE,
    ...overrides,
  });
  const records = (...ids: string[]) => ids.map((id) => streamRecord({ sequenceNumber: id, image: pendingProfileImage({}, `sub-${id}`) }));
  const ok = (payload: unknown): InvokeResult => ({ statusCode: 200, payload });
  const thrown: InvokeResult = { statusCode: 200, functionError: 'Unhandled', payload: { errorType: 'Error', errorMessage: 'boom' } };

  /** A mapping whose function answers with `answer(batch)`; `calls` lists the batches it saw. */
  function start(m: StackStreamMapping, answer: (ids: string[]) => InvokeResult) {
    const calls: string[][] = [];
    const mappings = new EventSourceMappings({
      mappings: [m],
      retryDelayMs: 5,
      functionArn: (name) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
      invoke: async (name, event) => {
        expect(name).to.equal('consumer');
        const ids = (event as { Records: DynamoDBRecord[] }).Records.map((r) => r.dynamodb!.SequenceNumber!);
        calls.push(ids);
        return answer(ids);
      },
    });
    return { mappings, calls };
  }

  it('batches records in order, up to the batch size, and passes only what matches the filter', async () => {
    const { mappings, calls } = start(mapping({ batchSize: 2, filterPatterns: [{ dynamodb: { Keys: { pk: { S: [{ prefix: 'USER#sub-1' }] } } } }] }), () => ok(null));
    mappings.deliver(STREAM, records('1', '2', '10', '11', '12'));
    mappings.deliver('arn:aws:dynamodb:us-east-1:123456789012:table/other/stream/x', records('13'));
    await mappings.settle();
    expect(calls).to.deep.equal([['1', '10'], ['11', '12']]);
    expect(mappings.deliveries.map((d) => d.outcome)).to.deep.equal(['success', 'success']);
  });

  it('waits up to the batching window for a batch to fill', async () => {
    const { mappings, calls } = start(mapping({ maximumBatchingWindowSeconds: 0.3 }), () => ok({ batchItemFailures: [] }));
    mappings.deliver(STREAM, records('1'));
    await new Promise((r) => setTimeout(r, 50));
    mappings.deliver(STREAM, records('2'));
    await mappings.settle();
    expect(calls).to.deep.equal([['1', '2']]);
  });

  it('on a partial failure, checkpoints before the earliest failed record and retries from there', async () => {
    let first = true;
    const { mappings, calls } = start(mapping(), () => {
      if (!first) return ok({ batchItemFailures: [] });
      first = false;
      return ok({ batchItemFailures: [{ itemIdentifier: '4' }, { itemIdentifier: '3' }] });
    });
    mappings.deliver(STREAM, records('1', '2', '3', '4', '5'));
    await mappings.settle();
    expect(calls).to.deep.equal([
      ['1', '2', '3', '4', '5'],
      ['3', '4', '5'],
    ]);
    expect(mappings.deliveries.map((d) => [d.outcome, d.failed])).to.deep.equal([
      ['partial', ['4', '3']],
      ['success', []],
    ]);
  });

  it('counts an invalid item failure as a failure of the whole batch', async () => {
    let first = true;
    const { mappings, calls } = start(mapping(), () => {
      if (!first) return ok({});
      first = false;
      return ok({ batchItemFailures: [{ itemIdentifier: 'not-in-the-batch' }] });
    });
    mappings.deliver(STREAM, records('1', '2'));
    await mappings.settle();
    expect(calls).to.deep.equal([
      ['1', '2'],
      ['1', '2'],
    ]);
    expect(mappings.deliveries[0]!.outcome).to.equal('invalid');
  });

  it('bisects a batch whose invocation fails, isolating the record that breaks the function, which alone goes to the failure destination', async () => {
    const { mappings, calls } = start(mapping(), (ids) => (ids.includes('3') ? thrown : ok(null)));
    mappings.deliver(STREAM, records('1', '2', '3', '4'));
    await mappings.settle();
    // Splits do not use up retries: [3] alone is tried 1 + 2 times.
    expect(calls).to.deep.equal([['1', '2', '3', '4'], ['1', '2'], ['3', '4'], ['3'], ['3'], ['3'], ['4']]);
    const failures = mappings.failures.get(QUEUE)!;
    expect(failures).to.have.length(1);
    expect(failures[0]).to.deep.include({ version: '1.0' });
    expect(failures[0]!.requestContext).to.include({ condition: 'RetryAttemptsExhausted', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:consumer', approximateInvokeCount: 3 });
    expect(failures[0]!.responseContext).to.include({ functionError: 'Unhandled' });
    expect(failures[0]!.DDBStreamBatchInfo).to.include({ startSequenceNumber: '3', endSequenceNumber: '3', batchSize: 1, streamArn: STREAM });
    expect(JSON.stringify(failures), 'a description of the batch, never its records').to.not.include('frodo');
  });

  it('gives up on records older than the maximum record age instead of invoking the function', async () => {
    const { mappings, calls } = start(mapping({ maximumRecordAgeSeconds: 0.05, maximumRetryAttempts: -1 }), () => thrown);
    mappings.deliver(STREAM, records('1'));
    await mappings.settle();
    expect(calls.length).to.be.greaterThan(0);
    expect(mappings.failures.get(QUEUE)!.map((f) => f.requestContext.condition)).to.deep.equal(['MaximumRecordAgeExceeded']);
  });

  it('ignores a partial batch response unless ReportBatchItemFailures is on, and stops without leaving work behind', async () => {
    const { mappings, calls } = start(mapping({ functionResponseTypes: [] }), () => ok({ batchItemFailures: [{ itemIdentifier: '1' }] }));
    mappings.deliver(STREAM, records('1'));
    await mappings.settle();
    expect(calls).to.deep.equal([['1']]);
    await mappings.stop();
    mappings.deliver(STREAM, records('2'));
    await mappings.settle();
    expect(calls).to.deep.equal([['1']]);
  });
});
