// Polls /api/state and redraws. The image panel shows one image with the result of ITS frame (crop boxes,
// votes, decision), drawn once that very image (/frame.jpg?seq=N) has loaded; the result panel shows the
// newest result: decision against its threshold, class bars with threshold markers, time per stage, and a
// latency chart with axis ticks and p50/p95. When the page server stops answering, polling backs off.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
let shownFrameSeq = 0;
let loadingFrame = false;
let failures = 0;

function fmt(x, digits) { return (typeof x === "number" && isFinite(x)) ? x.toFixed(digits) : "–"; }
function pct(v) { return Math.max(0, Math.min(1, v)) * 100 + "%"; }

function svgEl(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

// The threshold a class's score is compared with, where the result says: OpenMV's smoothing threshold
// (every class), the RV1103 vote's threshold (its candidate).
function thresholdFor(r, label) {
  if (r.smoothing) return r.smoothing.threshold;
  if (r.vote && r.vote.candidate === label) return r.vote.threshold;
  return null;
}

function drawBars(r) {
  const bars = $("bars");
  const names = Object.keys(r.scores);
  if (bars.dataset.names !== names.join(",")) {
    bars.textContent = "";
    for (const name of names) {
      const row = document.createElement("div");
      row.className = "bar";
      row.dataset.label = name;
      row.innerHTML = '<span class="name"></span><span class="track"><span class="fill"></span>' +
        '<span class="mark"></span></span><span class="value"></span>';
      row.querySelector(".name").textContent = name;
      bars.appendChild(row);
    }
    bars.dataset.names = names.join(",");
  }
  for (const row of bars.children) {
    const v = r.scores[row.dataset.label];
    row.querySelector(".fill").style.width = pct(v);
    row.querySelector(".value").textContent = fmt(v, 2);
    const t = thresholdFor(r, row.dataset.label);
    const mark = row.querySelector(".mark");
    mark.hidden = t === null;
    if (t !== null) { mark.style.left = pct(t); mark.title = "threshold " + fmt(t, 2); row.dataset.threshold = String(t); }
    else delete row.dataset.threshold;
    row.classList.toggle("top", row.dataset.label === r.label);
  }
}

function drawDecision(r) {
  const box = $("decision");
  if (!r.vote) { box.hidden = true; return; }
  const v = r.vote;
  box.hidden = false;
  const bar = $("vote-bar");
  $("vote-name").textContent = v.candidate === null ? "no vote" : v.candidate;
  bar.querySelector(".fill").style.width = pct(v.score);
  bar.querySelector(".mark").style.left = pct(v.threshold);
  bar.querySelector(".value").textContent = fmt(v.score, 2) + " / " + fmt(v.threshold, 2);
  bar.dataset.score = String(v.score);
  bar.dataset.threshold = String(v.threshold);
  bar.classList.toggle("top", v.votes >= v.need && v.score >= v.threshold);
  const h = v.hysteresis;
  $("hysteresis").textContent = `votes ${v.votes}/${r.crops.length} (need ${v.need}), penalty ${fmt(v.penalty, 2)}` +
    (h.frames > 1 ? `; hysteresis ${h.frames} frames` + (h.pending !== null ? `, ${h.pending} seen ${h.count}×` : "") : "") +
    `; raw decision ${r.raw.label === null ? "none" : r.raw.label} ${fmt(r.raw.score, 2)}`;
}

function drawStages(ms) {
  const body = $("stages").tBodies[0];
  body.textContent = "";
  for (const [stage, v] of Object.entries(ms)) {
    const tr = document.createElement("tr");
    tr.dataset.stage = stage;
    tr.innerHTML = "<th></th><td></td>";
    tr.cells[0].textContent = stage;
    tr.cells[1].textContent = fmt(v, 1);
    body.appendChild(tr);
  }
}

function niceStep(max, ticks) {
  const raw = max / ticks;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

function drawLatency(history, latency) {
  const W = 440, H = 180, left = 40, right = 8, top = 8, bottom = 22;
  const axes = $("axes"), marks = $("percentiles");
  axes.textContent = "";
  marks.textContent = "";
  $("latency").dataset.points = String(history.length);
  if (!history.length) { $("latency-stats").textContent = ""; return; }
  const peak = Math.max(1, ...history.map((p) => p.total_ms), ...history.map((p) => p.infer_ms));
  const step = niceStep(peak, 4);
  const maxMs = Math.ceil(peak / step) * step;
  const y = (ms) => H - bottom - (H - top - bottom) * ms / maxMs;
  const n = Math.max(history.length - 1, 1);
  const x = (i) => left + (W - left - right) * i / n;
  let yTicks = 0;
  for (let v = 0; v <= maxMs + 1e-9; v += step) {
    axes.appendChild(svgEl("line", { x1: left, x2: W - right, y1: y(v), y2: y(v), class: "grid" }));
    axes.appendChild(svgEl("text", { x: left - 4, y: y(v) + 4, class: "tick y", "text-anchor": "end" }, String(+v.toFixed(2))));
    yTicks++;
  }
  const xs = [0, Math.floor((history.length - 1) / 2), history.length - 1].filter((v, i, a) => a.indexOf(v) === i);
  for (const i of xs) {
    axes.appendChild(svgEl("text", { x: x(i), y: H - 6, class: "tick x", "text-anchor": "middle" }, "#" + history[i].frame));
  }
  axes.appendChild(svgEl("text", { x: 4, y: top + 4, class: "tick unit" }, "ms"));
  axes.dataset.yticks = String(yTicks);
  const pts = (key) => history.map((p, i) => x(i).toFixed(1) + "," + y(p[key]).toFixed(1)).join(" ");
  $("line-total").setAttribute("points", pts("total_ms"));
  $("line-infer").setAttribute("points", pts("infer_ms"));
  for (const [name, v] of [["p50", latency.p50], ["p95", latency.p95]]) {
    if (typeof v !== "number") continue;
    marks.appendChild(svgEl("line", { x1: left, x2: W - right, y1: y(v), y2: y(v), class: "pct " + name }));
    marks.appendChild(svgEl("text", { x: W - right - 2, y: y(v) - 3, class: "tick pct", "text-anchor": "end" },
      `${name} ${v.toFixed(1)}`));
  }
  $("latency-stats").textContent =
    `total p50 ${fmt(latency.p50, 1)} ms, p95 ${fmt(latency.p95, 1)} ms over ${latency.n} frames`;
}

// The crop boxes (frame pixels) over the image, and each crop's vote and scores, for the image's frame.
function drawFrameResult(f) {
  const svg = $("crops"), list = $("crop-list");
  svg.textContent = "";
  list.textContent = "";
  const r = f.result;
  const crops = (r && r.crops) || [];
  svg.setAttribute("viewBox", `0 0 ${f.frame_width || 1} ${f.frame_height || 1}`);
  crops.forEach((c, i) => {
    const g = svgEl("g", { class: "crop", "data-vote": c.vote === null ? "" : c.vote });
    // one colour per crop (they overlap), dashed when the crop abstained
    g.appendChild(svgEl("rect", { x: c.x, y: c.y, width: c.w, height: c.h, class: `c${i % 3}` + (c.vote === null ? " abstain" : "") }));
    g.appendChild(svgEl("text", { x: c.x + 8, y: c.y + 8 + (f.frame_height || 480) / 16 * (i + 1), class: `crop-label c${i % 3}` },
      `${i + 1}: ${c.vote === null ? "abstain" : c.vote}`));
    svg.appendChild(g);
    const li = document.createElement("li");
    li.dataset.vote = c.vote === null ? "" : c.vote;
    li.textContent = `crop ${i + 1} (x ${c.x}, ${c.w}×${c.h}): ${c.vote === null ? "abstained" : "votes " + c.vote} — ` +
      Object.entries(c.scores).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(", ");
    list.appendChild(li);
  });
  svg.dataset.count = String(crops.length);
  list.dataset.count = String(crops.length);
  const fr = $("frame-result");
  if (r) {
    fr.dataset.frame = String(r.frame);
    fr.dataset.label = r.label === null ? "" : r.label;
    fr.textContent = `${f.exact ? "frame " + r.frame : "after frame " + r.frame}: ${r.label === null ? "none" : r.label} ` +
      `${fmt(r.score, 2)}` + (typeof r.threshold === "number" ? ` (threshold ${fmt(r.threshold, 2)})` : "") +
      (r.why ? ` — ${r.why}` : "");
  } else {
    fr.textContent = "";
  }
}

function showFrame(frame) {
  if (!frame || frame.seq === 0 || frame.seq === shownFrameSeq || loadingFrame) return;
  loadingFrame = true;
  const img = $("frame");
  const seq = frame.seq;
  img.onload = () => {
    loadingFrame = false;
    shownFrameSeq = seq;
    img.dataset.seq = String(seq);
    img.dataset.width = String(img.naturalWidth);
    img.dataset.height = String(img.naturalHeight);
    drawFrameResult(frame);  // this image's own result, drawn with it
    const r = frame.result;
    $("frame-info").textContent = `image ${seq}, ${img.naturalWidth}×${img.naturalHeight}` +
      (r ? (frame.exact ? `: frame ${r.frame} (the preview sent with its result)`
                        : `: read from the camera after the result of frame ${r.frame}`) : "");
    $("frame-info").dataset.frame = r ? String(r.frame) : "";
  };
  img.onerror = () => { loadingFrame = false; };
  img.src = "/frame.jpg?seq=" + seq;
}

function render(s) {
  $("source").textContent = s.source;
  $("badge").hidden = !s.emulated;
  const st = $("status");
  st.textContent = s.status + (s.reconnects ? ` (${s.reconnects} reconnection${s.reconnects > 1 ? "s" : ""})` : "");
  st.dataset.state = s.ended ? "ended" : (/reconnecting/.test(s.status) ? "lost" : (s.result ? "live" : "waiting"));
  $("missed").textContent = String(s.missed || 0);
  if (s.result) {
    const r = s.result;
    $("label").textContent = r.label === null ? "none" : r.label;
    $("label").dataset.frame = String(r.frame);
    $("score").textContent = "score " + fmt(r.score, 2) +
      (typeof r.threshold === "number" ? " (threshold " + fmt(r.threshold, 2) + ")" : "");
    $("why").textContent = r.why || "";
    $("fps").textContent = fmt(r.fps, 1);
    $("frame-no").textContent = String(r.frame);
    drawBars(r);
    drawDecision(r);
    drawStages(r.ms);
  }
  drawLatency(s.history, s.latency);
  $("events").textContent = (s.events || []).slice(-3).join("\n");  // config reloads: old -> new
  showFrame(s.frame);
}

async function poll() {
  let delay = 200;
  try {
    const resp = await fetch("/api/state", { cache: "no-store" });
    render(await resp.json());
    failures = 0;
  } catch (e) {
    failures++;
    delay = Math.min(5000, 200 * Math.pow(2, failures));  // back off while the page server is away
    $("status").textContent = `page server not reachable (watch stopped?); retrying in ${(delay / 1000).toFixed(1)} s`;
    $("status").dataset.state = "ended";
  }
  setTimeout(poll, delay);
}

poll();
