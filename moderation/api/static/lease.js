// modq review console, issue 17.3: the lease on the item shown. Counts down the time left (m:ss), renews the
// lease while the reviewer is active on the page, warns a minute before it ends, and when it has ended disables
// the verdict buttons and offers "Claim again". The reason typed is saved as it is typed (localStorage, per
// item) and put back in the field when the item's page loads again, e.g. after claiming it again.
// Loaded (defer) from _lease.html, only on the page of an item the signed-in reviewer holds. No build step.
(() => {
  "use strict";
  const box = document.getElementById("lease");
  if (!box) return;
  const $ = (id) => document.getElementById(id);
  const itemId = box.dataset.itemId;
  const url = `/items/${encodeURIComponent(itemId)}/lease`;
  const form = $("review-form");
  const reason = form?.elements.reason;
  const WARN_MS = 60_000; // the warning, a minute before the end
  const TICK_MS = 1_000;
  const RETRY_MS = 10_000; // after a renewal that did not reach the server

  // --- the countdown ----------------------------------------------------------------------------------------
  // Deadline by this page's clock. The page's clock may be off from the server's: the server's seconds_left,
  // as soon as it answers (on load, and each renewal), decides; until then expires_at does.
  let deadline = Date.parse(box.dataset.expiresAt);
  let renewMs = Math.max(deadline - Date.now(), 20_000); // the lease length; the server says (renew_seconds)
  let active = false; // the reviewer did something since the last renewal
  let busy = false; // a request is on its way
  let ended = false;
  let retryAt = 0;

  const status = $("lease-status");
  const countdown = document.createElement("strong");
  countdown.id = "lease-countdown";
  countdown.className = "mono";
  status.replaceChildren("Yours for ", countdown, " (kept while you work on this item).");

  function clock(ms) {
    const seconds = Math.max(0, Math.floor(ms / 1000));
    return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  }

  // The warning is announced once (role=alert) when it appears; the seconds in it tick in a part that is not
  // announced (aria-live=off), or a screen reader would read it out every second.
  const warning = $("lease-warning");
  const warningLeft = document.createElement("span");
  warningLeft.setAttribute("aria-live", "off");
  function warn(left) {
    warningLeft.textContent = clock(left);
    if (!warning.hasChildNodes()) {
      warning.replaceChildren("Your claim ends in ", warningLeft, "; move or type to keep it");
    }
  }

  function tick() {
    if (ended) return;
    const left = deadline - Date.now();
    countdown.textContent = clock(left);
    if (left <= 0) {
      if (!busy) confirmEnd();
      return;
    }
    if (left < WARN_MS) warn(left);
    else if (warning.hasChildNodes()) warning.replaceChildren();
    if (active && left <= renewMs / 2 && !busy && Date.now() >= retryAt) renew();
  }

  // --- talking to the server ----------------------------------------------------------------------------------
  function synced(lease) {
    deadline = Date.now() + lease.seconds_left * 1000;
    renewMs = lease.renew_seconds * 1000;
  }

  async function call(method) {
    const headers = { Accept: "application/json" };
    if (method === "POST") headers["X-CSRF-Token"] = box.dataset.csrf;
    // manual: a signed-out session is a redirect to the sign-in page, not a lease
    const response = await fetch(url, { method, headers, credentials: "same-origin", redirect: "manual",
      cache: "no-store" });
    if (response.type === "opaqueredirect") return { gone: "you are signed out: sign in again" };
    let body = {};
    try { body = await response.json(); } catch { /* not JSON */ }
    if (response.ok) return { lease: body };
    // 409: the lease ended (or someone else holds the item: "Claim again" says so); 404: the item is gone.
    // Anything else (403: a stale page) is worth showing as the server put it.
    return { gone: response.status === 409 ? "" : body.message || `HTTP ${response.status}` };
  }

  async function renew() {
    busy = true;
    active = false; // what happens from now on counts toward the next renewal
    try {
      const answer = await call("POST");
      if (answer.lease) synced(answer.lease);
      else end(answer.gone);
    } catch {
      active = true; // the network: try again shortly, while there is time
      retryAt = Date.now() + RETRY_MS;
    } finally {
      busy = false;
    }
    tick();
  }

  // Time is up by this page's clock: ask the server before saying so (another tab of the same reviewer
  // may have renewed it).
  async function confirmEnd() {
    busy = true;
    let answer = { gone: "" };
    try { answer = await call("GET"); } catch { /* the network: it has ended as far as this page can tell */ }
    busy = false;
    if (answer.lease && answer.lease.seconds_left > 0) {
      synced(answer.lease);
      tick();
    } else {
      end(answer.gone);
    }
  }

  function end(why) {
    ended = true;
    countdown.textContent = clock(0);
    warning.replaceChildren();
    status.textContent = "Your claim has ended.";
    $("lease-ended").textContent = "Your claim on this item ended" + (why ? ` (${why})` : "")
      + ". Your reason is kept: claim the item again to decide.";
    form?.querySelectorAll("button[name=verdict]").forEach((b) => { b.disabled = true; });
    $("decide-anyway")?.setAttribute("hidden", ""); // it would turn the verdict buttons back on
    $("lease-release-form").hidden = true;
    $("lease-reclaim-form").hidden = false;
  }

  // --- activity -------------------------------------------------------------------------------------------------
  // Only a reviewer at work renews: an abandoned tab lets its lease run out and the item go back to the queue.
  function activity(event) {
    // a pointer that did not move: the browser's own event after the layout changed under it, not the reviewer
    if (ended || (event.type === "pointermove" && !event.movementX && !event.movementY)) return;
    const wasIdle = !active;
    active = true;
    if (wasIdle) tick(); // within the renewal window (or the warning), renew now rather than at the next tick
  }
  for (const kind of ["keydown", "pointerdown", "pointermove", "wheel", "input", "touchstart", "scroll"]) {
    document.addEventListener(kind, activity, { passive: true, capture: true });
  }
  document.addEventListener("visibilitychange", () => { if (!document.hidden) tick(); });

  // --- the typed reason, kept per item ----------------------------------------------------------------------
  // Saved as it is typed; marked "sent" when the verdict form is submitted, and removed once the reviewer is on
  // another item's page (the verdict was recorded: the console moved on). A submission refused (say, the lease
  // had ended) comes back to this item, and the reason is still there.
  const KEY = "modq.reason.";
  const WEEK_MS = 7 * 24 * 3600 * 1000;
  const store = (() => { try { return window.localStorage; } catch { return null; } })();
  function read(key) {
    try { return JSON.parse(store.getItem(key)); } catch { return null; }
  }
  function save(extra = {}) {
    try {
      store?.setItem(KEY + itemId, JSON.stringify({ text: reason.value, at: Date.now(), ...extra }));
    } catch { /* storage full or refused: the field keeps it for now */ }
  }
  if (store) {
    for (const key of Object.keys(store).filter((k) => k.startsWith(KEY) && k !== KEY + itemId)) {
      const draft = read(key);
      if (!draft || draft.sent || !(Date.now() - draft.at < WEEK_MS)) store.removeItem(key);
    }
  }
  if (reason && store) {
    const draft = read(KEY + itemId);
    if (draft && draft.text && !reason.value) reason.value = draft.text;
    if (draft?.sent) save(); // back on this item: that submission did not record a verdict
    reason.addEventListener("input", () => save());
    form.addEventListener("submit", () => { if (reason.value) save({ sent: true }); });
  }

  tick();
  setInterval(tick, TICK_MS);
  // The server's count, in case this page's clock is off
  call("GET").then((answer) => {
    if (answer.lease) synced(answer.lease);
    else end(answer.gone);
    tick();
  }).catch(() => { /* the network: the page's own count stands */ });
})();
