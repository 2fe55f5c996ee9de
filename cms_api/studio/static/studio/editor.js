// The article editor: autosave (2 s after typing stops, and when a field loses focus),
// one save at a time, never after another editor's save was found (the conflict stays
// for the editor to resolve). Loaded by the article screens; htmx does the requests.
"use strict";

(function () {
  const DELAY_MS = 2000;

  function start() {
    const form = document.getElementById("article-form");
    const status = document.getElementById("save-status");
    if (!form || !status || !window.htmx) return;
    let timer = null;
    let dirty = false;
    let saving = false;
    let stopped = false;
    let held = null; // a submit waiting for the running autosave's answer

    function say(text) {
      if (status.textContent.trim() !== text) {
        status.replaceChildren(document.createTextNode(text));
      }
    }

    function save() {
      window.clearTimeout(timer);
      timer = null;
      if (!dirty || stopped) return;
      if (saving) {
        // The version this save needs arrives with the answer to the one running.
        timer = window.setTimeout(save, 250);
        return;
      }
      dirty = false;
      saving = true;
      window.htmx.trigger(form, "autosave");
    }

    form.addEventListener("input", () => {
      if (stopped) return;
      dirty = true;
      say("Not saved");
      window.clearTimeout(timer);
      timer = window.setTimeout(save, DELAY_MS);
    });
    form.addEventListener("focusout", () => {
      if (dirty) save();
    });
    form.addEventListener("htmx:afterRequest", (event) => {
      if (event.detail.elt !== form) return;
      saving = false;
      if (!event.detail.successful && event.detail.xhr && event.detail.xhr.status !== 422) {
        dirty = true;
        say("Not saved");
      }
      if (held) {
        // The held submit goes now, with the version this answer brought (its swap has
        // run by the next turn of the event loop).
        const submitter = held.submitter;
        held = null;
        window.setTimeout(() => form.requestSubmit(submitter), 0);
      }
    });
    document.body.addEventListener("article-conflict", () => {
      stopped = true;
      window.clearTimeout(timer);
    });
    // A plain submit (Save, a section button) takes over: no autosave races it. One made
    // while an autosave is on its way waits for its answer: sent at once, it would carry
    // the version before that autosave and be refused as a conflict with itself. Held,
    // it is not confirmed yet (studio.js asks only about a submit nobody stopped), and
    // it is asked about once, when it is sent.
    form.addEventListener("submit", (event) => {
      window.clearTimeout(timer);
      if (saving) {
        event.preventDefault();
        held = { submitter: event.submitter || null };
        return;
      }
      // Every listener has run by the next turn: a submit still going ahead stops
      // autosave for good; one the editor cancelled ("Remove this section?" No) leaves
      // it running.
      window.setTimeout(() => {
        if (!event.defaultPrevented) {
          stopped = true;
        } else if (dirty) {
          timer = window.setTimeout(save, DELAY_MS);
        }
      }, 0);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
