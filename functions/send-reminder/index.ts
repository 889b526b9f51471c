// Placeholder until the function's behaviour lands: passes the event through unchanged.
import { logger } from '../common/logger.ts';

export const handler = async <T>(event: T): Promise<T> => {
  logger.info('invoked');
  return event;
};
