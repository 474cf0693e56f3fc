// Page behaviour shared by every screen: the CSRF header on htmx requests, the confirm
// dialog, toasts, focus after a step change. Screen parts with their own state are
// Alpine components (components.js); the live training chart is train.js. No inline
// scripts anywhere, so a strict CSP can apply.
(() => {
  "use strict";

  // Every htmx request carries the page's CSRF token (the server refuses state changes without it).
  document.addEventListener("htmx:configRequest", (evt) => {
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) evt.detail.headers["X-CSRF-Token"] = meta.content;
  });

  // ConfirmDialog: any element with hx-confirm asks through the shared <dialog>.
  document.addEventListener("htmx:confirm", (evt) => {
    const question = evt.detail.question;
    if (!question) return;
    evt.preventDefault();
    const dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      if (window.confirm(question)) evt.detail.issueRequest(true);
      return;
    }
    const source = evt.detail.elt;
    dialog.querySelector("#confirm-dialog-message").textContent = question;
    dialog.querySelector("#confirm-dialog-accept").textContent = source.getAttribute("data-confirm-label") || "Confirm";
    dialog.returnValue = "";
    dialog.addEventListener(
      "close",
      () => {
        if (dialog.returnValue === "confirm") evt.detail.issueRequest(true);
        else if (document.body.contains(source)) source.focus();
      },
      { once: true },
    );
    dialog.showModal();
  });

  // ErrorToast: dismiss on click, fade out on its own after a while.
  const TOAST_MS = 10000;
  document.addEventListener("click", (evt) => {
    const close = evt.target.closest && evt.target.closest(".toast-close");
    if (close) close.closest(".toast").remove();
  });
  const armToasts = () => {
    document.querySelectorAll("#toasts .toast:not([data-armed])").forEach((t) => {
      t.setAttribute("data-armed", "");
      setTimeout(() => t.remove(), TOAST_MS);
    });
  };
  const showToast = (message) => {
    const region = document.getElementById("toasts");
    if (!region) return;
    const toast = document.createElement("div");
    toast.className = "toast toast-error";
    toast.setAttribute("role", "alert");
    const text = document.createElement("span");
    text.className = "toast-message";
    text.textContent = message;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    toast.append(text, close);
    region.append(toast);
    armToasts();
  };
  document.addEventListener("htmx:afterSwap", armToasts);
  // The server could not be reached at all: say so rather than doing nothing.
  document.addEventListener("htmx:sendError", () =>
    showToast("The server did not answer. Check that FineTuneFlow is still running, then try again."),
  );

  // Preview step: the projection follows the target as it is typed.
  document.addEventListener("input", (evt) => {
    if (evt.target.id !== "target") return;
    const p = document.getElementById("projection");
    const target = Number(evt.target.value);
    const speed = Number(p && p.dataset.speed);
    if (!p || !speed || !(target > 0)) return;
    const chunks = Number(p.dataset.chunks);
    const minutes = Math.max(1, Math.round(target / speed / 60));
    const fmt = (n) => n.toLocaleString("en-US");
    p.textContent = `At the preview's pace (${speed.toFixed(2)} examples/s), about ${minutes} min for ${fmt(target)} examples, spread over ${fmt(Math.min(chunks, target))} of ${fmt(chunks)} chunks.`;
  });

  // After a wizard step swap, move focus to the new step's title for keyboard and
  // screen-reader users (the swap replaced what had focus).
  // Only for step navigation (GET); a form inside a step keeps focus where the user was
  // (htmx restores it by element id).
  document.addEventListener("htmx:afterSettle", (evt) => {
    if (!evt.detail.requestConfig || evt.detail.requestConfig.verb !== "get") return;
    const wizard = document.getElementById("wizard");
    // Only a swap of the whole wizard is a step change: a swap inside a step (Review's
    // results after a filter) must leave focus where the user is typing.
    if (wizard && evt.target === wizard) {
      // After htmx's own settle work (scroll, focus restore), so ours is the last word.
      setTimeout(() => document.getElementById("step-title")?.focus({ preventScroll: true }), 0);
    }
  });
})();
