/**
 * The machine factor that converts a run's load figures into milliseconds on the reference machine
 * (bench/lib/calibration.ts). Pure arithmetic: no processes are started here.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { machineFactor, type CalibrationReference } from '../../bench/lib/calibration.ts';

const REFERENCE: CalibrationReference = { 'tree-shaken': [45, 50], 'esbuild-defaults': [85, 100] };

describe('machine calibration (bench/lib/calibration.ts)', () => {
  it('is 1 on a machine that loads the workload exactly as fast as the reference machine', () => {
    const calibration = machineFactor({ 'tree-shaken': 47.5, 'esbuild-defaults': 92.5 }, REFERENCE);
    expect(calibration.factor).to.equal(1);
    expect(calibration.builds['tree-shaken']).to.deep.equal({ measuredMs: 47.5, referenceMs: 47.5, factor: 1 });
  });

  it('grows with a slower machine: 1.3x slower loads give a factor of 1.3', () => {
    expect(machineFactor({ 'tree-shaken': 47.5 * 1.3, 'esbuild-defaults': 92.5 * 1.3 }, REFERENCE).factor).to.equal(1.3);
  });

  it('takes the geometric mean when the two builds disagree, so neither one dominates', () => {
    // 1.2 and 0.8 average to 0.98 geometrically, not 1.0 arithmetically.
    expect(machineFactor({ 'tree-shaken': 47.5 * 1.2, 'esbuild-defaults': 92.5 * 0.8 }, REFERENCE).factor).to.equal(0.98);
  });

  it('uses the build that was measured when the other failed to load', () => {
    const calibration = machineFactor({ 'tree-shaken': 57 }, REFERENCE);
    expect(calibration.factor).to.equal(1.2);
    expect(calibration.builds).to.have.keys(['tree-shaken']);
  });

  it('falls back to raw figures (factor 1) and says so when nothing usable was measured', () => {
    for (const measured of [{}, { 'tree-shaken': Number.NaN }, { 'esbuild-defaults': 0 }, { 'tree-shaken': -3 }]) {
      const calibration = machineFactor(measured, REFERENCE);
      expect(calibration.factor, JSON.stringify(measured)).to.equal(1);
      expect(calibration.note).to.match(/raw figures/);
    }
  });

  it('scales a load figure and its cap alike: measured / factor is the same on any machine speed', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.5, max: 3, noNaN: true }), fc.double({ min: 5, max: 200, noNaN: true }), (speed, referenceLoad) => {
        const calibration = machineFactor({ 'tree-shaken': 47.5 * speed, 'esbuild-defaults': 92.5 * speed }, REFERENCE);
        // The factor is rounded to 3 decimals, so the conversion is exact to within that rounding.
        expect((referenceLoad * speed) / calibration.factor).to.be.closeTo(referenceLoad, referenceLoad * 0.002);
      }),
    );
  });

  it('reads its references from bench/budgets.json, as the ranges the requirements state', () => {
    const budgets = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../bench/budgets.json'), 'utf8')) as { machineCalibration: CalibrationReference };
    expect(budgets.machineCalibration).to.deep.equal(REFERENCE);
  });
});
