// modq review console: the Undo toast after a verdict (issue 17.2). The server decides whether an undo is still
// allowed; this only shows the seconds left, hides the toast when the window closes, and binds the key u.
(() => {
  "use strict";
  const toast = document.getElementById("undo-toast");
  if (!toast) return;
  const form = document.getElementById("undo-form");
  const seconds = document.getElementById("undo-seconds");
  const closesAt = Date.now() + 1000 * Number(toast.dataset.seconds || 0);
  let sent = false;

  function left() {
    return Math.max(0, Math.ceil((closesAt - Date.now()) / 1000));
  }
  function tick() {
    const n = left();
    seconds.textContent = String(n);
    if (n > 0) return;
    toast.hidden = true; // the window closed: the server would refuse it now
    clearInterval(timer);
  }
  const timer = setInterval(tick, 250);
  tick();

  function undo() {
    if (sent || toast.hidden) return;
    sent = true;
    form.requestSubmit();
  }
  form.addEventListener("submit", () => { sent = true; });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "u" || event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    if (document.body.dataset.shortcuts === "off") return; // single-key shortcuts turned off (WCAG 2.1.4)
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    event.preventDefault();
    undo();
  });
})();
