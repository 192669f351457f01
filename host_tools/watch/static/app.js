// Polls /api/state and redraws: frame (reloaded when its number changes), label, class bars, FPS and
// a latency chart (SVG polylines of total and inference ms over the frames the server keeps).
"use strict";

const $ = (id) => document.getElementById(id);
let shownFrameSeq = 0;
let loadingFrame = false;

function fmt(x, digits) { return (typeof x === "number" && isFinite(x)) ? x.toFixed(digits) : "–"; }

function drawBars(scores, label) {
  const bars = $("bars");
  const names = Object.keys(scores);
  if (bars.childElementCount !== names.length || bars.dataset.names !== names.join(",")) {
    bars.textContent = "";
    for (const name of names) {
      const row = document.createElement("div");
      row.className = "bar";
      row.dataset.label = name;
      row.innerHTML = '<span class="name"></span><span class="track"><span class="fill"></span></span>' +
        '<span class="value"></span>';
      row.querySelector(".name").textContent = name;
      bars.appendChild(row);
    }
    bars.dataset.names = names.join(",");
  }
  for (const row of bars.children) {
    const v = scores[row.dataset.label];
    row.querySelector(".fill").style.width = Math.max(0, Math.min(1, v)) * 100 + "%";
    row.querySelector(".value").textContent = fmt(v, 2);
    row.classList.toggle("top", row.dataset.label === label);
  }
}

function drawLatency(history) {
  const w = 400, h = 160, pad = 4;
  const maxMs = Math.max(1, ...history.map((p) => p.total_ms), ...history.map((p) => p.infer_ms));
  const n = Math.max(history.length - 1, 1);
  const pts = (key) => history.map((p, i) =>
    (pad + (w - 2 * pad) * i / n).toFixed(1) + "," + (h - pad - (h - 2 * pad) * p[key] / maxMs).toFixed(1)).join(" ");
  $("line-total").setAttribute("points", pts("total_ms"));
  $("line-infer").setAttribute("points", pts("infer_ms"));
  $("latency").dataset.points = String(history.length);
  $("latency-max").textContent = history.length ? `(scale 0–${maxMs.toFixed(1)} ms, ${history.length} frames)` : "";
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
    $("frame-info").textContent = `latest camera image, ${img.naturalWidth}×${img.naturalHeight} (${seq} received)`;
  };
  img.onerror = () => { loadingFrame = false; };
  img.src = "/frame.jpg?seq=" + seq;
}

function render(s) {
  $("source").textContent = s.source;
  const st = $("status");
  st.textContent = s.status;
  st.dataset.state = s.ended ? "ended" : (s.result ? "live" : "waiting");
  if (s.result) {
    const r = s.result;
    $("label").textContent = r.label === null ? "none" : r.label;
    $("label").dataset.frame = String(r.frame);
    $("score").textContent = "score " + fmt(r.score, 2) +
      (typeof r.threshold === "number" ? " (threshold " + fmt(r.threshold, 2) + ")" : "");
    $("why").textContent = r.why || "";
    $("fps").textContent = fmt(r.fps, 1);
    $("frame-no").textContent = String(r.frame);
    $("infer").textContent = fmt(r.ms.inference, 1);
    $("total").textContent = fmt(r.ms.total, 1);
    drawBars(r.scores, r.label);
  }
  $("events").textContent = (s.events || []).slice(-3).join("\n");  // config reloads: old -> new
  drawLatency(s.history);
  showFrame(s.frame);
}

async function poll() {
  try {
    const resp = await fetch("/api/state", { cache: "no-store" });
    render(await resp.json());
  } catch (e) {
    $("status").textContent = "page server not reachable (watch stopped?)";
    $("status").dataset.state = "ended";
  }
  setTimeout(poll, 200);
}

poll();
