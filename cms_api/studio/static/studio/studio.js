// The studio's own script: small behaviours htmx does not cover. No inline script
// anywhere (the Content-Security-Policy forbids it), so every page loads this file.
"use strict";

// A form or button with data-confirm asks before it submits ("Delete this draft?").
document.addEventListener("submit", (event) => {
  if (event.defaultPrevented) return; // held (the editor's autosave): asked when sent
  const form = event.target;
  const submitter = event.submitter;
  const question =
    (submitter && submitter.dataset.confirm) || (form && form.dataset && form.dataset.confirm);
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// An htmx request the server refused (other than a form shown again with its messages)
// or could not reach: say so in the messages area, where screen readers announce it.
function showProblem(text) {
  const area = document.getElementById("notices");
  if (!area) return;
  const message = document.createElement("p");
  message.className = "notice notice--error";
  message.textContent = text;
  area.replaceChildren(message);
}

document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr ? event.detail.xhr.status : 0;
  showProblem(
    status === 403
      ? "That was refused: you may not do this, or the page is out of date. Reload it."
      : `Something went wrong (error ${status}). Reload the page and try again.`
  );
});

document.addEventListener("htmx:sendError", () => {
  showProblem("The studio cannot be reached. Check your connection and try again.");
});
