// modq review console: blur, video markers, keyboard shortcuts. No build step.
(() => {
  "use strict";
  const $ = (selector) => document.querySelector(selector);
  const media = $("#media");
  const form = $("#review-form");
  let submitting = false;

  // Flagged media stays blurred until the reviewer asks to see it.
  function setBlur(blurred) {
    if (media) media.classList.toggle("blurred", blurred);
  }
  $("#reveal")?.addEventListener("click", () => setBlur(false));
  media?.addEventListener("click", () => {
    if (media.classList.contains("blurred")) setBlur(false);
  });

  // Video: markers on a timeline at the flagged timestamps; clicking one seeks.
  const video = $("#player");
  const markerTimes = [...new Set([...document.querySelectorAll(".marker")].map((m) => Number(m.dataset.t)))]
    .sort((x, y) => x - y);
  // , and . : the previous / next marker (a marker within 0.25 s of where the video is counts as "here").
  function toMarker(direction) {
    if (!video || !markerTimes.length) return;
    const now = video.currentTime;
    const target = direction > 0 ? markerTimes.find((t) => t > now + 0.25)
      : [...markerTimes].reverse().find((t) => t < now - 0.25);
    if (target === undefined) return;
    video.currentTime = target;
    video.pause();
  }
  // j / l: 10 s back / forward (within the video); k: play or pause.
  function seekBy(seconds) {
    if (!video) return;
    const end = isFinite(video.duration) ? video.duration : Infinity;
    video.currentTime = Math.min(end, Math.max(0, video.currentTime + seconds));
  }
  function playPause() {
    if (!video) return;
    if (video.paused) video.play().catch(() => { /* not playable yet, or blocked: the controls still work */ });
    else video.pause();
  }
  if (video) {
    const place = () => {
      if (!video.duration || !isFinite(video.duration)) return;
      document.querySelectorAll(".marker").forEach((marker) => {
        marker.style.left = `${Math.min(100, (100 * Number(marker.dataset.t)) / video.duration)}%`;
      });
    };
    video.addEventListener("loadedmetadata", place);
    place();
    document.querySelectorAll("[data-t]").forEach((button) => {
      button.addEventListener("click", () => {
        setBlur(false);
        video.currentTime = Number(button.dataset.t);
        video.pause();
      });
    });
  }

  function submit(target, submitter) {
    if (!target || submitting) return;
    submitting = true;
    target.requestSubmit(submitter);
  }

  // a / r: the typed reason, or the suggested one when the field is empty.
  function decide(verdict) {
    if (!form) return;
    const button = form.querySelector(`button[value="${verdict}"]`);
    if (button.disabled) return; // e.g. the media did not load and the reviewer has not chosen to go on
    const reason = form.elements.reason;
    if (!reason.value.trim()) {
      reason.value = verdict === "approved" ? form.dataset.defaultApprove : form.dataset.defaultReject;
    }
    submit(form, button);
  }

  const keys = {
    a: () => decide("approved"),
    r: () => decide("rejected"),
    n: () => submit($("#next-form")),
    c: () => submit($("#claim-form") || $("#lease-reclaim-form:not([hidden])")), // claim, or claim again (lease.js)
    b: () => media && setBlur(!media.classList.contains("blurred")),
    e: () => form?.elements.reason.focus(),
    x: () => $("#escalate-note")?.focus(), // escalate: the note is required, so the key starts it
    j: () => seekBy(-10),
    k: playPause,
    l: () => seekBy(10),
    ",": () => toMarker(-1),
    ".": () => toMarker(1),
    "?": () => $("#help")?.toggleAttribute("hidden"),
  };

  // The reviewer may turn single-key shortcuts off (Preferences; WCAG 2.1.4: speech input and stray
  // keystrokes must not record verdicts). Every console script with a single-key shortcut checks this.
  const shortcutsOff = () => document.body.dataset.shortcuts === "off";

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) {
      if (event.key === "Escape") target.blur();
      return;
    }
    if (shortcutsOff()) return; // Esc (above) still leaves a field: it types nothing
    const action = keys[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  // Media that does not load (issue 17.5): say why (HTTP status and the server's message), and keep the
  // verdict buttons off until the reviewer explicitly chooses to decide without the media.
  const shown = document.querySelector("#media img, #media video");
  const mediaError = $("#media-error");
  function verdictButtons(enabled) {
    form?.querySelectorAll("button[name=verdict]").forEach((b) => { b.disabled = !enabled; });
  }
  async function whyNotLoaded(src) {
    try {
      const response = await fetch(src, { credentials: "same-origin", cache: "no-store" });
      if (response.ok) return `HTTP ${response.status}: the browser could not display this file`;
      let message = response.statusText;
      try { message = (await response.json()).message || message; } catch { /* not JSON */ }
      return `HTTP ${response.status}: ${message}`;
    } catch (error) {
      return `network error: ${error.message}`;
    }
  }
  let mediaFailed = false;
  async function onMediaError() {
    if (mediaFailed || !mediaError) return;
    mediaFailed = true;
    media.classList.add("failed");
    verdictButtons(false);
    mediaError.hidden = false;
    if (form) $("#decide-anyway").hidden = false;
    $("#media-error-reason").textContent = `(${await whyNotLoaded(shown.currentSrc || shown.src)})`;
  }
  if (shown && mediaError) {
    shown.addEventListener("error", onMediaError);
    // it may have failed before this deferred script ran
    const broken = shown.tagName === "IMG" ? shown.complete && shown.naturalWidth === 0
      : shown.error !== null || shown.networkState === HTMLMediaElement.NETWORK_NO_SOURCE;
    if (broken) onMediaError();
  }
  $("#decide-anyway")?.addEventListener("click", (event) => {
    verdictButtons(true);
    event.currentTarget.hidden = true;
    form?.elements.reason.focus();
  });

  // One click, one submission (a double click must not review the next item).
  document.querySelectorAll("form").forEach((each) => {
    each.addEventListener("submit", () => {
      submitting = true;
      setTimeout(() => each.querySelectorAll("button").forEach((b) => { b.disabled = true; }), 0);
    });
  });
})();
