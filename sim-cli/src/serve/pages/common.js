// sim serve: what both pages share — requests, the event stream, charts on shared axes.
"use strict";
const COLOURS = ["#0b5fff", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#5c940d", "#1098ad", "#e67700"];

async function api(path, body) {
  const opts = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const resp = await fetch(path, opts);
  let data = null;
  try { data = await resp.json(); } catch (e) { data = { error: "the server sent no JSON (" + resp.status + ")" }; }
  return { ok: resp.ok, status: resp.status, data };
}

function fmt(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  const a = Math.abs(x);
  if (a >= 10000) return Math.round(x).toLocaleString("en-GB");
  if (a >= 100) return x.toFixed(0);
  if (a >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

function showMessage(el, text, bad) {
  el.textContent = text;
  el.classList.toggle("bad", !!bad);
}

// Follows /api/events: the history first, then each new event; `handlers` by event kind.
// On a dropped connection the browser reconnects and the page starts over from the history.
function follow(handlers, onReset) {
  const es = new EventSource("/api/events");
  let first = true;
  es.onopen = () => { if (!first && onReset) onReset(); first = false; };
  for (const kind of ["day", "log", "control", "join", "reset"]) {
    es.addEventListener(kind, (e) => { if (handlers[kind]) handlers[kind](JSON.parse(e.data)); });
  }
  return es;
}

// A line chart on the session's shared x axis (day 0 to the horizon), redrawn at most once a frame.
// series: [{label, stroke, dash}], markers: days to draw as vertical lines (lever changes).
class Chart {
  constructor(el, title, why, unit, series, days, syncKey) {
    const panel = document.createElement("div");
    panel.className = "panel";
    panel.innerHTML = "<h3></h3><p class='why'></p><div class='plot'></div>";
    panel.querySelector("h3").textContent = title + (unit ? " (" + unit + ")" : "");
    panel.querySelector(".why").textContent = why || "";
    el.appendChild(panel);
    this.panel = panel;
    this.data = [[]].concat(series.map(() => []));
    this.markers = [];
    this.dirty = false;
    const width = Math.max(320, panel.clientWidth - 16);
    const self = this;
    this.plot = new uPlot({
      width, height: 220,
      cursor: syncKey ? { sync: { key: syncKey } } : {},
      scales: { x: { time: false, range: [0, days] } },
      axes: [{ label: "day", size: 40, font: "14px sans-serif", labelFont: "14px sans-serif" }, { size: 60, font: "14px sans-serif" }],
      series: [{ label: "day" }].concat(series.map((s) => ({ label: s.label, stroke: s.stroke, dash: s.dash, width: 2, spanGaps: false }))),
      hooks: { draw: [(u) => self.drawMarkers(u)] },
    }, this.data, panel.querySelector(".plot"));
    new ResizeObserver(() => {
      const w = Math.max(320, panel.clientWidth - 16);
      if (Math.abs(w - self.plot.width) > 4) self.plot.setSize({ width: w, height: 220 });
    }).observe(panel);
  }
  push(day, values) {
    this.data[0].push(day);
    values.forEach((v, i) => this.data[i + 1].push(v === null ? null : v));
    this.schedule();
  }
  mark(day) { this.markers.push(day); this.schedule(); }
  reset() { this.data = this.data.map(() => []); this.markers = []; this.schedule(); }
  schedule() {
    if (this.dirty) return;
    this.dirty = true;
    requestAnimationFrame(() => { this.dirty = false; this.plot.setData(this.data, false); this.plot.redraw(); this.drawn = this.data[0].length; });
  }
  drawMarkers(u) {
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = "rgba(0,0,0,0.45)";
    ctx.setLineDash([4, 4]);
    ctx.lineWidth = 1.5;
    for (const d of this.markers) {
      const x = Math.round(u.valToPos(d, "x", true));
      ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
    }
    ctx.restore();
  }
}

// A lever's input: a slider for numbers, a choice for text and true/false. `onChange(value)`.
function leverInput(lever, value, onChange) {
  const box = document.createElement("div");
  box.className = "lever";
  box.dataset.lever = lever.name;
  const label = document.createElement("label");
  const name = document.createElement("span");
  name.textContent = lever.name.replace(/_/g, " ");
  const shown = document.createElement("span");
  shown.className = "value";
  label.append(name, shown);
  box.appendChild(label);
  box.title = lever.doc;
  let input;
  if (lever.min !== null) {
    input = document.createElement("input");
    input.type = "range";
    input.min = lever.min; input.max = lever.max;
    const whole = Number.isInteger(lever.min) && Number.isInteger(lever.max) && lever.max - lever.min <= 200 && Number.isInteger(value);
    input.step = whole ? 1 : Math.pow(10, Math.floor(Math.log10(lever.max - lever.min)) - 3);
    input.value = value;
    const show = () => { shown.textContent = input.value + " " + (lever.unit === "-" ? "" : lever.unit); };
    show();
    input.addEventListener("input", show);
    input.addEventListener("change", () => onChange(whole ? parseInt(input.value, 10) : parseFloat(input.value)));
  } else {
    input = document.createElement("select");
    for (const a of lever.allowed) {
      const o = document.createElement("option");
      o.value = JSON.stringify(a); o.textContent = String(a);
      if (a === value) o.selected = true;
      input.appendChild(o);
    }
    shown.textContent = "";
    input.addEventListener("change", () => onChange(JSON.parse(input.value)));
  }
  input.name = lever.name;
  box.appendChild(input);
  const range = document.createElement("div");
  range.className = "unit";
  range.textContent = lever.min !== null ? lever.min + " to " + lever.max + " " + (lever.unit === "-" ? "" : lever.unit) : lever.allowed.join(" / ");
  box.appendChild(range);
  box.input = input;
  return box;
}
