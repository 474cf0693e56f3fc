/**
 * The one place an error becomes a response: JSON for /api, a toast for htmx
 * requests, a page otherwise. Unknown errors are logged in full and answered with
 * a generic sentence, so no stack or internal message reaches the user.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ErrorPage } from "../../views/pages/ErrorPage.tsx";
import { ErrorToast } from "../../views/components/ErrorToast.tsx";
import { AppError, UNEXPECTED_MESSAGE, type ErrorStatus } from "./errors.ts";
import type { Logger } from "./logger.ts";

const isApi = (c: Context) => c.req.path === "/api" || c.req.path.startsWith("/api/");
/** An htmx swap (a fragment is wanted), as opposed to a full load or a history restore. */
export const isPartialRequest = (c: Context) => c.req.header("HX-Request") === "true" && c.req.header("HX-History-Restore-Request") !== "true";

export function toAppError(err: unknown, logger: Logger, c: Context): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof HTTPException) {
    const status = err.status as ErrorStatus;
    if (status === 413) return new AppError(413, "payload_too_large", "The request body is too large.");
    return new AppError(status, `http_${status}`, err.message || "The request could not be processed.");
  }
  logger.error("unexpected error", {
    path: c.req.path,
    method: c.req.method,
    request_id: c.get("requestId" as never),
    error: err instanceof Error ? err.stack ?? err.message : String(err),
  });
  return new AppError(500, "internal_error", UNEXPECTED_MESSAGE);
}

export function renderError(c: Context, error: AppError) {
  if (isApi(c)) {
    return c.json(
      { detail: error.message, error_code: error.code, ...(error.fields ? { fields: error.fields } : {}) },
      error.status,
    );
  }
  if (isPartialRequest(c)) {
    c.header("HX-Retarget", "#toasts");
    c.header("HX-Reswap", "beforeend");
    return c.html(<ErrorToast message={error.message} code={error.code} />, error.status);
  }
  return c.html(<ErrorPage status={error.status} message={error.message} />, error.status);
}

export const routeNotFound = (c: Context) =>
  isApi(c)
    ? new AppError(404, "route_not_found", `No API route ${c.req.method} ${c.req.path}.`)
    : new AppError(404, "page_not_found", "There is no page at this address.");
