/** The login page: sets the session cookie when the token matches; attempts are rate-limited. */
import { Hono } from "hono";
import { setCookie } from "hono/cookie";
import type { AppEnv } from "../app.tsx";
import { readFormFields } from "../lib/validation.ts";
import { LoginPage } from "../../views/pages/LoginPage.tsx";
import { createRateLimiter, safeEqual, SESSION_COOKIE, sessionValue } from "./auth.ts";

const safeNext = (next: string | undefined) => (next && next.startsWith("/") && !next.startsWith("//") ? next : "/");

export function loginRoutes(token: string | undefined, clientAddress: (req: Request) => string) {
  const allow = createRateLimiter(10, 5 * 60_000);
  return new Hono<AppEnv>()
    .get("/login", (c) => (token ? c.html(<LoginPage next={safeNext(c.req.query("next"))} />) : c.redirect("/", 302)))
    .post("/login", async (c) => {
      if (!token) return c.redirect("/", 303);
      const form = await readFormFields(c);
      if (!allow(clientAddress(c.req.raw))) {
        return c.html(<LoginPage next={safeNext(form.next)} error="Too many attempts. Wait a few minutes and try again." />, 429);
      }
      if (!form.token || !safeEqual(form.token, token)) {
        return c.html(<LoginPage next={safeNext(form.next)} error="That token is not the right one." />, 401);
      }
      setCookie(c, SESSION_COOKIE, sessionValue(token), { httpOnly: true, sameSite: "Strict", path: "/", maxAge: 30 * 24 * 3600 });
      return c.redirect(safeNext(form.next), 303);
    });
}
