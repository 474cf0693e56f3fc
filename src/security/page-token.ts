/**
 * The CSRF token pages carry: derived from a secret made when the process starts, so
 * every page of this run shares it and a page from before a restart is refused with
 * "reload the page".
 */
import { csrfToken } from "./csrf.ts";

export const CSRF_TOKEN = csrfToken(crypto.randomUUID());
