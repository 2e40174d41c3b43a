// ogmint dashboard: small improvements over pages that work without JavaScript.
"use strict";

function copyFrom(id, button) {
  const field = document.getElementById(id);
  if (!field) return;
  const done = () => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(done, () => { field.select(); });
  } else {
    field.select();
    document.execCommand("copy");
    done();
  }
}

// Shows a preview answer: the picture, or the error's message (a used-up preview allowance
// included) in the status line.
async function showPreview(answer, image, status, previous) {
  if (answer.ok && (answer.headers.get("content-type") || "").startsWith("image/")) {
    if (previous) URL.revokeObjectURL(previous);
    const url = URL.createObjectURL(await answer.blob());
    image.src = url;
    image.hidden = false;
    if (status) status.textContent = "";
    return url;
  }
  if (status) {
    const problem = await answer.json().catch(() => ({}));
    const details = (problem.details || []).map((d) => d.message).join("; ");
    status.textContent = problem.error ? problem.error + (details ? ": " + details : "") : "Preview failed";
  }
  return previous;
}

function livePlayground(form) {
  const image = document.getElementById(form.dataset.livePreview);
  const status = document.getElementById(form.dataset.previewStatus);
  if (!image) return;
  let timer = 0;
  let url = "";
  // The page's own picture failed (a used-up preview allowance, say): ask once why. It may
  // have failed before this script ran.
  const explain = async () => {
    if (!status || image.src.startsWith("blob:")) return;
    const answer = await fetch(image.src).catch(() => null);
    if (answer) url = await showPreview(answer, image, status, url);
  };
  if (image.complete && !image.naturalWidth) explain();
  else image.addEventListener("error", explain, { once: true });
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const params = new URLSearchParams();
      for (const [name, value] of new FormData(form)) {
        if (String(value).trim()) params.append(name, String(value));
      }
      if (!params.get("title")) return;
      const answer = await fetch("/dashboard/preview.png?" + params.toString());
      url = await showPreview(answer, image, status, url);
    }, 300);
  });
}

function liveTemplatePreview(form) {
  const image = document.getElementById(form.dataset.templatePreview);
  const status = document.getElementById(form.dataset.previewStatus);
  if (!image) return;
  let timer = 0;
  let url = "";
  const refresh = async () => {
    const body = new URLSearchParams(new FormData(form));
    const answer = await fetch("/dashboard/templates/preview", { method: "POST", body });
    url = await showPreview(answer, image, status, url);
  };
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 500);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    button.addEventListener("click", () => copyFrom(button.dataset.copy, button));
  }
  for (const form of document.querySelectorAll("form[data-live-preview]")) livePlayground(form);
  for (const form of document.querySelectorAll("form[data-template-preview]")) liveTemplatePreview(form);
});
