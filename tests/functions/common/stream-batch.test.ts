import { expect } from 'chai';
import { handleStreamBatch, type StreamConsumer } from '../../../functions/common/stream-batch.ts';
import { lambdaContext, pendingProfileImage, streamEvent, streamRecord } from '../../fixtures/events.ts';
import { captureLogs, quietLogger } from '../../fixtures/logs.ts';

describe('stream-batch', () => {
  quietLogger();

  /** A consumer that takes every INSERT, drops the rest, and fails the records whose sub is in `failing`. */
  function consumer(failing: ReadonlySet<string>, trace: string[]): StreamConsumer<{ sub: string }, 'not-an-insert', 'done'> {
    return {
      outcomeField: 'probe',
      what: 'probe',
      parse: (record) => (record.eventName === 'INSERT' ? { sub: record.dynamodb!.NewImage!.sub!.S! } : 'not-an-insert'),
      errors: new Set(),
      correlation: (request) => request.sub,
      handle: async (request) => {
        trace.push(`start ${request.sub}`);
        await new Promise((r) => setTimeout(r, 5));
        trace.push(`end ${request.sub}`);
        if (failing.has(request.sub)) throw new Error('not yet');
        return 'done';
      },
      noSequenceNumber: () => new Error('no sequence number'),
    };
  }

  it('handles records one after another, in order, and reports only the failed ones by sequence number', async () => {
    const trace: string[] = [];
    const event = streamEvent(
      streamRecord({ sequenceNumber: '1', image: pendingProfileImage({}, 'a') }),
      streamRecord({ sequenceNumber: '2', eventName: 'MODIFY' }),
      streamRecord({ sequenceNumber: '3', image: pendingProfileImage({}, 'b') }),
      streamRecord({ sequenceNumber: '4', image: pendingProfileImage({}, 'c') }),
    );
    const { lines } = await captureLogs(async () => {
      expect(await handleStreamBatch(event, consumer(new Set(['b']), trace), lambdaContext('probe'))).to.deep.equal({
        batchItemFailures: [{ itemIdentifier: '3' }],
        outcomes: ['done', 'not-an-insert', 'failed', 'done'],
      });
    });
    expect(trace).to.deep.equal(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(lines.find((l) => l.probe === 'not-an-insert')).to.include({ level: 'INFO', message: 'Stream record asks for no probe; dropped' });
    expect(lines.find((l) => l.failed === 1)).to.include({ level: 'WARN', message: 'Probe batch partly failed; Lambda retries from the earliest failed record', records: 4 });
  });
});
