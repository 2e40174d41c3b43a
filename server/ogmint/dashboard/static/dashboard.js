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
      const [answer, pasted] = await Promise.all([
        fetch("/dashboard/preview.png?" + params.toString()),
        fetch("/dashboard/playground.json?" + params.toString()).then((r) => r.json()).catch(() => null),
      ]);
      url = await showPreview(answer, image, status, url);
      // The crop boxes show the same picture; the URL, curl and tags follow the form.
      for (const crop of form.parentElement.querySelectorAll("img[data-crop]")) crop.src = image.src;
      if (pasted && !pasted.error) {
        const set = (id, value) => { const f = document.getElementById(id); if (f) f.value = value; };
        set("v1-url", pasted.v1);
        set("v2-curl", pasted.curl);
        set("meta-tags", pasted.meta);
        const link = document.getElementById("v1-link");
        if (link) link.href = pasted.v1;
        if (status && answer.ok) status.textContent = pasted.width + "×" + pasted.height + " px";
      }
    }, 350);
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
    timer = setTimeout(refresh, 400);
  });
}

// A colour picker and its hex field say the same colour; the hex field is the one submitted
// (so the form works without JavaScript), the picker only writes into it.
function pairColours(picker) {
  const text = document.getElementById(picker.dataset.pair);
  if (!text) return;
  picker.hidden = false;  // of no use without this script, so shown only with it
  picker.addEventListener("input", () => {
    text.value = picker.value.slice(1);
    text.dispatchEvent(new Event("input", { bubbles: true }));
  });
  text.addEventListener("input", () => {
    const hex = text.value.trim().replace(/^#/, "");
    if (/^[0-9a-fA-F]{6}$/.test(hex)) picker.value = "#" + hex.toLowerCase();
    else if (/^[0-9a-fA-F]{3}$/.test(hex)) picker.value = "#" + hex.replace(/./g, "$&$&").toLowerCase();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  // On a phone the tabs scroll sideways: show the current one.
  const current = document.querySelector(".tabs [aria-current]");
  if (current) current.parentElement.scrollLeft = current.offsetLeft - 16;
  for (const picker of document.querySelectorAll("input[type=color][data-pair]")) pairColours(picker);
  for (const select of document.querySelectorAll("select[data-submit-on-change]")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    button.addEventListener("click", () => copyFrom(button.dataset.copy, button));
  }
  for (const form of document.querySelectorAll("form[data-live-preview]")) livePlayground(form);
  for (const form of document.querySelectorAll("form[data-template-preview]")) liveTemplatePreview(form);
});
