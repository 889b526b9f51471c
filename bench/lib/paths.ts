/**
 * The user journeys whose triggers run one after another, so their cold paths add up in front of one
 * user. A cold sign-in runs pre-authentication, post-authentication and pre token generation; a
 * sign-up runs pre sign-up and custom message (the code email), and its confirmation post
 * confirmation. User migration joins a sign-in only once per migrated user, and the custom senders
 * run asynchronously, so neither is part of a path.
 */
import type { FunctionName } from '../../functions/catalog.ts';

export const COLD_PATHS = {
  'sign-in': ['pre-authentication', 'post-authentication', 'pre-token-generation'],
  'sign-up': ['pre-sign-up', 'custom-message', 'post-confirmation'],
} as const satisfies Record<string, readonly FunctionName[]>;

export type ColdPathName = keyof typeof COLD_PATHS;
