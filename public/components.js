// Alpine components (CSP build: markup names properties and methods, never code).
// Each holds the client state of one screen part; htmx does the requests.
// Names must not equal an element id: ids are globals the CSP evaluator can find first.
document.addEventListener("alpine:init", () => {
  "use strict";
  const fmt = (n) => n.toLocaleString("en-US");
  const formatMb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content;

  // FileUploadZone: drag & drop or browse, type and size checked here first, then one
  // upload per file with its own progress bar. The server checks everything again;
  // its answer (accepted, or refused with a reason) is shown per file.
  Alpine.data("uploadZone", () => ({
    items: [],
    dragging: false,
    nextId: 0,

    pick() {
      this.handle(this.$refs.input.files);
      this.$refs.input.value = "";
    },
    browse(evt) {
      evt.preventDefault();
      this.$refs.input.click();
    },
    get dropClass() {
      return this.dragging ? "dragging" : "";
    },
    dragOver(evt) {
      evt.preventDefault();
      this.dragging = true;
    },
    dragLeave() {
      this.dragging = false;
    },
    drop(evt) {
      evt.preventDefault();
      this.dragging = false;
      this.handle(evt.dataTransfer.files);
    },

    handle(fileList) {
      const { accept, maxBytes } = this.$root.dataset;
      const allowed = accept.split(",");
      const max = Number(maxBytes);
      for (const file of fileList) {
        const ext = file.name.includes(".") ? file.name.slice(file.name.lastIndexOf(".")).toLowerCase() : "";
        if (!allowed.includes(ext)) this.refuse(file, `only ${allowed.join(", ")} files are accepted here.`);
        else if (file.size > max) this.refuse(file, `${formatMb(file.size)} is over the ${formatMb(max)} limit.`);
        else if (file.size === 0) this.refuse(file, "the file is empty.");
        else this.upload(file);
      }
    },
    add(file, status, uploading) {
      const item = { id: this.nextId++, name: file.name, status, uploading, progress: 0, cls: "upload-item", label: `Uploading ${file.name}` };
      this.items.push(item);
      // The reactive copy: changes to it redraw the row.
      return this.items[this.items.length - 1];
    },
    refuse(file, reason) {
      Object.assign(this.add(file, `Refused: ${reason}`, false), { cls: "upload-item refused" });
    },
    upload(file) {
      const item = this.add(file, "Uploading…", true);
      const form = new FormData();
      form.append("kind", this.$root.dataset.kind);
      form.append("files", file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", this.$root.dataset.uploadUrl);
      if (csrf()) xhr.setRequestHeader("X-CSRF-Token", csrf());
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) item.progress = Math.round((100 * e.loaded) / e.total);
      };
      xhr.onload = () => {
        let body = {};
        try {
          body = JSON.parse(xhr.responseText);
        } catch {}
        const error = (body.errors || [])[0];
        item.uploading = false;
        if (xhr.status >= 400 || error) {
          Object.assign(item, { cls: "upload-item refused", status: `Refused: ${(error && error.detail) || body.detail || `the server answered ${xhr.status}`}` });
        } else {
          Object.assign(item, { progress: 100, status: "Uploaded — processing…" });
          setTimeout(() => (this.items = this.items.filter((i) => i.id !== item.id)), 4000);
        }
        document.body.dispatchEvent(new CustomEvent(this.$root.dataset.changedEvent, { bubbles: true }));
      };
      xhr.onerror = () => Object.assign(item, { uploading: false, cls: "upload-item refused", status: "Upload failed: the server could not be reached." });
      xhr.send(form);
    },
  }));

  // Review: selection of rows, the page, or every example matching the filter; the
  // delete button's count and confirmation follow it.
  Alpine.data("reviewSelection", () => ({
    checked: 0,
    onPage: 0,
    allMatching: false,

    init() {
      this.count();
    },
    boxes() {
      return [...this.$root.querySelectorAll('input[name="ids"]')];
    },
    count() {
      const boxes = this.boxes();
      this.onPage = boxes.length;
      this.checked = boxes.filter((b) => b.checked).length;
    },
    changed(evt) {
      if (evt.target.matches(".select-page")) for (const b of this.boxes()) b.checked = evt.target.checked;
      if (!evt.target.checked) this.allMatching = false;
      this.count();
    },
    selectAllMatching() {
      this.allMatching = true;
    },
    keepRowClosed() {},
    openRow(evt) {
      if (!evt.target.matches("input")) evt.currentTarget.click();
    },
    get total() {
      return Number(this.$root.dataset.total || 0);
    },
    get selected() {
      return this.allMatching ? this.total : this.checked;
    },
    get nothingSelected() {
      return this.selected === 0;
    },
    get pageChecked() {
      return this.onPage > 0 && this.checked === this.onPage;
    },
    get hideAllMatching() {
      return !(this.pageChecked && this.total > this.onPage && !this.allMatching);
    },
    get allMatchingValue() {
      return this.allMatching ? "1" : "";
    },
    get deleteLabel() {
      return this.selected ? `Delete selected (${fmt(this.selected)})` : "Delete selected";
    },
    get confirmText() {
      return `Delete ${fmt(this.selected)} example${this.selected === 1 ? "" : "s"}? This cannot be undone.`;
    },
  }));

  // The example modal: opens when swapped in, ← → move between examples, and focus
  // returns to the row it was opened from.
  Alpine.data("exampleModal", () => ({
    init() {
      if (!this.$root.open) this.$root.showModal();
    },
    navigate(evt) {
      if (evt.target.matches("textarea, input, select")) return;
      const nav = evt.key === "ArrowLeft" ? "prev" : evt.key === "ArrowRight" ? "next" : null;
      const button = nav && this.$root.querySelector(`[data-modal-nav="${nav}"]`);
      // The same request as the button's, asked of htmx directly: a click synthesised
      // inside a key handler is not always taken as the button's trigger.
      if (button) htmx.ajax("GET", button.getAttribute("hx-get"), { target: "#example-modal-slot", swap: "innerHTML" });
    },
    close() {
      this.$root.close();
    },
    closed() {
      document.querySelector(`.example-row[data-example-id="${this.$root.dataset.exampleId}"]`)?.focus();
    },
  }));

  // Train form: "Reset to defaults" puts every field back and asks for a new plan.
  Alpine.data("trainForm", () => ({
    reset() {
      for (const input of this.$root.querySelectorAll("input[data-default]")) input.value = input.dataset.default;
      this.$root.querySelector(".hp-grid").dispatchEvent(new Event("change", { bubbles: true }));
    },
  }));
});
