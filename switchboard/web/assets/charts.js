// Time-series charts (uPlot, vendored) fed by the summary's per-second points.

const KEEP = 300; // points on screen: five minutes at one a second
const COLORS = ["#0b62d6", "#9a6700", "#cf222e", "#1a7f37"];

// name: [element id, [[series label, value from a point]...], [[SLO label, target name]...],
//        options: scale of the targets (a rate drawn in %), log axis, dense (no point marks), percent (0-100)]
const SPECS = {
  rps: ["chart-rps", [["req/s", (p) => p.rps]], [], { dense: true }],
  latency: ["chart-latency", [
    ["p50", (p) => p.latency_ms.p50],
    ["p95", (p) => p.latency_ms.p95],
    ["p99", (p) => p.latency_ms.p99],
  ], [["SLO p50", "latency_p50_ms"], ["SLO p95", "latency_p95_ms"], ["SLO p99", "latency_p99_ms"]],
  { log: true }],
  ttft: ["chart-ttft", [
    ["p50", (p) => p.ttft_ms.p50],
    ["p95", (p) => p.ttft_ms.p95],
  ], [["SLO p50", "ttft_p50_ms"], ["SLO p95", "ttft_p95_ms"]], { log: true }],
  errors: ["chart-errors", [
    ["5xx %", (p) => pct(p.error_rate)],
    ["4xx %", (p) => pct(p.refused_rate)],
  ], [["SLO 5xx %", "error_rate"]], { scale: 100, percent: true }],
  cache: ["chart-cache", [["hit %", (p) => pct(p.cache_hit_rate)]], [], { percent: true }],
};

function pct(rate) {
  return rate === null || rate === undefined ? null : rate * 100;
}

class Chart {
  constructor(id, series, slo, options) {
    this.el = document.getElementById(id);
    this.series = series;
    this.sloNames = slo.map(([, name]) => name);
    this.sloScale = options.scale || 1;
    this.slo = this.sloNames.map(() => null);
    this.data = [[], ...series.map(() => []), ...this.sloNames.map(() => [])];
    // latency spans decades (a 1 ms answer under a 30 s target): a log axis shows both
    const y = options.log
      ? { distr: 3, log: 10 }
      : { range: (u, min, max) => [0, options.percent ? 100 : Math.max(max || 0, 1) * 1.1] };
    const opts = {
      width: this.width(),
      height: 200,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y },
      series: [
        {},
        // percentiles and rates are often sparse (a lone request is one point): mark each point
        ...series.map(([label], i) => ({
          label, stroke: COLORS[i % COLORS.length], width: 1.5,
          points: { show: !options.dense, size: 4, fill: COLORS[i % COLORS.length] },
        })),
        ...slo.map(([label], i) => ({
          label, stroke: COLORS[i % COLORS.length], dash: [6, 4], width: 1, alpha: 0.7,
        })),
      ],
      axes: [{}, { size: 70 }],
    };
    this.plot = new uPlot(opts, this.data, this.el);
  }

  width() {
    return Math.max(280, this.el.clientWidth || this.el.parentElement.clientWidth - 20);
  }

  setSlo(targets) {
    this.slo = this.sloNames.map((name) => {
      const v = targets ? targets[name] : null;
      return v === null || v === undefined ? null : v * this.sloScale;
    });
  }

  append(points) {
    const d = this.data;
    for (const p of points) {
      d[0].push(p.t);
      this.series.forEach(([, pick], i) => d[1 + i].push(pick(p)));
    }
    const extra = d[0].length - KEEP;
    if (extra > 0) d.forEach((col) => col.splice(0, extra));
    // a target is a flat line across the whole chart
    this.slo.forEach((v, i) => (d[1 + this.series.length + i] = d[0].map(() => v)));
    this.plot.setData(d);
    this.el.dataset.points = String(d[0].length);
    // values seen on screen, for people and for the browser test
    const seen = this.series.map((_, i) => d[1 + i].filter((v) => v !== null && v > 0).length);
    this.el.dataset.nonzero = String(seen.reduce((a, b) => a + b, 0));
    this.el.dataset.slo = this.slo.filter((v) => v !== null).join(",");
  }

  clear() {
    this.data.forEach((col) => col.splice(0));
    this.plot.setData(this.data);
  }

  resize() {
    this.plot.setSize({ width: this.width(), height: 200 });
  }
}

export function makeCharts() {
  const charts = {};
  for (const [name, [id, series, slo, options]] of Object.entries(SPECS)) {
    charts[name] = new Chart(id, series, slo, options);
  }
  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
  return charts;
}
