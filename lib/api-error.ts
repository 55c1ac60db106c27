import type { components } from '../sdk/schema.js'

// The one error type handlers throw; plugins/errors.ts turns it into `{code, message, errors?}`.
// Its code is one of openapi.yaml's ErrorCode values: a code the contract does not list does not compile.
export type ErrorCode = components['schemas']['ErrorCode']
export type FieldError = { field: string; message: string }

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string | number>,
    /** Fields the answer carries beside `code` and `message` (those the spec declares for the code). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}
