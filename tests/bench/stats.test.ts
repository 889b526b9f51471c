/**
 * The benchmark's statistics (bench/lib/stats.ts): the seeded order of a run and the bootstrap
 * interval printed beside each ratio budget. Pure arithmetic: no processes are started here.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { ratioInterval, seededRandom, shuffled } from '../../bench/lib/stats.ts';

/** `n` samples spread evenly over [centre - spread, centre + spread]: the median is `centre`. */
function spreadAround(centre: number, spread: number, n = 21): number[] {
  return Array.from({ length: n }, (_, i) => centre - spread + (2 * spread * i) / (n - 1));
}

describe('benchmark statistics (bench/lib/stats.ts)', () => {
  describe('seededRandom and shuffled', () => {
    it('repeats the same order for the same seed, so a run can be replayed', () => {
      const items = Array.from({ length: 40 }, (_, i) => i);
      expect(shuffled(items, 7)).to.deep.equal(shuffled(items, 7));
      expect(shuffled(items, 7)).to.not.deep.equal(shuffled(items, 8));
    });

    it('keeps every item exactly once', () => {
      fc.assert(
        fc.property(fc.array(fc.integer()), fc.integer(), (items, seed) => {
          expect([...shuffled(items, seed)].sort((a, b) => a - b)).to.deep.equal([...items].sort((a, b) => a - b));
        }),
      );
    });

    it('draws numbers in [0, 1)', () => {
      const next = seededRandom(0);
      const draws = Array.from({ length: 5000 }, next);
      expect(Math.min(...draws)).to.be.at.least(0);
      expect(Math.max(...draws)).to.be.below(1);
    });
  });

  describe('ratioInterval', () => {
    it('is the ratio itself, with no width, when no sample differs from its median', () => {
      const [low, high] = ratioInterval([{ ours: Array(21).fill(30), naive: Array(21).fill(110) }], 10);
      expect(low).to.equal(0.2);
      expect(high).to.equal(0.2);
    });

    it('sums the terms of a path before dividing, as the path figure does', () => {
      const terms = [
        { ours: Array(5).fill(30), naive: Array(5).fill(110) },
        { ours: Array(5).fill(20), naive: Array(5).fill(20) },
      ];
      // (20 + 10) / (100 + 10), not the mean of 0.2 and 1.
      const [low, high] = ratioInterval(terms, 10);
      expect(low).to.be.closeTo(30 / 110, 1e-12);
      expect(high).to.be.closeTo(30 / 110, 1e-12);
    });

    it('holds the ratio of the medians, and widens as the samples spread', () => {
      const ratio = (40 - 10) / (110 - 10);
      const narrow = ratioInterval([{ ours: spreadAround(40, 2), naive: spreadAround(110, 5) }], 10);
      const wide = ratioInterval([{ ours: spreadAround(40, 12), naive: spreadAround(110, 30) }], 10);
      expect(narrow[0]).to.be.below(ratio);
      expect(narrow[1]).to.be.above(ratio);
      expect(wide[0]).to.be.below(narrow[0]);
      expect(wide[1]).to.be.above(narrow[1]);
    });

    it('is narrower at a lower level and the same for the same seed', () => {
      const terms = [{ ours: spreadAround(40, 12), naive: spreadAround(110, 30) }];
      const ninety = ratioInterval(terms, 10);
      const half = ratioInterval(terms, 10, { level: 0.5 });
      expect(half[0]).to.be.at.least(ninety[0]);
      expect(half[1]).to.be.at.most(ninety[1]);
      expect(half[1] - half[0]).to.be.below(ninety[1] - ninety[0]);
      expect(ratioInterval(terms, 10, { seed: 3 })).to.deep.equal(ratioInterval(terms, 10, { seed: 3 }));
    });

    it('only ever reports ratios that some resample of the samples gives', () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 20, max: 60 }), { minLength: 1, maxLength: 15 }),
          fc.array(fc.integer({ min: 80, max: 200 }), { minLength: 1, maxLength: 15 }),
          (ours, naive) => {
            const [low, high] = ratioInterval([{ ours, naive }], 10, { resamples: 200 });
            // A median of a resample lies between the smallest and the largest sample.
            expect(low).to.be.at.least((Math.min(...ours) - 10) / (Math.max(...naive) - 10));
            expect(high).to.be.at.most((Math.max(...ours) - 10) / (Math.min(...naive) - 10));
            expect(low).to.be.at.most(high);
          },
        ),
      );
    });

    it('gives no interval for a term without samples', () => {
      const [low, high] = ratioInterval([{ ours: [], naive: [100] }], 10);
      expect(low).to.be.NaN;
      expect(high).to.be.NaN;
      expect(ratioInterval([], 10)[0]).to.be.NaN;
    });
  });
});
