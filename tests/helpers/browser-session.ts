/** The common e2e setup: the real server, Chromium, one page watched for errors. */
import { afterAll, beforeAll } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, watchPage } from "./browser.ts";
import { startServer, type RunningServer } from "./server-process.ts";

export type BrowserSession = { server: RunningServer; browser: Browser; page: Page; problems: string[] };

export function useBrowserSession(opts: { env?: Record<string, string>; viewport?: { width: number; height: number } } = {}): BrowserSession {
  const session = {} as BrowserSession;
  beforeAll(async () => {
    session.server = await startServer({ env: opts.env });
    session.browser = await launchBrowser();
    session.page = await session.browser.newPage({ viewport: opts.viewport ?? { width: 1280, height: 1000 } });
    session.problems = watchPage(session.page);
  }, 60_000);
  afterAll(async () => {
    await session.browser?.close();
    await session.server?.stop();
  });
  return session;
}
