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
  if (scope().team !== null) for (const l of workshop.state.levers) if (l.team_lever) renderNow(l);
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
  if (e.team !== null) {
    const ri = s.regimes.findIndex((r) => r.name === e.regime);
    const team = ri >= 0 && s.regimes[ri].teams[e.team];
    if (team && !team.own_levers.includes(e.lever)) team.own_levers.push(e.lever);
    return;
  }
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
  buildScope();
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

// The scope levers apply to: "" (every regime), "r" (one regime) or "r:t" (a team of regime r).
function scope() {
  const v = $("scope").value;
  if (v === "") return { regime: null, team: null };
  const [r, t] = v.split(":");
  return { regime: parseInt(r, 10), team: t === undefined ? null : parseInt(t, 10) };
}

// A team's value of a team lever in force now: from the latest day, else from the state.
function teamLeverValue(ri, t, name) {
  const s = workshop.state;
  const d = workshop.days[workshop.days.length - 1];
  const row = d && d.regimes[ri] && d.regimes[ri].teams[t];
  const f = s.team_fields;
  if (row) {
    if (name === "time_standard") return row[f.indexOf("need_led")] ? "need-led" : "imposed";
    if (name === "discretion" || name === "prevention_share") return row[f.indexOf(name)];
  }
  const team = s.regimes[ri].teams[t];
  return team && team.levers ? team.levers[name] : null;
}

// The value a lever's input starts at for the scope chosen.
function scopedValue(lever) {
  const sc = scope();
  if (sc.team !== null && lever.team_lever) return teamLeverValue(sc.regime, sc.team, lever.name);
  return lever.values[sc.regime === null ? 0 : sc.regime];
}

function renderNow(lever) {
  const box = document.querySelector('#levers .lever[data-lever="' + lever.name + '"] .now');
  if (!box) return;
  const sc = scope();
  const s = workshop.state;
  box.classList.remove("own");
  if (sc.team !== null && lever.team_lever) {
    const team = s.regimes[sc.regime].teams[sc.team];
    const own = team && (team.own_levers || []).includes(lever.name);
    box.textContent = "team " + sc.team + " now: " + JSON.stringify(teamLeverValue(sc.regime, sc.team, lever.name)) + (own ? " (its own)" : " (the service's)");
    box.classList.toggle("own", !!own);
  } else if (sc.team !== null) {
    box.textContent = "service-wide: set it with the scope on a regime";
  } else {
    box.textContent = "now: " + s.regimes.map((r, i) => r.name + " " + JSON.stringify(lever.values[i])).join(", ");
  }
}

function buildScope() {
  const s = workshop.state;
  const sel = $("scope");
  const was = sel.value;
  sel.innerHTML = "<option value=''>every regime</option>";
  s.regimes.forEach((r, i) => {
    const o = document.createElement("option"); o.value = String(i); o.textContent = r.name; sel.appendChild(o);
    const steered = new Map(s.participants.filter((p) => p.regime === i).map((p) => [p.team, p.name]));
    r.teams.filter((t) => t.delivers).forEach((t) => {
      const o = document.createElement("option");
      o.value = i + ":" + t.team;
      o.textContent = "  " + r.name + ", team " + t.team + (steered.has(t.team) ? " (" + steered.get(t.team) + ")" : "");
      sel.appendChild(o);
    });
  });
  if ([...sel.options].some((o) => o.value === was)) sel.value = was;
}

function buildLevers() {
  const s = workshop.state;
  $("levers").innerHTML = "";
  for (const lever of s.levers) {
    const box = leverInput(lever, scopedValue(lever), async (value) => {
      const body = { token: KEY, lever: lever.name, value };
      const sc = scope();
      if (sc.regime !== null) body.regime = sc.regime;
      if (sc.team !== null) body.team = sc.team;
      const r = await api("/api/lever", body);
      showMessage($("message"), r.ok ? lever.name + " = " + JSON.stringify(value) + (sc.team !== null ? " in team " + sc.team : "") + " from day " + r.data.day : r.data.error, !r.ok);
      if (r.ok && sc.team !== null) {
        const team = s.regimes[sc.regime].teams[sc.team];
        if (team && !team.own_levers.includes(lever.name)) team.own_levers.push(lever.name);
      }
    });
    const sc = scope();
    if (sc.team !== null && !lever.team_lever) box.input.disabled = true;
    const now = document.createElement("div");
    now.className = "now";
    box.appendChild(now);
    $("levers").appendChild(box);
    renderNow(lever);
  }
}

// The scenario picker: the shipped scenarios (the regimes running now ticked) and uploaded files.
async function buildPicker() {
  const s = workshop.state;
  $("seed").value = s.seed;
  const r = await api("/api/scenarios");
  if (!r.ok) return;
  workshop.catalogue = r.data.scenarios;
  workshop.uploads = [];
  const running = new Set(s.regimes.map((x) => x.name));
  $("catalogue").innerHTML = "";
  for (const c of r.data.scenarios) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox"; box.value = c.file; box.checked = running.has(c.name);
    label.append(box, " " + c.name);
    const about = document.createElement("div");
    about.className = "unit";
    about.textContent = c.description + " (" + c.citizens.toLocaleString("en-GB") + " citizens, " + c.days + " days)";
    label.appendChild(about);
    $("catalogue").appendChild(label);
  }
}

$("upload").addEventListener("change", async () => {
  workshop.uploads = [];
  for (const f of $("upload").files) workshop.uploads.push({ file: f.name, toml: await f.text() });
  $("uploaded").textContent = workshop.uploads.length ? workshop.uploads.map((u) => u.file).join(", ") + " will be added." : "";
});

$("restart").addEventListener("click", async () => {
  const picked = [...document.querySelectorAll("#catalogue input:checked")].map((b) => ({ file: b.value }));
  const body = { token: KEY, scenarios: picked.concat(workshop.uploads || []) };
  const seed = $("seed").value.trim();
  if (seed !== "") body.seed = parseInt(seed, 10);
  const r = await api("/api/scenarios", body);
  showMessage($("message"), r.ok ? "starting again: " + r.data.regimes.join(" vs ") : r.data.error, !r.ok);
});

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

// Beside the link to the debrief: each regime's latest value of every chart metric.
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
  buildScope();
  buildLevers();
  buildExports();
  buildPicker();
  for (const id of ["restart", "upload", "seed"]) $(id).disabled = !KEY;
  // A restart (new scenarios) sends `reset`: the page starts over with the new regimes.
  follow({ day: onDay, log: onLog, control: onControl, join: onJoin, reset: () => location.reload() }, () => location.reload());
  setInterval(buildDebrief, 1000);
}

$("play").addEventListener("click", () => control(workshop.playing ? "pause" : "play"));
$("step").addEventListener("click", () => control("step"));
$("speed").addEventListener("input", () => { $("speed-shown").textContent = speedFromSlider(parseFloat($("speed").value)) + " days/s"; });
$("speed").addEventListener("change", () => control("speed", { speed: speedFromSlider(parseFloat($("speed").value)) }));
$("team-field").addEventListener("change", buildTeamCharts);
$("scope").addEventListener("change", buildLevers);
document.addEventListener("keydown", (e) => {
  if (["INPUT", "SELECT", "TEXTAREA"].includes(e.target.tagName)) return;
  if (e.code === "Space") { e.preventDefault(); control(workshop.playing ? "pause" : "play"); }
  else if (e.code === "ArrowRight") { e.preventDefault(); control("step"); }
});
start();
