/**
 * Errors at the HTTP edge: any thrown value becomes an AppError (unknown ones logged in
 * full and answered with a generic sentence, so no stack or internal message reaches the
 * user), and which kind of answer a request wants. views/render-error.tsx renders it.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError, UNEXPECTED_MESSAGE, type ErrorStatus } from "./errors.ts";
import type { Logger } from "./logger.ts";

export const isApi = (c: Context) => c.req.path === "/api" || c.req.path.startsWith("/api/");
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

export const routeNotFound = (c: Context) =>
  isApi(c)
    ? new AppError(404, "route_not_found", `No API route ${c.req.method} ${c.req.path}.`)
    : new AppError(404, "page_not_found", "There is no page at this address.");
