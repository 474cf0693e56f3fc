/**
 * Debian's Chromium driven by playwright-core (never `playwright install`: it
 * downloads a browser, which this environment cannot). Screenshots go to the
 * git-ignored .test-artifacts/screenshots folder.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.FTF_CHROMIUM ?? "/usr/bin/chromium";
export const SCREENSHOT_DIR = join(import.meta.dir, "../../.test-artifacts/screenshots");

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Collects page errors and failed requests so a test can assert the page stayed clean. */
export function watchPage(page: Page) {
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    // 4xx answers are deliberate (a form re-rendered with its errors, a 404 toast).
    if (m.type() === "error" && !/status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return problems;
}
