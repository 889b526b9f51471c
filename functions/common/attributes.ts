/**
 * Cognito's standard user attributes, sorted by who may set them. The app client's read and write lists
 * (infra/user-pool.ts), the sandbox that enforces them and user migration's attribute filter read these.
 */

/** Standard attributes holding the user's own profile: the ones the public app client may write. */
export const PROFILE_ATTRIBUTES = [
  'address',
  'birthdate',
  'email',
  'family_name',
  'gender',
  'given_name',
  'locale',
  'middle_name',
  'name',
  'nickname',
  'phone_number',
  'picture',
  'preferred_username',
  'profile',
  'updated_at',
  'website',
  'zoneinfo',
] as const;

/**
 * The flags that say an address or number was proved by a code. No client may write them: a user who
 * could set `email_verified` could verify an address without ever receiving the code.
 */
export const VERIFICATION_FLAGS = ['email_verified', 'phone_number_verified'] as const;

/**
 * Attributes whose change the user pool holds back until the user verifies the new value
 * (`user_attribute_update_settings`): the verified address stays in force, for sign-in and for every
 * message, until the code sent to the new one is typed.
 */
export const VERIFY_BEFORE_UPDATE = ['email'] as const;

/** What the public app client may write (`write_attributes`): the profile, never a verification flag. */
export const CLIENT_WRITE_ATTRIBUTES: readonly string[] = PROFILE_ATTRIBUTES;
/** What it may read (`read_attributes`): the profile and whether the address and number are verified. */
export const CLIENT_READ_ATTRIBUTES: readonly string[] = [...PROFILE_ATTRIBUTES, ...VERIFICATION_FLAGS];
