/**
 * Debian's Chromium driven by playwright-core (never `playwright install`: it
 * downloads a browser, which this environment cannot). Screenshots go to the
 * git-ignored .test-artifacts/screenshots folder.
 */
import { mkdirSync, readFileSync } from "node:fs";
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

/**
 * Every screenshot is also an accessibility check: axe-core (WCAG 2 A/AA rules) runs on the
 * page as shown, and any violation fails the test with the rule, the element and why.
 * axe is evaluated through the DevTools protocol, so the app's CSP need not allow it.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
  const violations = await axeViolations(page);
  if (violations.length) throw new Error(`axe-core found accessibility violations on ${name}:\n${violations.join("\n")}`);
}

const AXE_SOURCE = readFileSync(join(import.meta.dir, "../../node_modules/axe-core/axe.min.js"), "utf8");

export async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE_SOURCE);
  const result = (await page.evaluate(() =>
    (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<unknown> } }).axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  )) as { violations: { id: string; help: string; nodes: { target: string[]; failureSummary: string }[] }[] };
  return result.violations.flatMap((v) => v.nodes.map((n) => `- ${v.id} (${v.help}) at ${n.target.join(" ")}: ${n.failureSummary.replace(/\s+/g, " ")}`));
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
