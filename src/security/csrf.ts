/**
 * CSRF: a browser request that changes state must prove it comes from our pages —
 * same-origin (Origin / Sec-Fetch-Site) and carrying the page's token (the
 * X-CSRF-Token header htmx and the upload component send, or a `_csrf` form field). API clients
 * with a bearer token, and non-browser clients (no Origin, no Sec-Fetch-*), cannot be
 * driven by another site and pass.
 *
 * The token is bound to the browser: an HMAC of its `ftf_sid` cookie (random, HttpOnly,
 * SameSite=Strict) under a secret kept in the database. A token read off any page
 * (even the public login page) is worth nothing in another browser.
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { AppError } from "../lib/errors.ts";
import { safeEqual } from "./auth.ts";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
export const BROWSER_COOKIE = "ftf_sid";
const SID = /^[0-9a-f]{64}$/;

export function csrfTokenFor(secret: string, sid: string): string {
  return new Bun.CryptoHasher("sha256", secret).update(`finetuneflow-csrf-v2:${sid}`).digest("hex");
}

/** Gives every browser an id (set on first sight) and every request its page token. */
export function browserSession(secret: string, maxAgeSeconds: number): MiddlewareHandler {
  return async (c, next) => {
    let sid = getCookie(c, BROWSER_COOKIE);
    if (!sid || !SID.test(sid)) {
      sid = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
      setCookie(c, BROWSER_COOKIE, sid, { httpOnly: true, sameSite: "Strict", path: "/", maxAge: maxAgeSeconds });
    }
    c.set("csrfToken", csrfTokenFor(secret, sid));
    return next();
  };
}

async function sentToken(c: Context): Promise<string | undefined> {
  const header = c.req.header("X-CSRF-Token");
  if (header) return header;
  if ((c.req.header("Content-Type") ?? "").startsWith("application/x-www-form-urlencoded")) {
    const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    return typeof body._csrf === "string" ? body._csrf : undefined;
  }
  return undefined;
}

export const csrfProtection: MiddlewareHandler = async (c, next) => {
  if (SAFE.has(c.req.method) || c.req.header("Authorization")?.startsWith("Bearer ")) return next();
  const origin = c.req.header("Origin");
  const site = c.req.header("Sec-Fetch-Site");
  const fromBrowser = origin !== undefined || site !== undefined;
  if (!fromBrowser) return next();
  if (origin === "null" || (site && site !== "same-origin" && site !== "none")) {
    throw new AppError(403, "cross_site_request", "This request came from another site and was refused.");
  }
  const sent = await sentToken(c);
  if (!sent || !safeEqual(sent, c.get("csrfToken") as string)) {
    throw new AppError(403, "csrf_token_missing", "This form has expired or did not come from FineTuneFlow. Reload the page and try again.");
  }
  return next();
};
