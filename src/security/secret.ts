/** The server's CSRF secret: made once, kept in the database so tokens outlive restarts. */
import { z } from "zod";
import type { SettingsStore } from "../db/settings.ts";

const KEY = "csrf_secret";

export function csrfSecret(settings: SettingsStore): string {
  const existing = settings.get(KEY, z.string().length(64));
  if (existing) return existing;
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
  settings.set(KEY, secret);
  return secret;
}
