/**
 * The reliability report renders every recorded figure into its section, marks unmet claims, and says
 * how many held, so docs/reliability.md cannot silently drop a failing row.
 */
import { expect } from 'chai';
import { render } from '../../scripts/reliability-report.ts';

describe('reliability: the report generator', () => {
  it('renders each figure as a table row in its section and marks the unmet ones', () => {
    const doc = render({
      machine: { node: 'v20.0.0', cpus: 2, platform: 'linux-x64' },
      figures: [
        { id: 'lockout.a', area: 'lockout', scenario: 'Flood | one', load: '200', expected: '5 pass', measured: '5 passed', ok: true, at: '2026-01-01T00:00:00Z' },
        { id: 'faults.b', area: 'faults', scenario: 'SES down', load: '429', expected: '1 email', measured: '0 emails', ok: false, at: '2026-01-01T00:00:01Z' },
      ],
    });
    expect(doc).to.include('1 of 2 claims held; 1 did not');
    expect(doc).to.include('| Flood \\| one | 200 | 5 pass | 5 passed | ✓ |');
    expect(doc).to.include('| SES down | 429 | 1 email | 0 emails | ✗ |');
    expect(doc.indexOf('## Lockout under concurrency')).to.be.lessThan(doc.indexOf('## Faults per dependency'));
    expect(doc).to.include('Last run: 2026-01-01T00:00:01Z');
  });
});
