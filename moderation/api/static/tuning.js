// /tuning: each category's precision/recall curve, drawn by uPlot 1.6.32 (vendored beside this file, served by
// modq: no CDN) from the JSON at #curves' data-url. No build step.
(() => {
  "use strict";
  const root = document.getElementById("curves");
  const status = document.getElementById("curves-status");
  if (!root || !status) return;
  const PRECISION = "#1f6feb", RECALL = "#d97706", MARK = "#444444", REJECT = "#b42318"; // as --plot draws them
  const pct = (v) => (v == null ? "–" : `${(100 * v).toFixed(1)}%`);

  function marks(curve) {
    const found = [];
    if (curve.current != null) found.push({ x: curve.current, dash: [], name: "current flag" });
    if (curve.candidate != null && curve.candidate !== curve.current) {
      found.push({ x: curve.candidate, dash: [6, 4], name: "recommended flag" });
    }
    const last = curve.points.length ? curve.points[curve.points.length - 1].threshold : null;
    if (curve.reject != null && last != null && curve.reject < last) {
      found.push({ x: curve.reject, dash: [2, 3], name: "reject", colour: REJECT,
        note: " (flat past it: rejected anyway)" });
    }
    return found;
  }

  // The thresholds as vertical lines over the plot area.
  function thresholdLines(lines) {
    return {
      hooks: {
        draw: [(u) => {
          const { ctx, bbox } = u;
          ctx.save();
          ctx.lineWidth = 1.5 * uPlot.pxRatio;
          for (const line of lines) {
            ctx.strokeStyle = line.colour || MARK;
            const x = Math.round(u.valToPos(line.x, "x", true));
            ctx.setLineDash(line.dash.map((d) => d * uPlot.pxRatio));
            ctx.beginPath();
            ctx.moveTo(x, bbox.top);
            ctx.lineTo(x, bbox.top + bbox.height);
            ctx.stroke();
          }
          ctx.restore();
        }],
      },
    };
  }

  function atThreshold(curve, x) {
    const point = curve.points.find((p) => p.threshold === x);
    return point ? ` (precision ${pct(point.precision)}, recall ${pct(point.recall)})` : "";
  }

  function draw(curve, width) {
    const figure = document.createElement("figure");
    figure.className = "curve";
    figure.dataset.category = curve.category;
    const caption = document.createElement("figcaption");
    const lines = marks(curve);
    caption.textContent = `${curve.category}: ${curve.support} reviewed items`
      + lines.map((m) => ` · ${m.name} ${m.x}${m.note || atThreshold(curve, m.x)}`).join("")
      + (curve.current == null ? " · never flagged by the active policy" : "");
    figure.append(caption);
    root.append(figure);
    // A point's value holds from the threshold before it up to it: every threshold in between flags the same items.
    const stepped = uPlot.paths.stepped({ align: -1 });
    const data = [curve.points.map((p) => p.threshold), curve.points.map((p) => p.precision),
      curve.points.map((p) => p.recall)];
    return new uPlot({
      width,
      height: 280,
      scales: { x: { time: false }, y: { auto: false, range: [0, 1.05] } },
      axes: [
        { label: "flag threshold (label confidence, %)" },
        { label: "precision / recall", values: (u, ticks) => ticks.map((t) => `${Math.round(t * 100)}%`) },
      ],
      series: [
        { label: "flag threshold" },
        { label: "precision", stroke: PRECISION, width: 2, paths: stepped, value: (u, v) => pct(v) },
        { label: "recall", stroke: RECALL, width: 2, paths: stepped, value: (u, v) => pct(v) },
      ],
      plugins: [thresholdLines(lines)],
    }, data, figure);
  }

  async function load() {
    const response = await fetch(root.dataset.url, { headers: { Accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) throw new Error(body.message || response.statusText);
    if (!body.curves.length) {
      status.textContent = `No reviewed ${body.provider} items since ${body.since}: review some, or widen the window.`;
      return;
    }
    status.hidden = true;
    const width = Math.max(320, Math.min(root.clientWidth - 34, 1200)); // inside the figure's padding and border
    body.curves.forEach((curve) => draw(curve, width));
  }

  load().catch((error) => {
    status.textContent = `The curves could not be loaded: ${error.message}`;
    status.classList.add("error");
  });
})();
