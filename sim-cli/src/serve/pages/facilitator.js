// sim serve: the facilitator's page. Regimes on shared axes, levers, controls, log, export.
"use strict";
const KEY = new URLSearchParams(location.search).get("key") || "";
// One panel per feedback loop; metric names as /api/state lists them.
const PANELS = [
  { title: "Failure demand", why: "contacts caused by a failure to do something right the first time", metrics: ["failure_demand_share"] },
  { title: "True vs reported resolution", why: "solid: truly resolved; dashed: reported as resolved", metrics: ["true_resolution_rate", "reported_resolution_rate"] },
  { title: "Gaming", why: "reported minus true resolution", metrics: ["gaming_gap"] },
  { title: "Corner-cutting", why: "hours given per delivery", metrics: ["time_per_case"] },
  { title: "Trust", why: "citizens' trust in the service", metrics: ["trust_mean"] },
  { title: "Burnout", why: "staff burnout", metrics: ["burnout_mean"] },
  { title: "Backlog", why: "open cases", metrics: ["backlog"] },
  { title: "Work pressure", why: "hours needed over hours available", metrics: ["work_pressure"] },
];
const workshop = { state: null, days: [], charts: [], teamCharts: [], log: [], controls: [], received: 0 };
window.workshop = workshop;

const $ = (id) => document.getElementById(id);

function metricIndex(name) { return workshop.state.metrics.findIndex((m) => m.name === name); }

function buildCharts() {
  const s = workshop.state;
  $("charts").innerHTML = "";
  workshop.charts = PANELS.map((p) => {
    const series = [];
    s.regimes.forEach((r, ri) => p.metrics.forEach((m, mi) => series.push({ label: r.name + (p.metrics.length > 1 ? (mi ? " reported" : " true") : ""), stroke: COLOURS[ri], dash: mi ? [8, 5] : undefined })));
    const unit = s.metrics[metricIndex(p.metrics[0])].unit;
    const chart = new Chart($("charts"), p.title, p.why, unit, series, s.days, "days");
    chart.panel.dataset.panel = p.metrics[0];
    chart.idx = p.metrics.map(metricIndex);
    return chart;
  });
  const field = $("team-field");
  field.innerHTML = "";
  s.team_fields.forEach((f) => { const o = document.createElement("option"); o.value = f; o.textContent = f.replace(/_/g, " "); field.appendChild(o); });
  field.value = "resolution";
  buildTeamCharts();
}

function buildTeamCharts() {
  const s = workshop.state;
  const fi = s.team_fields.indexOf($("team-field").value);
  $("team-charts").innerHTML = "";
  workshop.teamCharts = s.regimes.map((r, ri) => {
    const teams = r.teams.filter((t) => t.delivers).map((t) => t.team);
    const steered = new Map(s.participants.filter((p) => p.regime === ri).map((p) => [p.team, p.name]));
    const series = teams.map((t, k) => ({ label: "team " + t + (steered.has(t) ? " (" + steered.get(t) + ")" : ""), stroke: steered.has(t) ? COLOURS[(k + 2) % COLOURS.length] : "rgba(120,120,120,0.45)" }));
    const chart = new Chart($("team-charts"), r.name + ": each team's " + $("team-field").value.replace(/_/g, " "), "coloured: teams a participant steers", "", series, s.days, "days");
    chart.panel.dataset.regime = ri;
    chart.teams = teams;
    for (const d of workshop.days) chart.push(d.day, teams.map((t) => (d.regimes[ri].teams[t] || [])[fi]));
    for (const e of workshop.log) if (e.regime === r.name) chart.mark(e.day);
    return chart;
  });
  workshop.teamField = fi;
}

function onDay(d) {
  workshop.days.push(d);
  workshop.received += 1;
  for (const c of workshop.charts) {
    const vals = [];
    d.regimes.forEach((r) => c.idx.forEach((i) => vals.push(r.m[i])));
    c.push(d.day, vals);
  }
  workshop.teamCharts.forEach((c, ri) => c.push(d.day, c.teams.map((t) => (d.regimes[ri].teams[t] || [])[workshop.teamField])));
  $("day").textContent = "Day " + (d.day + 1) + " / " + workshop.state.days;
  workshop.day = d.day + 1;
}

function onLog(e) {
  workshop.log.push(e);
  const tr = document.createElement("tr");
  for (const v of [e.day, e.who, e.regime, e.team === null ? "all" : e.team, e.lever, JSON.stringify(e.value)]) {
    const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
  }
  $("log").querySelector("tbody").prepend(tr);
  for (const c of workshop.charts) c.mark(e.day);
  workshop.teamCharts.forEach((c, ri) => { if (workshop.state.regimes[ri].name === e.regime) c.mark(e.day); });
  updateLeverValue(e);
}

function updateLeverValue(e) {
  const s = workshop.state;
  if (e.team !== null) return;
  const ri = s.regimes.findIndex((r) => r.name === e.regime);
  const lever = s.levers.find((l) => l.name === e.lever);
  if (lever && ri >= 0) { lever.values[ri] = e.value; renderNow(lever); }
}

function onControl(c) {
  workshop.controls.push(c);
  workshop.playing = c.playing;
  $("play").textContent = c.playing ? "Pause" : "Play";
  $("play").disabled = c.day >= c.days && !c.playing && workshop.days.length >= c.days;
  setSpeedShown(c.speed);
}

