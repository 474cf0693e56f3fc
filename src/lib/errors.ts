/**
 * The one error type services throw. It carries everything each renderer needs:
 * the API turns it into `{detail, error_code}` with `status`, pages into an error
 * page, htmx requests into a toast. Anything else is an unexpected bug: logged in
 * full, shown to the user as a generic sentence.
 */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 421 | 422 | 429 | 500 | 502 | 503 | 504 | 507;

export class AppError extends Error {
  constructor(
    readonly status: ErrorStatus,
    readonly code: string,
    /** A sentence fit to show the user as it is. */
    message: string,
    /** Per-field messages for forms and request bodies. */
    readonly fields?: Record<string, string>,
  ) {
    super(message);
    this.name = "AppError";
  }
}

export const notFound = (what: string, code = "not_found") => new AppError(404, code, `${what} not found.`);

export const UNEXPECTED_MESSAGE = "Something went wrong on the server. The details are in its log.";
