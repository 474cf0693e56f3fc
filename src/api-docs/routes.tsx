/** /api/openapi.json and its readable page, /api/docs. */
import { Hono } from "hono";
import type { AppEnv } from "../lib/app-env.ts";
import { ApiDocsPage } from "../../views/pages/ApiDocsPage.tsx";
import { openApiDocument } from "./document.ts";

export function apiDocsRoutes() {
  return new Hono<AppEnv>()
    .get("/api/openapi.json", (c) => c.json(openApiDocument()))
    .get("/api/docs", (c) => c.html(<ApiDocsPage doc={openApiDocument()} />));
}
