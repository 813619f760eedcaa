import type { LoadTestResult } from './result';
import { reportCharts } from './report-html-charts';
import {
  checksSection,
  completionSection,
  downstreamSection,
  phasesTable,
  stressSection,
} from './report-html-sections';
import { escapeXml as esc } from './svg-chart';

/** The whole report as one HTML file: inline CSS and SVG, no script, nothing fetched. */
export function renderHtml(r: LoadTestResult): string {
  const o = r.options;
  const charts = reportCharts(r);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>txflow load test ${esc(r.runId)} ${r.passed ? 'PASS' : 'FAIL'}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#222;padding:0 12px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right;vertical-align:top}
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:700}
.pass{color:#2b8a3e;font-weight:700}.fail{color:#c92a2a;font-weight:700}.skip{color:#868e96;font-weight:700}
.PASS{background:#2b8a3e}.FAIL{background:#c92a2a}.meta{color:#555}svg{max-width:100%;height:auto;display:block;margin:8px 0}
code,pre{font:12px ui-monospace,monospace;background:#f7f7f7}pre{padding:8px;overflow:auto}
</style>
</head>
<body>
<h1>txflow load test <span class="verdict ${r.passed ? 'PASS' : 'FAIL'}">${r.passed ? 'PASS' : 'FAIL'}</span></h1>
<p class="meta">Run ${esc(r.runId)} (IDs ${esc(r.idPrefix)}*), ${esc(r.startedAt)} to ${esc(r.finishedAt)} (${r.durationSeconds} s)${
    r.interrupted ? ', <b>interrupted</b>' : ''
  }.<br>API ${esc(r.target.api)}, mock ${esc(r.target.mock ?? 'none')}; ${esc(o.arrival)} arrivals, seed ${o.seed}, duplicates ${o.duplicates}, webhook share ${o.webhookShare}; Node ${esc(r.environment.node)} on ${esc(r.environment.platform)}, ${r.environment.cpus} CPUs.</p>

<h2>Checks</h2>
${checksSection(r)}

<h2>Phases</h2>
<p>Open loop: each submission leaves at its planned time whatever earlier ones are doing. Latency is from the planned
send time (what a client arriving then would see, queueing in the load generator included) and, for comparison, from
the moment the request was handed to the HTTP client. Lag: how late sends left against plan. Times in ms.</p>
${phasesTable(r)}
${stressSection(r)}

<h2>Over time</h2>
${charts.latencyChart}
${charts.throughputChart}
${charts.backlogChart}

<h2>Completion</h2>
${completionSection(r, charts.e2eChart)}

<h2>Downstream</h2>
${downstreamSection(r)}

<h2>Options</h2>
<pre>${esc(JSON.stringify(o, null, 2))}</pre>
<p class="meta">Made by <code>npm run loadtest</code>; the JSON result next to this file holds every figure, the
per-second timeline and the HdrHistograms.</p>
</body>
</html>
`;
}
