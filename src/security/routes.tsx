/**
 * Sign in and out. The form is read first (it is a
 * few KB at most, see request-guard.ts), failures alone wait, and `next` may only
 * lead to a page of this server.
 */
import { Hono } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../lib/app-env.ts";
import { readFormFields } from "../lib/validation.ts";
import { LoginPage } from "../../views/pages/LoginPage.tsx";
import { safeEqual, SESSION_COOKIE, sessionValue } from "./auth.ts";
import type { FailureLimiter } from "./rate-limit.ts";

/**
 * A path on this server, or "/". Parsed as a browser would, against our own origin:
 * `/\evil.example`, `/<TAB>/evil.example`, `//evil.example` and `/.//evil.example` all leave it.
 */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith("/")) return "/";
  const base = "http://ftf.invalid";
  if (!URL.canParse(next, base)) return "/";
  const url = new URL(next, base);
  if (url.origin !== base) return "/";
  // `/.//evil.example` resolves to the path `//evil.example`, which a browser reads as another host.
  if (/^\/[\/\\]/.test(url.pathname)) return "/";
  return `${url.pathname}${url.search}${url.hash}`;
}

export function loginRoutes(opts: { token: string | undefined; limiter: FailureLimiter; clientAddress: (req: Request) => string; sessionDays: number }) {
  const { token, limiter } = opts;
  return new Hono<AppEnv>()
    .get("/login", (c) => (token ? c.html(<LoginPage next={safeNext(c.req.query("next"))} />) : c.redirect("/", 302)))
    .post("/login", async (c) => {
      if (!token) return c.redirect("/", 303);
      const form = await readFormFields(c);
      const verdict = await limiter.attempt(opts.clientAddress(c.req.raw), () => Boolean(form.token) && safeEqual(form.token!, token));
      if (!verdict.ok) {
        if (verdict.limited) return c.html(<LoginPage next={safeNext(form.next)} error={`That token is not the right one, and there were too many wrong ones: the next wrong one waits ${verdict.waitSeconds} s.`} />, 429);
        return c.html(<LoginPage next={safeNext(form.next)} error="That token is not the right one." />, 401);
      }
      setCookie(c, SESSION_COOKIE, sessionValue(token), { httpOnly: true, sameSite: "Strict", path: "/", maxAge: opts.sessionDays * 24 * 3600 });
      return c.redirect(safeNext(form.next), 303);
    })
    .post("/logout", (c) => {
      deleteCookie(c, SESSION_COOKIE, { path: "/" });
      return c.redirect(token ? "/login" : "/", 303);
    });
}
