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
    const reason = form.elements.reason;
    if (!reason.value.trim()) {
      reason.value = verdict === "approved" ? form.dataset.defaultApprove : form.dataset.defaultReject;
    }
    submit(form, form.querySelector(`button[value="${verdict}"]`));
  }

  const keys = {
    a: () => decide("approved"),
    r: () => decide("rejected"),
    n: () => submit($("#next-form")),
    c: () => submit($("#claim-form")),
    b: () => media && setBlur(!media.classList.contains("blurred")),
    e: () => form?.elements.reason.focus(),
    "?": () => $("#help")?.toggleAttribute("hidden"),
  };

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) {
      if (event.key === "Escape") target.blur();
      return;
    }
    const action = keys[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  // One click, one submission (a double click must not review the next item).
  document.querySelectorAll("form").forEach((each) => {
    each.addEventListener("submit", () => {
      submitting = true;
      setTimeout(() => each.querySelectorAll("button").forEach((b) => { b.disabled = true; }), 0);
    });
  });
})();
