// modq review console: bulk actions on the queue page (issue 17.4). No build step.
// Rows are selected with their checkboxes (or all on the page); the bar (one reason, approve / reject) shows
// when something is selected. Admins may select every item matching the filter: the count comes from
// /review/bulk/count, and deciding them needs a confirmation in the page (not window.confirm) naming the count.
(() => {
  "use strict";
  const form = document.getElementById("bulk-form");
  if (!form) return;
  const $ = (id) => document.getElementById(id);
  const picks = Array.from(document.querySelectorAll(".bulk-pick"));
  const pageBox = $("bulk-page");
  const status = $("bulk-selected");
  const controls = $("bulk-controls");
  const allButton = $("bulk-all");
  const allInput = $("bulk-all-matching");
  const expectedInput = $("bulk-expected");
  const confirmBox = $("bulk-confirm");
  const reason = $("bulk-reason");
  const verdictButtons = Array.from(form.querySelectorAll("button[name=verdict]"));
  let matching = null; // how many items the filter matches (admins), once known
  let allMode = false;
  let confirmed = false;
  let pending = null; // the verdict button an admin pressed, waiting for the confirmation
  let submitting = false;

  const plural = (n) => `${n} item${n === 1 ? "" : "s"}`;

  function selected() {
    return picks.filter((p) => p.checked).length;
  }

  function update() {
    const n = selected();
    if (allMode) {
      status.textContent = `All ${plural(matching)} matching this filter are selected.`;
    } else {
      status.textContent = n ? `${plural(n)} selected on this page.` : "Select rows to approve or reject them together.";
    }
    controls.hidden = !(n || allMode);
    verdictButtons.forEach((b) => {
      b.disabled = !(n || allMode);
      b.textContent = `${b.value === "approved" ? "Approve" : "Reject"} ${allMode ? "all matching" : "selected"}`;
    });
    pageBox.checked = n > 0 && n === picks.length;
    pageBox.indeterminate = n > 0 && n < picks.length;
    if (allButton) {
      allButton.hidden = matching === null || matching === 0;
      allButton.textContent = allMode ? "Clear selection" : `Select all ${matching} matching this filter`;
    }
    allInput.disabled = expectedInput.disabled = !allMode;
    if (!allMode) hideConfirm();
  }

  function setAll(on) {
    allMode = on;
    allInput.value = on ? "true" : "";
    expectedInput.value = on ? String(matching) : "";
    picks.forEach((p) => { p.checked = on; });
    confirmed = false;
    update();
  }

  function hideConfirm() {
    confirmBox.hidden = true;
    pending = null;
  }

  pageBox.addEventListener("change", () => {
    allMode = false;
    picks.forEach((p) => { p.checked = pageBox.checked; });
    update();
  });
  picks.forEach((p) => p.addEventListener("change", () => {
    if (!p.checked && allMode) setAll(false);
    update();
  }));
  allButton?.addEventListener("click", () => setAll(!allMode));

  // Enter in the reason field must not approve (the form's first button): the reviewer picks the verdict.
  reason.addEventListener("keydown", (event) => {
    if (event.key === "Enter") event.preventDefault();
  });

  // "All matching" asks first. On the button's click, not the form's submit: a submit, even one cancelled,
  // makes console.js disable the form's buttons (one click, one submission).
  verdictButtons.forEach((button) => button.addEventListener("click", (event) => {
    if (!allMode || confirmed) return;
    event.preventDefault();
    if (!reason.value.trim()) { reason.reportValidity(); return; }
    pending = button;
    const verb = button.value === "approved" ? "Approve" : "Reject";
    $("bulk-confirm-text").textContent = `${verb} all ${plural(matching)} matching this filter with the reason ` +
      `“${reason.value.trim()}”? Items leased to someone else are skipped.`;
    $("bulk-confirm-yes").textContent = `${verb} ${plural(matching)}`;
    confirmBox.hidden = false;
    $("bulk-confirm-yes").focus();
  }));
  form.addEventListener("submit", (event) => {
    if (submitting || (allMode && !confirmed)) { event.preventDefault(); return; }
    submitting = true;
  });
  $("bulk-confirm-yes").addEventListener("click", () => {
    if (!pending) return;
    confirmed = true;
    form.requestSubmit(pending);
  });
  $("bulk-confirm-no").addEventListener("click", () => {
    const back = pending;
    hideConfirm();
    back?.focus();
  });

  async function count() {
    try {
      const response = await fetch(form.dataset.countUrl, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return;
      const body = await response.json();
      if (body.count <= body.max) matching = body.count;
    } catch { /* no "all matching" then; selecting rows still works */ }
    update();
  }

  update();
  if (form.dataset.admin === "true" && allButton) count();
})();
