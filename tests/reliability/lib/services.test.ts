import { expect } from 'chai';
import sinon from 'sinon';
import { startTogether } from './services.ts';

describe('reliability: starting local services together', () => {
  const started = (name: string) => ({ name, stop: sinon.stub().resolves() });

  it('gives each started service, in the order asked', async () => {
    const a = started('a');
    const b = started('b');
    const [first, second] = await startTogether(Promise.resolve(a), Promise.resolve(b));
    expect([first.name, second.name]).to.deep.equal(['a', 'b']);
    expect(a.stop.called || b.stop.called).to.equal(false);
  });

  it('stops the services that started when another fails, then rethrows its error', async () => {
    const a = started('a');
    const b = started('b');
    const failure = new Error('port in use');
    const slow = new Promise<typeof b>((resolve) => setTimeout(() => resolve(b), 20));
    const outcome = await startTogether(Promise.resolve(a), Promise.reject(failure), slow).then(
      () => 'started',
      (error: unknown) => error,
    );
    expect(outcome).to.equal(failure);
    expect(a.stop.calledOnce, 'a stopped').to.equal(true);
    expect(b.stop.calledOnce, 'b, which started after the failure, stopped').to.equal(true);
  });
});
