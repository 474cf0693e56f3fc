/**
 * What a request must be before anything reads it:
 * - addressed to a name this server answers to (DNS rebinding: a page on
 *   rebind.attacker.example re-pointed at 127.0.0.1 would otherwise be same-origin);
 * - from no foreign Origin;
 * - of the content type its route takes (415 before reading), and no larger than the
 *   route's byte limit, counted while the body streams in.
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { isIP, isIPv4, isIPv6 } from "node:net";
import { AppError } from "../lib/errors.ts";

const WILDCARDS = new Set(["0.0.0.0", "::", "[::]"]);
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Byte limits per kind of body: forms are a few fields, JSON bodies small, uploads go per file. */
export const BODY_LIMITS = { form: 64 * 1024, json: 1024 * 1024 } as const;

export type HostPolicy = { host: string; allowedHosts: string[]; authToken?: string };

/**
 * "example.org:8000" → "example.org"; "[::1]:8000" → "[::1]". A header that is not a
 * name with an optional numeric port ("127.0.0.1:80@evil.example") is kept whole, so
 * no rule below can match it.
 */
function hostname(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  const m = h.match(/^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::\d{1,5})?$/);
  return m ? m[1]! : h;
}

/**
 * A loopback address written as an IP literal (127.0.0.0/8, ::1, ::ffff:127.x.y.z), or
 * `localhost` exactly. A DNS name is never loopback here, whatever it starts with:
 * `127.0.0.1.nip.io` or `127.attacker.example` can be pointed at 127.0.0.1 and then
 * carry a foreign page's requests (DNS rebinding); an IP literal cannot be re-pointed.
 */
export function isLoopbackHost(name: string): boolean {
  if (name === "localhost") return true;
  if (isIPv4(name)) return name.startsWith("127.");
  const bare = name.replace(/^\[(.*)\]$/, "$1");
  if (!isIPv6(bare)) return false;
  const canonical = new URL(`http://[${bare}]/`).hostname; // "[::1]", "[::ffff:7f00:1]"
  return canonical === "[::1]" || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}

/**
 * Loopback literals and `localhost` always; the names in FTF_ALLOWED_HOSTS; with an
 * access token also the bound address, and when bound to every interface any IP literal
 * (an IP cannot be rebound; only a DNS name can).
 */
export function hostAllowed(policy: HostPolicy, name: string): boolean {
  if (isLoopbackHost(name)) return true;
  if (policy.allowedHosts.includes(name)) return true;
  if (!policy.authToken) return false;
  const bare = name.replace(/^\[|\]$/g, "");
  if (name === policy.host.toLowerCase() || bare === policy.host.toLowerCase()) return true;
  return WILDCARDS.has(policy.host) && isIP(bare) !== 0;
}

export function hostGuard(policy: HostPolicy): MiddlewareHandler {
  return async (c, next) => {
    const host = (c.req.header("Host") ?? new URL(c.req.url).host).toLowerCase();
    const name = hostname(host);
    if (!hostAllowed(policy, name)) {
      throw new AppError(421, "host_not_allowed", `This server does not answer to the name “${name.slice(0, 100)}”. Open it by its address (such as http://127.0.0.1:8000), or add the name to FTF_ALLOWED_HOSTS.`);
    }
    const origin = c.req.header("Origin");
    if (origin === "null" && UNSAFE.has(c.req.method)) {
      throw new AppError(403, "cross_site_request", "This request came from a page with no origin (a sandbox or a file) and was refused.");
    }
    if (origin && origin !== "null") {
      const originHost = URL.canParse(origin) ? new URL(origin).host.toLowerCase() : "";
      if (originHost !== host) {
        throw new AppError(403, "cross_site_request", "This request came from another site and was refused.");
      }
    }
    return next();
  };
}

type BodyKind = "multipart" | "json" | "form";

/** The one upload route takes multipart; the rest of /api JSON; pages url-encoded forms. */
export function bodyKindOf(method: string, path: string): BodyKind | null {
  if (!UNSAFE.has(method)) return null;
  if (/^\/api\/projects\/[^/]+\/files\/upload$/.test(path)) return "multipart";
  return path.startsWith("/api/") ? "json" : "form";
}

const ACCEPTED: Record<BodyKind, string[]> = {
  multipart: ["multipart/form-data"],
  json: ["application/json"],
  form: ["application/x-www-form-urlencoded"],
};

const tooLarge = (limit: number) => () => {
  throw new AppError(413, "payload_too_large", `The request body is larger than ${limit >= 1024 * 1024 ? `${limit / 1024 / 1024} MB` : `${limit / 1024} KB`}, the limit for this kind of request.`);
};
const limiters = {
  json: bodyLimit({ maxSize: BODY_LIMITS.json, onError: tooLarge(BODY_LIMITS.json) }),
  form: bodyLimit({ maxSize: BODY_LIMITS.form, onError: tooLarge(BODY_LIMITS.form) }),
};

export const bodyGuard: MiddlewareHandler = async (c, next) => {
  const kind = bodyKindOf(c.req.method, c.req.path);
  if (!kind) return next();
  const type = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  const length = c.req.header("Content-Length");
  const hasBody = c.req.raw.body !== null && length !== "0";
  // A body-less POST (cancel, preview…) may carry any type or none.
  if (hasBody && type && !ACCEPTED[kind].includes(type)) {
    const want = kind === "json" ? "application/json" : kind === "form" ? "a form (application/x-www-form-urlencoded)" : "multipart/form-data";
    throw new AppError(415, "unsupported_media_type", `This route takes ${want}, not ${type.slice(0, 80)}.`);
  }
  // Uploads stream to disk with their own per-file limit (src/documents/upload.ts).
  if (kind === "multipart") return next();
  return limiters[kind](c, next);
};