function onJoin(j) {
  workshop.state.participants.push(j);
  $("participant-count").textContent = workshop.state.participants.length;
  buildTeamCharts();
}

const SPEED = { lo: 0.5, hi: 2000 };
function speedFromSlider(x) { return Math.round(SPEED.lo * Math.pow(SPEED.hi / SPEED.lo, x) * 10) / 10; }
function sliderFromSpeed(v) { return Math.log(v / SPEED.lo) / Math.log(SPEED.hi / SPEED.lo); }
function setSpeedShown(v) { $("speed-shown").textContent = v + " days/s"; if (document.activeElement !== $("speed")) $("speed").value = sliderFromSpeed(v); }

async function control(action, extra) {
  const r = await api("/api/control", Object.assign({ token: KEY, action }, extra || {}));
  if (!r.ok) showMessage($("message"), r.data.error, true);
  else showMessage($("message"), "", false);
}

function renderNow(lever) {
  const box = document.querySelector('#levers .lever[data-lever="' + lever.name + '"] .now');
  if (box) box.textContent = "now: " + workshop.state.regimes.map((r, i) => r.name + " " + JSON.stringify(lever.values[i])).join(", ");
}

function buildLevers() {
  const s = workshop.state;
  const scope = $("scope");
  scope.innerHTML = "<option value=''>every regime</option>";
  s.regimes.forEach((r, i) => { const o = document.createElement("option"); o.value = i; o.textContent = r.name; scope.appendChild(o); });
  $("levers").innerHTML = "";
  for (const lever of s.levers) {
    const box = leverInput(lever, lever.values[0], async (value) => {
      const body = { token: KEY, lever: lever.name, value };
      if (scope.value !== "") body.regime = parseInt(scope.value, 10);
      const r = await api("/api/lever", body);
      showMessage($("message"), r.ok ? lever.name + " = " + JSON.stringify(value) + " from day " + r.data.day : r.data.error, !r.ok);
    });
    const now = document.createElement("div");
    now.className = "now";
    box.appendChild(now);
    $("levers").appendChild(box);
    renderNow(lever);
  }
}

function buildExports() {
  const s = workshop.state;
  $("exports").innerHTML = "";
  s.regimes.forEach((r, i) => {
    const a = document.createElement("a");
    a.href = "/api/export?regime=" + i; a.textContent = r.name + " as a scenario file";
    a.setAttribute("download", "");
    const t = document.createElement("a");
    t.href = "/api/timeseries?regime=" + i; t.textContent = "timeseries.csv";
    const p = document.createElement("div"); p.append(a, " · ", t);
    $("exports").appendChild(p);
  });
  const note = document.createElement("div"); note.className = "unit";
  note.textContent = "Replay with: sim run FILE --out DIR (same seed, the changes as events).";
  $("exports").appendChild(note);
}

// The debrief: each regime's latest value of every chart metric and the change over the session.
function buildDebrief() {
  const s = workshop.state;
  const d = workshop.days;
  if (!d.length) { $("debrief").textContent = "Runs once days have passed."; return; }
  const last = d[d.length - 1];
  let html = "<table><thead><tr><th>metric</th>" + s.regimes.map((r) => "<th>" + r.name + "</th>").join("") + "</tr></thead><tbody>";
  s.metrics.forEach((m, i) => {
    html += "<tr><td>" + m.label + "</td>" + last.regimes.map((r) => "<td>" + fmt(r.m[i]) + "</td>").join("") + "</tr>";
  });
  $("debrief").innerHTML = html + "</tbody></table><div class='unit'>Day " + (last.day + 1) + "; " + workshop.log.length + " changes logged.</div>";
}

async function start() {
  const r = await api("/api/state" + (KEY ? "?key=" + encodeURIComponent(KEY) : ""));
  if (!r.ok) { showMessage($("message"), r.data.error, true); return; }
  workshop.state = r.data;
  workshop.state.participants = [];
  const s = workshop.state;
  document.title = "sim serve: " + s.regimes.map((x) => x.name).join(" vs ");
  $("title").textContent = s.regimes.map((x) => x.name).join(" vs ") + " (seed " + s.seed + ")";
  $("join-url").textContent = location.host + "/join";
  if (s.join_code) $("joincode").textContent = s.join_code; else { $("readonly").classList.remove("hidden"); $("joinbox").classList.add("hidden"); }
  for (const id of ["play", "step", "speed"]) $(id).disabled = !KEY;
  buildCharts();
  buildLevers();
  buildExports();
  follow({ day: onDay, log: onLog, control: onControl, join: onJoin }, () => location.reload());
  setInterval(buildDebrief, 1000);
}

$("play").addEventListener("click", () => control(workshop.playing ? "pause" : "play"));
$("step").addEventListener("click", () => control("step"));
$("speed").addEventListener("input", () => { $("speed-shown").textContent = speedFromSlider(parseFloat($("speed").value)) + " days/s"; });
$("speed").addEventListener("change", () => control("speed", { speed: speedFromSlider(parseFloat($("speed").value)) }));
$("team-field").addEventListener("change", buildTeamCharts);
document.addEventListener("keydown", (e) => {
  if (["INPUT", "SELECT", "TEXTAREA"].includes(e.target.tagName)) return;
  if (e.code === "Space") { e.preventDefault(); control(workshop.playing ? "pause" : "play"); }
  else if (e.code === "ArrowRight") { e.preventDefault(); control("step"); }
});
start();
