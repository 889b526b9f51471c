/**
 * How the project finds the browser test's Chromium, and how it installs Debian's package when none is
 * there: as root, through passwordless sudo, or not at all, with a message saying what to do.
 */
import { expect } from 'chai';
import { CHROMIUM_PACKAGES, findChromium, installPlan } from '../../scripts/lib/chromium.ts';

describe('Chromium for the browser test', () => {
  const only = (...present: string[]) => (p: string) => present.includes(p);

  it('uses CHROMIUM_PATH when set, then Debian\'s path, then the chromium-browser name', () => {
    expect(findChromium({ CHROMIUM_PATH: '/opt/chrome/chrome' }, only('/opt/chrome/chrome', '/usr/bin/chromium'))).to.equal('/opt/chrome/chrome');
    expect(findChromium({}, only('/usr/bin/chromium', '/usr/bin/chromium-browser'))).to.equal('/usr/bin/chromium');
    expect(findChromium({}, only('/usr/bin/chromium-browser'))).to.equal('/usr/bin/chromium-browser');
    expect(findChromium({}, only())).to.equal(undefined);
  });

  it('does not fall back to another binary when CHROMIUM_PATH names one that is missing', () => {
    expect(findChromium({ CHROMIUM_PATH: '/nowhere/chrome' }, only('/usr/bin/chromium'))).to.equal(undefined);
  });

  it('installs Debian\'s chromium with apt-get as root, waiting for another apt run\'s lock', () => {
    const plan = installPlan({ isRoot: true, passwordlessSudo: false, hasAptGet: true });
    expect(plan).to.deep.equal({
      commands: [
        ['apt-get', '-o', 'DPkg::Lock::Timeout=600', 'update'],
        ['apt-get', '-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', ...CHROMIUM_PACKAGES],
      ],
    });
    expect(CHROMIUM_PACKAGES).to.include('chromium');
  });

  it('goes through sudo without a password prompt when not root (CI runners)', () => {
    const plan = installPlan({ isRoot: false, passwordlessSudo: true, hasAptGet: true });
    expect('commands' in plan && plan.commands.map((c) => c.slice(0, 2))).to.deep.equal([
      ['sudo', '--non-interactive'],
      ['sudo', '--non-interactive'],
    ]);
  });

  it('says what to do where it cannot install: no root, or no apt-get', () => {
    const noRoot = installPlan({ isRoot: false, passwordlessSudo: false, hasAptGet: true });
    expect('refusal' in noRoot && noRoot.refusal).to.include('needs root').and.include('CHROMIUM_PATH');
    const noApt = installPlan({ isRoot: true, passwordlessSudo: false, hasAptGet: false });
    expect('refusal' in noApt && noApt.refusal).to.include('no apt-get').and.include('apt-get install chromium');
  });
});
