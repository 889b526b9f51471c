/**
 * Errors the sandbox's Cognito endpoint answers with, in Cognito's words. The proxy sends any error
 * with a string `code` as the AWS JSON error `{__type: code, message}`.
 */
export class CognitoApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The one answer to a failed sign-in, whether the user, the password or the session was wrong. */
export const incorrectCredentials = () => new CognitoApiError('NotAuthorizedException', 'Incorrect username or password.');
