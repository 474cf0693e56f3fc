/** The one place an error becomes a response: JSON for /api, a toast for htmx requests, a page otherwise. */
import type { Context } from "hono";
import type { AppError } from "../src/lib/errors.ts";
import { isApi, isPartialRequest } from "../src/lib/http-errors.ts";
import { ErrorToast } from "./components/ErrorToast.tsx";
import { ErrorPage } from "./pages/ErrorPage.tsx";

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
