/**
 * Errors that may reach an end user.
 *
 * Cognito shows a trigger's thrown message to the user as `<Trigger> failed with error <message>.`,
 * so only {@link UserFacingError} messages are ever thrown out of a handler. Anything else is logged
 * by name and replaced with {@link GENERIC_MESSAGE}.
 */

/** Shown when something unexpected failed; says nothing about internals. */
export const GENERIC_MESSAGE = 'We could not complete your request. Please try again later';

/** An error whose message was written for the end user and is safe to show verbatim. */
export class UserFacingError extends Error {
  override readonly name: string = 'UserFacingError';
  /** A stable machine-readable reason, for logs and tests; never shown. */
  readonly reason: string;

  constructor(reason: string, publicMessage: string, options?: { cause?: unknown }) {
    super(publicMessage, options);
    this.reason = reason;
  }
}

/** The error to rethrow to Cognito: user-facing errors unchanged, anything else made generic. */
export function toPublicError(error: unknown): UserFacingError {
  if (error instanceof UserFacingError) return error;
  return new UserFacingError('internal', GENERIC_MESSAGE, { cause: error });
}

/** The name of an error, safe to log (messages from libraries can carry request data). */
export function errorName(error: unknown): string {
  if (error instanceof Error) return error.name;
  return typeof error;
}
