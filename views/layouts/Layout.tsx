import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import { assetUrl } from "../../src/assets/static-assets.ts";
import { ConfirmDialog } from "../components/ConfirmDialog.tsx";
import { HTMX_CONFIG } from "../htmx.ts";
import { pageCsrfToken, signInEnabled } from "../../src/security/page-token.ts";

/** The one page shell: header, main landmark, toast region and the shared confirm dialog. */
export function Layout(props: { title: string; children: Child; extraHead?: Child }) {
  return (
    <>
      {raw("<!DOCTYPE html>")}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content={JSON.stringify(HTMX_CONFIG)} />
        <meta name="csrf-token" content={pageCsrfToken()} />
        <title>{`${props.title} · FineTuneFlow`}</title>
        <link rel="icon" href={assetUrl("favicon.svg")} type="image/svg+xml" />
        <link rel="stylesheet" href={assetUrl("uplot.min.css")} />
        <link rel="stylesheet" href={assetUrl("app.css")} />
        {props.extraHead}
        <script src={assetUrl("htmx.min.js")} defer></script>
        <script src={assetUrl("app.js")} defer></script>
        <script src={assetUrl("uplot.min.js")} defer></script>
        <script src={assetUrl("train.js")} defer></script>
        {/* Deferred scripts run in order: components register on alpine:init before Alpine starts. */}
        <script src={assetUrl("components.js")} defer></script>
        <script src={assetUrl("alpine.min.js")} defer></script>
      </head>
      <body>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <header class="topbar">
          <a href="/" class="brand" aria-label="FineTuneFlow home">
            <img src={assetUrl("favicon.svg")} alt="" width="24" height="24" />
            <span>FineTuneFlow</span>
          </a>
          <nav aria-label="Main">
            <a href="/">Projects</a>
          </nav>
          {signInEnabled() ? (
            <form method="post" action="/logout" class="logout-form">
              <input type="hidden" name="_csrf" value={pageCsrfToken()} />
              <button type="submit" class="btn btn-small">
                Log out
              </button>
            </form>
          ) : null}
        </header>
        <main id="main" tabindex={-1}>
          {props.children}
        </main>
        <div id="toasts" class="toasts" role="region" aria-label="Notifications" aria-live="assertive"></div>
        <ConfirmDialog />
      </body>
    </html>
    </>
  );
}
