/**
 * htmx settings and the events fragments use to talk to each other, in one place.
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
