// The admin screens: a button with data-copy="<input id>" copies that input's value
// (a secret shown once) and says so where screen readers hear it.
"use strict";

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const input = document.getElementById(button.dataset.copy);
  const status = document.getElementById(button.dataset.copy + "-status");
  if (!input) return;
  let copied = false;
  try {
    await navigator.clipboard.writeText(input.value);
    copied = true;
  } catch (error) {
    // No clipboard access (an insecure origin, or refused): select it for Ctrl+C instead.
    input.select();
  }
  if (status) {
    status.textContent = copied ? "Copied." : "Selected: press Ctrl+C (or ⌘C) to copy it.";
  }
});
