// sim serve: a participant's page. Join with the code, get a team, steer its own levers
// (discretion, time standard, prevention share), watch its queue, outcomes and staff wellbeing.
"use strict";
const $ = (id) => document.getElementById(id);
const me = { state: null, joined: null, charts: [], received: 0 };
window.workshop = me;
const STORE = "sim-serve-participant";

const PANELS = [
  { title: "Queue", why: "cases in your team's hands", fields: ["open_cases"] },
  { title: "Outcomes", why: "solid: truly resolved; dashed: failure demand share", fields: ["resolution", "failure_share"] },
  { title: "Staff wellbeing", why: "solid: burnout; dashed: work pressure", fields: ["burnout", "pressure"] },
];

function showTeam() {
  const s = me.state, j = me.joined;
  $("join-form").classList.add("hidden");
  $("team").classList.remove("hidden");
  $("title").textContent = j.name + ": team " + j.team + " of " + j.regime_name;
  const others = (s.participants || []).filter((p) => p.regime === j.regime && p.team === j.team && p.name !== j.name).map((p) => p.name);
  $("who").textContent = "You steer team " + j.team + " in the " + j.regime_name + " regime" + (others.length ? ", with " + others.join(", ") : "") + ".";
  $("levers").innerHTML = "";
  const team = s.regimes[j.regime].teams[j.team] || {};
  me.own = new Set(team.own_levers || []);
  for (const name of s.team_levers) {
    const lever = s.levers.find((l) => l.name === name);
    if (!lever) continue;
    // The slider starts at the team's own value in force (its own, or the service's).
    const start = team.levers ? team.levers[name] : lever.values[j.regime];
    const box = leverInput(lever, start, async (value) => {
      const r = await api("/api/lever", { token: j.token, lever: name, value });
      showMessage($("message"), r.ok ? name.replace(/_/g, " ") + " set to " + JSON.stringify(value) + " from day " + r.data.day : r.data.error, !r.ok);
      if (r.ok) me.own.add(name);
      if (r.status === 401) { sessionStorage.removeItem(STORE); }
    });
    const now = document.createElement("div");
    now.className = "now";
    box.appendChild(now);
    $("levers").appendChild(box);
    showNow(name, start);
  }
  $("team-charts").innerHTML = "";
  me.charts = PANELS.map((p) => {
    const c = new Chart($("team-charts"), p.title, p.why, "", p.fields.map((f, i) => ({ label: f.replace(/_/g, " "), stroke: COLOURS[i], dash: i ? [8, 5] : undefined })), s.days, null);
    c.idx = p.fields.map((f) => s.team_fields.indexOf(f));
    return c;
  });
  // A restart with new scenarios (`reset`) may give this participant another team.
  follow({ day: onDay, control: () => {}, log: () => {}, join: () => {}, reset: () => location.reload() }, () => location.reload());
}

// Under a lever: the value in force in the team today, and whether it is the team's own.
function showNow(name, value) {
  const box = document.querySelector('#levers .lever[data-lever="' + name + '"] .now');
  if (!box) return;
  const own = me.own.has(name);
  box.textContent = "in force in your team: " + JSON.stringify(value) + (own ? " (your team's own)" : " (the service's)");
  box.classList.toggle("own", own);
}

function onDay(d) {
  const j = me.joined;
  const row = d.regimes[j.regime].teams[j.team] || [];
  me.received += 1;
  for (const c of me.charts) c.push(d.day, c.idx.map((i) => row[i]));
  $("day").textContent = "Day " + (d.day + 1) + " / " + me.state.days;
  const f = me.state.team_fields;
  showNow("discretion", row[f.indexOf("discretion")]);
  showNow("prevention_share", row[f.indexOf("prevention_share")]);
  showNow("time_standard", row[f.indexOf("need_led")] ? "need-led" : "imposed");
  $("team-now").textContent = "Today: " + row[f.indexOf("open_cases")] + " open cases, resolution " + fmt(row[f.indexOf("resolution")]) + ", burnout " + fmt(row[f.indexOf("burnout")]) + ".";
}

async function start() {
  const r = await api("/api/state");
  if (!r.ok) { showMessage($("message"), r.data.error, true); return; }
  me.state = r.data;
  const code = new URLSearchParams(location.search).get("code");
  if (code) $("code").value = code;
  // A reload keeps the team: the token is kept for this tab (a new tab joins anew), and the
  // server says which team it steers now.
  const saved = JSON.parse(sessionStorage.getItem(STORE) || "null");
  if (saved && saved.token) {
    const mine = await api("/api/me?token=" + encodeURIComponent(saved.token));
    if (mine.ok) {
      me.joined = Object.assign(saved, mine.data);
      sessionStorage.setItem(STORE, JSON.stringify(me.joined));
      showTeam();
    } else {
      sessionStorage.removeItem(STORE);
    }
  }
}

$("join-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const r = await api("/api/join", { code: $("code").value, name: $("name").value });
  if (!r.ok) { showMessage($("message"), r.data.error, true); return; }
  me.joined = Object.assign({ seed: me.state.seed }, r.data);
  sessionStorage.setItem(STORE, JSON.stringify(me.joined));
  showMessage($("message"), "", false);
  showTeam();
});
start();
