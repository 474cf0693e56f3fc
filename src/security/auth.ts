/**
 * LAN access control. Without FTF_AUTH_TOKEN (loopback only) nothing is required.
 * With it, every page and API route needs either `Authorization: Bearer <token>` or
 * the session cookie the login page sets (HttpOnly, SameSite=Strict, a value derived
 * from the token, never the token itself). Comparisons are constant-time; login
 * attempts are rate-limited per client address.
 */
import { timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { AppError } from "../lib/errors.ts";
import type { FailureLimiter } from "./rate-limit.ts";

export const SESSION_COOKIE = "ftf_session";
/** Reachable without a token: health checks, the login page, its assets. */
const PUBLIC = [/^\/healthz$/, /^\/login$/, /^\/logout$/, /^\/static\//];

const digest = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest();

export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export function sessionValue(token: string): string {
  return new Bun.CryptoHasher("sha256", token).update("finetuneflow-session-v1").digest("hex");
}

export const isPublicPath = (path: string) => PUBLIC.some((re) => re.test(path));

export function isAuthenticated(c: Context, token: string): boolean {
  const auth = c.req.header("Authorization");
  if (auth?.startsWith("Bearer ") && safeEqual(auth.slice(7).trim(), token)) return true;
  const cookie = getCookie(c, SESSION_COOKIE);
  return !!cookie && safeEqual(cookie, sessionValue(token));
}

export function requireAuth(token: string | undefined, limiter: FailureLimiter, clientAddress: (req: Request) => string): MiddlewareHandler {
  return async (c, next) => {
    c.set("signInEnabled", Boolean(token));
    if (!token || isPublicPath(c.req.path)) return next();
    const bearer = c.req.header("Authorization")?.startsWith("Bearer ");
    if (bearer) {
      // Token guesses are limited per client like login attempts; the right token always passes.
      const verdict = await limiter.attempt(clientAddress(c.req.raw), () => isAuthenticated(c, token));
      if (verdict.ok) return next();
      if (verdict.limited) throw new AppError(429, "too_many_attempts", `Too many wrong tokens from this address: the next wrong one waits ${verdict.waitSeconds} s.`);
    } else if (isAuthenticated(c, token)) return next();
    if (c.req.path.startsWith("/api/") || c.req.header("HX-Request") === "true") {
      throw new AppError(401, "unauthorized", "Sign in first: send `Authorization: Bearer <FTF_AUTH_TOKEN>`, or log in at /login.");
    }
    const back = c.req.method === "GET" ? `?next=${encodeURIComponent(c.req.path + (new URL(c.req.url).search || ""))}` : "";
    return c.redirect(`/login${back}`, 302);
  };
}
