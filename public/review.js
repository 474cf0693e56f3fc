// Review step: selection (per row, the page, or every example matching the filter),
// the delete confirmation's count, and the example modal (open, close, ← → keys).
(() => {
  "use strict";

  function selectionState(form) {
    const boxes = [...form.querySelectorAll('input[name="ids"]')];
    const checked = boxes.filter((b) => b.checked);
    const allMatching = form.querySelector('input[name="all_matching"]');
    const total = Number(form.dataset.total || 0);
    return { boxes, checked, allMatching, total };
  }

  function refresh(form) {
    const { boxes, checked, allMatching, total } = selectionState(form);
    const count = allMatching.value === "1" ? total : checked.length;
    const del = form.querySelector(".delete-selected");
    const selectAll = form.querySelector(".select-all-matching");
    const pageBox = form.querySelector(".select-page");
    del.disabled = count === 0;
    del.textContent = count ? `Delete selected (${count.toLocaleString("en-US")})` : "Delete selected";
    form.setAttribute("hx-confirm", `Delete ${count.toLocaleString("en-US")} example${count === 1 ? "" : "s"}? This cannot be undone.`);
    if (pageBox) pageBox.checked = boxes.length > 0 && checked.length === boxes.length;
    if (selectAll) selectAll.hidden = !(pageBox && pageBox.checked && total > boxes.length && allMatching.value !== "1");
  }

  document.addEventListener("change", (e) => {
    const form = e.target.closest && e.target.closest("#review-selection");
    if (!form) return;
    if (e.target.classList.contains("select-page")) {
      for (const b of form.querySelectorAll('input[name="ids"]')) b.checked = e.target.checked;
    }
    if (!e.target.checked) form.querySelector('input[name="all_matching"]').value = "";
    refresh(form);
  });

  document.addEventListener("click", (e) => {
    // A click on a row's checkbox selects it; anywhere else on the row opens the example.
    if (e.target.closest && e.target.closest(".check-col")) e.stopPropagation();
    const selectAll = e.target.closest && e.target.closest(".select-all-matching");
    if (selectAll) {
      const form = selectAll.closest("#review-selection");
      form.querySelector('input[name="all_matching"]').value = "1";
      refresh(form);
    }
    if (e.target.closest && e.target.closest(".modal-close")) document.getElementById("example-modal")?.close();
  }, true);

  document.addEventListener("keydown", (e) => {
    const row = e.target.closest && e.target.closest(".example-row");
    if (row && e.key === "Enter" && !e.target.matches("input")) row.click();
    const modal = document.getElementById("example-modal");
    if (!modal || !modal.open || e.target.matches("textarea, input, select")) return;
    const nav = e.key === "ArrowLeft" ? "prev" : e.key === "ArrowRight" ? "next" : null;
    if (nav) modal.querySelector(`[data-modal-nav="${nav}"]`)?.click();
  });

  document.addEventListener("htmx:afterSettle", (e) => {
    const form = document.getElementById("review-selection");
    if (form) refresh(form);
    const modal = document.getElementById("example-modal");
    if (modal && !modal.open && e.target.id === "example-modal-slot") {
      modal.showModal();
      modal.addEventListener("close", () => {
        const row = document.querySelector(`.example-row[data-example-id="${modal.dataset.exampleId}"]`);
        if (row) row.focus();
      });
    }
  });
})();
