// The tune page: sliders -> /api/eval -> figures, confusion matrix, curves with the operating point, and
// the frames whose decision changed. Apply / Undo post to the server with the page's token.
"use strict";

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];
let state = null;
let timer = null;
let seq = 0;

function el(tag, attrs, text) {
  const e = document.createElementNS(tag === "svg" || attrs && attrs.svg ? "http://www.w3.org/2000/svg"
                                     : "http://www.w3.org/1999/xhtml", tag);
  for (const [k, v] of Object.entries(attrs || {})) if (k !== "svg") e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function params() {
  const q = new URLSearchParams();
  for (const k of state.knobs) q.set(k.id, document.getElementById("knob-" + k.id).value);
  return q;
}

function buildKnobs() {
  const box = document.getElementById("knobs");
  box.textContent = "";
  for (const k of state.knobs) {
    const div = el("div", {class: "knob"});
    const label = el("label", {for: "knob-" + k.id}, k.label);
    const input = el("input", {type: "range", id: "knob-" + k.id, min: k.min, max: k.max, step: k.step,
                               value: k.value});
    const out = el("output", {id: "val-" + k.id}, String(k.value));
    input.addEventListener("input", () => {
      out.textContent = input.value;
      clearTimeout(timer);
      timer = setTimeout(evaluate, 120);
    });
    div.append(label, input, out);
    box.append(div);
  }
}

function fmt(v) { return (v === null || v === undefined) ? "-" : Number(v).toFixed(3); }

function plot(svgId, curves, points, xKey, yKey, xLabel, yLabel) {
  const svg = document.getElementById(svgId);
  svg.textContent = "";
  const X = v => 30 + v * 200, Y = v => 210 - v * 200;
  svg.append(el("rect", {svg: 1, x: 30, y: 10, width: 200, height: 200, fill: "none", stroke: "#999"}));
  svg.append(el("text", {svg: 1, x: 130, y: 235, "text-anchor": "middle", "font-size": 10}, xLabel));
  svg.append(el("text", {svg: 1, x: 10, y: 110, "font-size": 10, transform: "rotate(-90 10 110)",
                         "text-anchor": "middle"}, yLabel));
  state.labels.forEach((lab, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = curves[lab].map(p => `${X(p[xKey]).toFixed(1)},${Y(p[yKey]).toFixed(1)}`).join(" ");
    svg.append(el("polyline", {svg: 1, points: pts, fill: "none", stroke: color, "stroke-width": 1.5}));
    const p = points[lab];
    svg.append(el("circle", {svg: 1, id: `op-${svgId}-${lab}`, cx: X(p[xKey]).toFixed(1),
                             cy: Y(p[yKey]).toFixed(1), r: 5, fill: color, stroke: "#000"}));
  });
}

function render(r) {
  const f = r.figures;
  document.getElementById("describe").textContent = r.describe;
  const body = document.querySelector("#per-class tbody");
  body.textContent = "";
  for (const lab of state.labels) {
    const c = f.per_class[lab];
    const tr = el("tr", {id: "row-" + lab});
    tr.append(el("th", {}, lab), el("td", {}, fmt(c.precision)), el("td", {}, fmt(c.recall)),
              el("td", {}, fmt(c.f1)));
    body.append(tr);
  }
  document.getElementById("false-alarms").textContent = f.false_alarms_per_1000.toFixed(1);
  document.getElementById("accuracy").textContent = fmt(f.accuracy);
  document.getElementById("delay").textContent = f.delay_frames === null ? "no change of truth recorded"
    : `${f.delay_frames.toFixed(2)} frames (${f.missed_changes} of ${f.truth_changes} changes missed)`;
  const cm = document.getElementById("confusion");
  cm.textContent = "";
  const head = el("tr");
  head.append(el("th", {}, ""));
  r.columns.forEach(c => head.append(el("th", {}, c)));
  cm.append(head);
  f.confusion.forEach((row, i) => {
    const tr = el("tr");
    tr.append(el("th", {}, state.labels[i]));
    row.forEach((n, j) => tr.append(el("td", {id: `cm-${i}-${j}`, class: i === j ? "diag" : ""}, String(n))));
    cm.append(tr);
  });
  plot("roc", r.curves, r.points, "fpr", "tpr", "false positive rate", "recall");
  plot("pr", r.curves, r.points, "tpr", "precision", "recall", "precision");
  document.getElementById("legend").textContent = state.labels.map(
    (l, i) => `${l}: ${["blue", "orange", "green", "red", "purple", "brown"][i % 6]}`).join(", ");
  document.getElementById("changed-count").textContent = String(r.changed_total);
  const box = document.getElementById("changed");
  box.textContent = "";
  for (const c of r.changed) {
    const d = el("div", {class: "frame"});
    if (c.image) d.append(el("img", {src: c.image, alt: "frame " + c.frame}));
    if (c.crops.length) {
      const cr = el("div", {class: "crops"});
      c.crops.forEach(u => cr.append(el("img", {src: u, alt: "crop"})));
      d.append(cr);
    }
    d.append(el("span", {}, `#${c.frame} (${c.truth}): ${c.before} \u2192 ${c.after}`));
    box.append(d);
  }
}

async function evaluate() {
  const mine = ++seq;
  const r = await fetch("/api/eval?" + params().toString());
  const body = await r.json();
  if (mine !== seq) return;  // a later move answered already
  if (!r.ok) { status(body.error || "error", true); return; }
  render(body);
}

function status(text, error) {
  const s = document.getElementById("status");
  s.textContent = text;
  s.className = error ? "error" : "";
}

async function post(path, body) {
  status("working...", false);
  const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json",
                                                          "X-Tune-Token": state.token},
                               body: JSON.stringify(body)});
  const out = await r.json();
  if (!out.ok) { status(out.error, true); return; }
  status(out.message, false);
  showApplied(out.applied);
  if (path === "/api/undo") {
    for (const k of state.knobs) {
      const v = appliedValue(out.applied, k.id);
      if (v !== undefined) {
        document.getElementById("knob-" + k.id).value = v;
        document.getElementById("val-" + k.id).textContent = String(v);
      }
    }
    evaluate();
  }
}

function appliedValue(a, id) {
  if (id.startsWith("thr")) return a.thresholds[state.labels[Number(id.slice(3))]];
  return a[id];
}

function showApplied(a) {
  document.getElementById("applied").textContent = "in force: " + JSON.stringify(a);
}

async function start() {
  state = await (await fetch("/api/state")).json();
  document.getElementById("source").textContent =
    `${state.frames} frames, ${state.board} (${state.emulated ? "EMULATED board" : "board"} scores) from ${state.source}` +
    (state.device ? ` \u2014 device ${state.device}` : " \u2014 no device: start with --device to apply");
  buildKnobs();
  showApplied(state.applied);
  const hasDevice = !!state.device;
  document.getElementById("apply").disabled = !hasDevice;
  document.getElementById("undo").disabled = !hasDevice;
  document.getElementById("apply").addEventListener("click", () =>
    post("/api/apply", Object.fromEntries(params())));
  document.getElementById("undo").addEventListener("click", () => post("/api/undo", {}));
  await evaluate();
  document.body.setAttribute("data-ready", "1");
}

start();
