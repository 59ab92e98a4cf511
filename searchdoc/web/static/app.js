// searchdoc: small enhancements only; every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  // Copy buttons: shown only where the clipboard can be written.
  if (navigator.clipboard && window.isSecureContext) {
    document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(button.dataset.copy).then(function () {
          button.textContent = "Copied";
          button.classList.add("done");
        }, function () {
          button.textContent = "Copy failed";
        });
      });
    });
  }
  // "/" moves the focus to the search box, as on many search sites.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var active = document.activeElement;
    if (active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" || active.tagName === "SELECT")) {
      return;
    }
    var box = document.getElementById("q") || document.getElementById("mini-q") || document.getElementById("ref");
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });
});
