/**
 * Events that fragments use to tell each other to refresh, by name. The server sends
 * them in HX-Trigger, client code dispatches them on <body>, and listeners use
 * `hx-trigger="<name> from:body"` (see `fromBody`).
 */
export const HTMX_EVENTS = {
  /** Examples were deleted or edited: Review's results refresh. */
  datasetChanged: "dataset-changed",
  /** Review's delete swapped its own table: other panels that count examples (readiness) refresh. */
  examplesDeleted: "examples-deleted",
  /** A file was uploaded (the upload component in public/components.js dispatches it): the Data step's list refreshes. */
  filesChanged: "files-changed",
} as const;
export type HtmxEvent = (typeof HTMX_EVENTS)[keyof typeof HTMX_EVENTS];
export const fromBody = (event: HtmxEvent) => `${event} from:body`;

/**
 * htmx settings, in one place.
 * Error responses are swapped too: the server decides where they go (a form re-rendered
 * with its field errors, or a toast via HX-Retarget), so no error reaches the user silently.
 */
export const HTMX_CONFIG = {
  responseHandling: [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    // 4xx are expected answers (a form's field errors, a refusal): swapped, not logged.
    { code: "4..", swap: true, error: false },
    { code: "5..", swap: true, error: true },
  ],
  // Back/forward always asks the server, so the wizard never shows a stale progress bar.
  historyCacheSize: 0,
  refreshOnHistoryMiss: false,
  // Keep pages free of inline styles and eval so a strict CSP can be applied.
  includeIndicatorStyles: false,
  allowEval: false,
  defaultSwapStyle: "innerHTML",
};
