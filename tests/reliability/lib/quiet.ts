/**
 * Silences the functions' shared logger for a suite that drives logic in-process thousands of times,
 * and restores whatever level it had, so other suites (which may inspect logs) are unaffected.
 */
import { logger } from '../../../functions/common/logger.ts';

type Level = Parameters<typeof logger.setLogLevel>[0];

/** Registers mocha before/after hooks that silence and then restore the logger. */
export function quietLogger(): void {
  let saved: Level = 'INFO';
  before(() => {
    saved = logger.getLevelName() as Level;
    logger.setLogLevel('SILENT');
  });
  after(() => logger.setLogLevel(saved));
}
