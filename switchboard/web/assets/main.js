// The dashboard: sign in, poll the summary (every 2 s while the tab is visible), draw it.

import { AuthError, getJson, saveKey, savedKey } from "./api.js";
import { makeCharts } from "./charts.js";
import { initPlayground, setModels } from "./playground.js";

const SUMMARY_EVERY_MS = 2000;
const SPEND_EVERY_MS = 10000;
const REASON = "switchboard.signedOutReason";
const $ = (id) => document.getElementById(id);

let charts = null;
let lastT = null;
let replica = null; // whose seconds the charts hold: a replica, or "cluster"
let timers = [];

function ms(v) {
  if (v === null || v === undefined) return "–";
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`;
}

function pct(v) {
  return v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)}%`;
}

function usd(v) {
  return `$${Number(v || 0).toFixed(6)}`;
}

function cell(text, cls) {
  const td = document.createElement("td");
  if (cls) {
    const span = document.createElement("span");
    span.className = `badge ${cls}`;
    span.textContent = text;
    td.append(span);
  } else {
    td.textContent = text;
  }
  return td;
}

function fillTable(id, rows) {
  $(id).tBodies[0].replaceChildren(
    ...rows.map((cells) => {
      const tr = document.createElement("tr");
      tr.append(...cells);
      return tr;
    }),
  );
}

function showTiles(s) {
  const c = s.current;
  $("tile-rps").textContent = c.rps.toFixed(2);
  $("tile-p50").textContent = ms(c.latency_ms.p50);
  $("tile-p95").textContent = ms(c.latency_ms.p95);
  $("tile-p99").textContent = ms(c.latency_ms.p99);
  $("tile-ttft").textContent = ms(c.ttft_ms.p50);
  $("tile-errors").textContent = pct(c.error_rate);
  $("tile-cache").textContent = pct(c.cache_hit_rate);
  $("tile-active").textContent = String(s.active_requests);
  $("tile-total").textContent = String(s.requests_total);
}

function showDeployments(deployments) {
  fillTable("deployments", deployments.map((d) => [
    cell(d.id), cell(d.model), cell(d.provider), cell(d.breaker.replace("_", "-"), d.breaker),
    cell(d.ready ? "yes" : "no", d.ready ? "yes" : "no"), cell(String(d.in_flight)),
    cell(ms(d.latency_ewma_ms)), cell(`${d.window_successes} / ${d.window_failures}`),
  ]));
}

function showLocalSpend(s) {
  if (s.keys_enabled) return; // the usage store has it, per key and model
  $("spend-model-note").textContent = s.scope === "cluster"
    ? `All ${s.replicas} replicas, since each started (API keys are off).`
    : "This replica, since it started (API keys are off).";
  $("spend-key-note").textContent = "API keys are off: no spend per key.";
  fillTable("spend-model", Object.entries(s.spend_by_model).map(([model, cost]) => [
    cell(model), cell("–"), cell("–"), cell(usd(cost)),
  ]));
}

// Spend this month (UTC) from the usage store, all replicas: GET /admin/cost.
async function pollSpend() {
  const report = await getJson("/admin/cost?top=20");
  const tokens = (r) => String(r.prompt_tokens + r.completion_tokens);
  const p = report.projection;
  const over = report.budgets.filter((b) => b.projected_over).length;
  $("spend-model-note").textContent =
    `${p.month}: ${usd(p.month_to_date_usd)} so far, ${usd(p.projected_month_end_usd)} projected`;
  $("spend-key-note").textContent =
    `Top ${report.top_spenders.length} keys · ${report.budgets.length} with a budget, ${over} projected over`;
  fillTable("spend-model", report.by_model.map((r) => [
    cell(r.model), cell(String(r.requests)), cell(tokens(r)), cell(usd(r.cost_usd)),
  ]));
  fillTable("spend-key", report.top_spenders.map((r) => [
    cell(r.key_id), cell(r.name || "–"), cell(r.tenant), cell(String(r.requests)), cell(tokens(r)),
    cell(usd(r.cost_usd)),
  ]));
}

function versus(actual, target, fmt) {
  return `${fmt(actual)} / ${target === undefined || target === null ? "–" : fmt(target)}`;
}

function burn(rates) {
  const f = (v) => (v === null || v === undefined ? "–" : v.toFixed(2));
  return rates ? `${f(rates["5m"])} · ${f(rates["1h"])} · ${f(rates["6h"])}` : "–";
}

