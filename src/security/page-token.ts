/**
 * What every page needs from the request without each view being handed it: the
 * browser's CSRF token and whether sign-in is on (for the Log out button). Read through
 * hono's context storage, set by the security middlewares.
 */
import { tryGetContext } from "hono/context-storage";
import type { AppEnv } from "../lib/app-env.ts";

export const pageCsrfToken = (): string => tryGetContext<AppEnv>()?.var.csrfToken ?? "";
export const signInEnabled = (): boolean => tryGetContext<AppEnv>()?.var.signInEnabled ?? false;
