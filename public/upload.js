// FileUploadZone: drag & drop or browse, checks type and size in the browser first,
// then uploads each file with its own progress bar. The server checks everything
// again; its answer (accepted, or refused with a reason) is shown per file.
(() => {
  "use strict";

  const formatMb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

  function addItem(zone, name) {
    const li = document.createElement("li");
    li.className = "upload-item";
    const label = document.createElement("span");
    label.className = "upload-name";
    label.textContent = name;
    const status = document.createElement("span");
    status.className = "upload-status";
    li.append(label, status);
    zone.querySelector(".upload-queue").append(li);
    return { li, status };
  }

  function refuse(zone, file, reason) {
    const { li, status } = addItem(zone, file.name);
    li.classList.add("refused");
    status.textContent = `Refused: ${reason}`;
  }

  function upload(zone, file) {
    const { li, status } = addItem(zone, file.name);
    const bar = document.createElement("progress");
    bar.className = "progress";
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", `Uploading ${file.name}`);
    li.insertBefore(bar, status);
    status.textContent = "Uploading…";
    const form = new FormData();
    form.append("kind", zone.dataset.kind);
    form.append("files", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", zone.dataset.uploadUrl);
    const token = document.querySelector('meta[name="csrf-token"]');
    if (token) xhr.setRequestHeader("X-CSRF-Token", token.content);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    };
    xhr.onload = () => {
      let body = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {}
      const error = (body.errors || [])[0];
      if (xhr.status >= 400 || error) {
        li.classList.add("refused");
        status.textContent = `Refused: ${(error && error.detail) || body.detail || `the server answered ${xhr.status}`}`;
        bar.remove();
      } else {
        bar.value = 100;
        status.textContent = "Uploaded — processing…";
        setTimeout(() => li.remove(), 4000);
      }
      document.body.dispatchEvent(new CustomEvent("files-changed", { bubbles: true }));
    };
    xhr.onerror = () => {
      li.classList.add("refused");
      status.textContent = "Upload failed: the server could not be reached.";
    };
    xhr.send(form);
  }

  function handle(zone, fileList) {
    const accept = zone.dataset.accept.split(",");
    const max = Number(zone.dataset.maxBytes);
    for (const file of fileList) {
      const ext = file.name.includes(".") ? file.name.slice(file.name.lastIndexOf(".")).toLowerCase() : "";
      if (!accept.includes(ext)) refuse(zone, file, `only ${accept.join(", ")} files are accepted here.`);
      else if (file.size > max) refuse(zone, file, `${formatMb(file.size)} is over the ${formatMb(max)} limit.`);
      else if (file.size === 0) refuse(zone, file, "the file is empty.");
      else upload(zone, file);
    }
  }

  function wire(zone) {
    if (zone.dataset.wired) return;
    zone.dataset.wired = "1";
    const input = zone.querySelector('input[type="file"]');
    const label = zone.querySelector("label");
    input.addEventListener("change", () => {
      handle(zone, input.files);
      input.value = "";
    });
    label.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        input.click();
      }
    });
    zone.addEventListener("dragover", (e) => {
      e.preventDefault();
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("dragging");
      handle(zone, e.dataTransfer.files);
    });
  }

  const wireAll = (root) => root.querySelectorAll("[data-dropzone]").forEach(wire);
  document.addEventListener("DOMContentLoaded", () => wireAll(document));
  document.addEventListener("htmx:load", (e) => wireAll(e.target));
})();
