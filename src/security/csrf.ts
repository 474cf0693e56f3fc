/**
 * CSRF: a browser request that changes state must prove it comes from our pages —
 * same-origin (Origin / Sec-Fetch-Site) and carrying the page's token (the
 * X-CSRF-Token header htmx and upload.js send, or a `_csrf` form field). API clients
 * with a bearer token, and non-browser clients (no Origin, no Sec-Fetch-*), cannot be
 * driven by another site and pass.
 */
import type { MiddlewareHandler } from "hono";
import { AppError } from "../lib/errors.ts";
import { safeEqual } from "./auth.ts";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export function csrfToken(secret: string): string {
  return new Bun.CryptoHasher("sha256", secret).update("finetuneflow-csrf-v1").digest("hex");
}

export function csrfProtection(token: string): MiddlewareHandler {
  return async (c, next) => {
    if (SAFE.has(c.req.method) || c.req.header("Authorization")?.startsWith("Bearer ")) return next();
    const origin = c.req.header("Origin");
    const site = c.req.header("Sec-Fetch-Site");
    const fromBrowser = origin !== undefined || site !== undefined;
    if (!fromBrowser) return next();
    const host = c.req.header("Host") ?? new URL(c.req.url).host;
    if ((site && site !== "same-origin" && site !== "none") || (origin && origin !== "null" && new URL(origin).host !== host)) {
      throw new AppError(403, "cross_site_request", "This request came from another site and was refused.");
    }
    let sent = c.req.header("X-CSRF-Token");
    const type = c.req.header("Content-Type") ?? "";
    if (!sent && type.startsWith("application/x-www-form-urlencoded")) {
      const body = await c.req.parseBody();
      sent = typeof body._csrf === "string" ? body._csrf : undefined;
    }
    if (!sent || !safeEqual(sent, token)) {
      throw new AppError(403, "csrf_token_missing", "This form has expired or did not come from FineTuneFlow. Reload the page and try again.");
    }
    return next();
  };
}
