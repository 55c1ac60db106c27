// The one error type handlers throw; plugins/errors.ts turns it into `{code, message, errors?}`.
export type FieldError = { field: string; message: string }

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string | number>,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}
