/**
 * Every file the browser loads, served from our own origin (no CDN: the app often
 * runs without internet). `type: "file"` imports give a real path in development
 * and an embedded one inside the compiled binary; Bun.file reads both.
 */
import alpinePath from "@alpinejs/csp/dist/cdn.min.js" with { type: "file" };
import htmxPath from "htmx.org/dist/htmx.min.js" with { type: "file" };
import uplotCssPath from "uplot/dist/uPlot.min.css" with { type: "file" };
import uplotPath from "uplot/dist/uPlot.iife.min.js" with { type: "file" };
import appCssPath from "../../public/app.css" with { type: "file" };
import appJsPath from "../../public/app.js" with { type: "file" };
import componentsJsPath from "../../public/components.js" with { type: "file" };
import trainJsPath from "../../public/train.js" with { type: "file" };
import playgroundJsPath from "../../public/playground.js" with { type: "file" };
import faviconPath from "../../public/favicon.svg" with { type: "file" };
import pkg from "../../package.json" with { type: "json" };

type Asset = { path: string; contentType: string };

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

export const STATIC_ASSETS: Record<string, Asset> = {
  "htmx.min.js": { path: htmxPath, contentType: JS },
  "alpine.min.js": { path: alpinePath, contentType: JS },
  "uplot.min.js": { path: uplotPath, contentType: JS },
  "uplot.min.css": { path: uplotCssPath, contentType: CSS },
  "app.css": { path: appCssPath, contentType: CSS },
  "app.js": { path: appJsPath, contentType: JS },
  "components.js": { path: componentsJsPath, contentType: JS },
  "train.js": { path: trainJsPath, contentType: JS },
  "playground.js": { path: playgroundJsPath, contentType: JS },
  "favicon.svg": { path: faviconPath, contentType: "image/svg+xml" },
};

/** Appended to asset URLs so a new release is never served from a stale browser cache. */
export const ASSET_VERSION = pkg.version;

export const assetUrl = (name: keyof typeof STATIC_ASSETS & string) => `/static/${name}?v=${ASSET_VERSION}`;
