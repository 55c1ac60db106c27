import { ApiError, type FieldError } from './api-error.js'

// Every refusal the server makes, by name: one place for each code's status and wording, so the same
// error reads the same wherever it is raised. openapi.yaml lists which codes each answer can carry.
const NOT_AUTHENTICATED = 'Authentication credentials were not provided or are invalid.'
const NO_RECIPIENT_DEVICE = 'The recipient has no registered device.'
// Outages worth reporting are seconds long; clients back off further on their own when a retry fails too.
const RETRY_AFTER_SECONDS = 5

export const errors = {
  invalidData: (fields?: FieldError[], message = 'The request is invalid.') =>
    new ApiError(400, 'invalid_data', message, fields),
  /** One field broke a rule the schema cannot state. */
  invalidField: (field: string, problem: string, message?: string) =>
    errors.invalidData([{ field, message: problem }], message),
  parseError: (message = 'The body is not valid JSON.') => new ApiError(400, 'parse_error', message),
  invalidHost: () => new ApiError(400, 'invalid_host', 'The Host header is not allowed.'),
  badRequest: (status = 400) => new ApiError(status, 'bad_request', 'The request could not be processed.'),
  emailExists: () => new ApiError(400, 'email_exists', 'A user with that email already exists.'),
  invalidCredentials: () => new ApiError(400, 'invalid_credentials', 'Unable to log in with the provided credentials.'),
  invalidPassword: () => new ApiError(400, 'invalid_password', 'The password is wrong.'),
  inactiveAccount: () =>
    new ApiError(400, 'inactive_account', 'The account is not active yet: open the link mailed at sign-up.'),
  invalidActivationLink: () => new ApiError(400, 'invalid_token', 'The link is invalid or has expired.'),
  activationDisabled: () =>
    new ApiError(400, 'activation_disabled', 'Email verification is off; there is no activation to resend.'),
  alreadyActive: () => new ApiError(403, 'already_active', 'The account is already active.'),
  invalidResetLink: () => new ApiError(400, 'invalid_token', 'The reset link is invalid or has expired.'),
  invalidEphemeralToken: () =>
    new ApiError(400, 'invalid_token', 'The ephemeral token is invalid or has expired; log in again.'),
  invalidCode: () => new ApiError(400, 'invalid_code', 'The code is invalid or has expired.'),
  methodNotActive: (name: string, hint = '') =>
    new ApiError(400, 'method_not_active', `The ${name} method is not active${hint}.`),
  methodAlreadyActive: (name: string) =>
    new ApiError(400, 'method_already_active', `The ${name} method is already active.`),
  invalidSignature: (fields: FieldError[]) =>
    new ApiError(400, 'invalid_signature', 'A signature does not verify against the identity key.', fields),
  reachedMaxPrekeys: (max: number, stored: number) =>
    new ApiError(400, 'reached_max_prekeys', `At most ${max} prekeys can be stored; ${stored} are stored now.`),
  prekeyIdExists: (keyId?: number) =>
    new ApiError(
      400,
      'prekey_id_exists',
      keyId === undefined
        ? 'A prekey with one of these keyIds already exists.'
        : `A prekey with keyId ${keyId} already exists.`,
    ),
  invalidRecipientEmail: () =>
    new ApiError(400, 'invalid_recipient_email', 'The recipient email is not a valid email address.'),
  invalidMessage: () =>
    new ApiError(400, 'invalid_message', "The message must be a JSON object with the recipient's registrationId."),
  notAuthenticated: (message = NOT_AUTHENTICATED, headers?: Record<string, string>) =>
    new ApiError(401, 'not_authenticated', message, undefined, headers),
  invalidRequestSignature: (why: string) => new ApiError(401, 'invalid_request_signature', `Request signature ${why}.`),
  deviceExists: () => new ApiError(403, 'device_exists', 'This user already has a device.'),
  tooManyDevices: (max: number) =>
    new ApiError(403, 'too_many_devices', `The account already has ${max} devices; remove one first.`),
  deviceRequired: () =>
    new ApiError(403, 'device_required', 'Use a token bound to the sending device (log in with deviceId).'),
  registrationIdInUse: () =>
    new ApiError(409, 'registration_id_in_use', 'Another device of this account has that registration ID.'),
  severalDevices: () =>
    new ApiError(409, 'several_devices', 'The account has several devices: use DELETE /v2/devices/{deviceId}/.'),
  mismatchedDevices: (missingDevices: number[], extraDevices: number[]) =>
    new ApiError(
      409,
      'mismatched_devices',
      "The messages do not match the recipient's devices.",
      undefined,
      undefined,
      { missingDevices, extraDevices },
    ),
  staleDevices: (staleDevices: number[]) =>
    new ApiError(410, 'stale_devices', 'Some devices have a new registration ID.', undefined, undefined, {
      staleDevices,
    }),
  noProvisioningSocket: () => new ApiError(404, 'no_provisioning_socket', 'No provisioning socket has that address.'),
  deviceChanged: () => new ApiError(403, 'device_changed', 'The registration ID does not match your device.'),
  recipientIdentityChanged: () =>
    new ApiError(403, 'recipient_identity_changed', "The recipient's device has changed; fetch a new prekey bundle."),
  noDevice: () => new ApiError(404, 'no_device', 'You have no registered device.'),
  noRecipient: () => new ApiError(404, 'no_recipient', 'No user has that email.'),
  noRecipientDevice: () => new ApiError(404, 'no_recipient_device', NO_RECIPIENT_DEVICE),
  notFound: () => new ApiError(404, 'not_found', 'Not found.'),
  methodNotAllowed: (method: string, allow: string) =>
    new ApiError(405, 'method_not_allowed', `Method ${method} is not allowed here.`, undefined, { allow }),
  keysMismatch: () => new ApiError(409, 'keys_mismatch', 'The server holds different keys; upload them again.'),
  recipientQueueFull: (max: number) =>
    new ApiError(
      409,
      'recipient_queue_full',
      `The recipient's device already holds ${max} undelivered messages; try again later.`,
    ),
  requestTooLarge: () => new ApiError(413, 'request_too_large', 'The request body is too large.'),
  messageTooLarge: (max: number) => new ApiError(413, 'message_too_large', `Messages can be at most ${max} bytes.`),
  unsupportedMediaType: (types = ['application/json']) =>
    new ApiError(415, 'unsupported_media_type', `Send the body as ${types.join(' or ')}.`),
  upgradeRequired: () =>
    new ApiError(426, 'upgrade_required', 'Open this address as a WebSocket.', undefined, { upgrade: 'websocket' }),
  throttled: (waitSeconds: number) =>
    new ApiError(429, 'throttled', `Request was throttled. Expected available in ${waitSeconds} seconds.`, undefined, {
      'retry-after': waitSeconds,
    }),
  serverError: () => new ApiError(500, 'server_error', 'Internal server error.'),
  /** The database could not be used: a fault of the server's, never of the request (so never a 4xx). */
  serviceUnavailable: () =>
    new ApiError(503, 'service_unavailable', 'The service is unavailable; retry after a few seconds.', undefined, {
      'retry-after': RETRY_AFTER_SECONDS,
    }),
}