async function pollSlo() {
  const report = await getJson("/admin/slo");
  const sec = (v) => ms(v === null || v === undefined ? null : v * 1000);
  $("slo-note").textContent = `Scope: ${report.scope} · generated ${report.generated_at}`;
  fillTable("slo", report.objectives.map((o) => {
    const firing = o.alerts.map((a) => `${a.severity}: ${a.objective}`).join(", ");
    const state = firing || (o.ok ? "ok" : o.violations.map((v) => v.objective).join(", "));
    return [
      cell(o.name), cell(`${o.window_s} s`), cell(String(o.actual.requests)),
      cell(versus(o.actual.latency_s.p95, o.targets.latency_s.p95, sec)),
      cell(versus(o.actual.latency_s.p99, o.targets.latency_s.p99, sec)),
      cell(versus(o.actual.ttft_s.p95, o.targets.ttft_s.p95, sec)),
      cell(versus(o.actual.error_rate, o.targets.error_rate, pct)),
      cell(burn(o.burn_rate.error_rate)),
      cell(state, o.ok && !firing ? "ok" : "bad"),
    ];
  }));
}

async function pollSummary() {
  const query = lastT === null ? "" : `?since=${lastT}`;
  const s = await getJson(`/dashboard/api/summary${query}`);
  // with Redis every replica answers with the cluster's seconds; without, behind a balancer
  // another replica's seconds (or a fall back to one replica's) are not this chart's
  const source = s.scope === "cluster" ? "cluster" : s.replica;
  if (replica !== null && source !== replica) {
    Object.values(charts).forEach((c) => c.clear());
    lastT = null;
    replica = source;
    return pollSummary();
  }
  replica = source;
  if (!charts) charts = makeCharts();
  for (const chart of Object.values(charts)) {
    chart.setSlo(s.slo);
    chart.append(s.series);
  }
  if (s.series.length) lastT = s.series[s.series.length - 1].t;
  showTiles(s);
  showDeployments(s.deployments);
  showLocalSpend(s);
  setModels(s.models);
  const scope = s.scope === "cluster" ? `${s.replicas} replicas` : `replica ${s.replica}`;
  $("status").textContent = `live · ${scope} · updated ${new Date().toLocaleTimeString()}`;
  $("board").dataset.polls = String(Number($("board").dataset.polls || 0) + 1);
  return s;
}

function every(ms, job) {
  const run = () => {
    if (document.hidden) return; // a hidden tab costs the gateway nothing
    job().catch(onFailure);
  };
  timers.push(setInterval(run, ms));
}

function onFailure(err) {
  if (err instanceof AuthError) return signOut(err.message);
  $("status").textContent = `error: ${err.message}`;
}

// Back to the login form; a signed-in page reloads so that none of its data stays in the DOM.
function signOut(message) {
  timers.forEach(clearInterval);
  timers = [];
  saveKey("");
  if (!$("board").hidden) {
    sessionStorage.setItem(REASON, message || "");
    location.reload();
    return;
  }
  $("logout").hidden = true;
  $("login").hidden = false;
  $("status").textContent = "signed out";
  $("login-error").textContent = message || sessionStorage.getItem(REASON) || "";
  sessionStorage.removeItem(REASON);
}

async function start() {
  let first;
  try {
    first = await pollSummary();
  } catch (err) {
    if (err instanceof AuthError) {
      return signOut(savedKey() ? `That key was refused: ${err.message}` : "");
    }
    return onFailure(err);
  }
  $("login").hidden = true;
  $("board").hidden = false;
  $("logout").hidden = !savedKey();
  charts && Object.values(charts).forEach((c) => c.resize());
  every(SUMMARY_EVERY_MS, pollSummary);
  if (first.admin_api) {
    pollSlo().catch(onFailure);
    every(SPEND_EVERY_MS, pollSlo);
  } else {
    $("slo-note").textContent = "No master key: the SLO report (/admin/slo) is off.";
  }
  if (first.admin_api && first.keys_enabled) {
    pollSpend().catch(onFailure);
    every(SPEND_EVERY_MS, pollSpend);
  }
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  saveKey($("admin-key").value.trim());
  $("admin-key").value = "";
  $("login-error").textContent = "";
  start();
});
$("logout").addEventListener("click", () => signOut(""));
initPlayground();
start();
