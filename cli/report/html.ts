/**
 * Builds the report's single HTML file: styles, the vega / vega-lite / vega-embed browser builds,
 * the data and the page script (cli/report/page.js, shipped in the package) all inlined, so the
 * file opens from disk with no network.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReportData } from './data.js';

/** The package root: dist/cli/report/html.js and cli/report/html.ts both sit three levels down. */
const ROOT = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  existsSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json')) ? '' : '..',
);

/** The browser build of a package whose "exports" hide its build/ folder: found from its main entry. */
function browserBuild(name: string, file: string): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(name));
  while (!dir.endsWith(`${sep}node_modules${sep}${name}`)) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`${name}: package folder not found`);
    dir = up;
  }
  return readFileSync(join(dir, 'build', file), 'utf8');
}

/** Text safe inside a <script> element: no `</script` or `<!--` can end it early. */
function scriptText(text: string): string {
  return text.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

const STYLE = `
body { font: 13px system-ui, sans-serif; margin: 16px 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 17px; margin-top: 28px; } h3 { font-size: 14px; margin: 16px 0 6px; }
table.board { border-collapse: collapse; margin-bottom: 8px; }
table.board th, table.board td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; white-space: nowrap; }
table.board th:first-child, table.board td:first-child { text-align: left; }
table.board th { background: #f4f4f4; }
.ci { color: #888; font-size: 11px; }
#plots, #breakdowns { display: flex; flex-wrap: wrap; gap: 24px; }
.breakdown { max-width: 100%; overflow-x: auto; }
#episode-list { max-height: 45vh; overflow-y: auto; border: 1px solid #ddd; display: inline-block; }
#episode-list thead th { position: sticky; top: 0; }
tr.ep { cursor: pointer; } tr.ep:hover { background: #eef4ff; } tr.fail td:nth-child(6) { color: #b00; }
#filter { margin: 6px 0; padding: 3px; }
#episode { border-top: 2px solid #444; margin-top: 16px; }
svg.timeline { font: 10px system-ui, sans-serif; background: #fff; }
.grid { stroke: #eee; } .sep { stroke: #ccc; } .tick { fill: #888; text-anchor: middle; } .lane { fill: #333; font-weight: 600; }
.think, .k.think { fill: #c9b3e6; background: #c9b3e6; stroke: #fff; stroke-width: 0.5; }
.wait, .k.wait { fill: #f3d27a; background: #f3d27a; }
.service, .k.service { fill: #5b8fd6; background: #5b8fd6; } .service.error { fill: #d98b5b; }
.deliver, .k.deliver { fill: #9fc5a8; background: #9fc5a8; }
.mark-violation { fill: none; stroke: #d10000; stroke-width: 2; stroke-dasharray: 4 2; } .k.violation { border: 2px dashed #d10000; }
.mark-bad { fill: none; stroke: #e07b00; stroke-width: 2; } .k.invalid { border: 2px solid #e07b00; }
.bar-label { fill: #fff; pointer-events: none; font-size: 9px; }
.arrival { fill: #2a7; } .followup { fill: #a72; }
.answer.right { fill: #2a2; } .answer.wrong { fill: #d10000; }
.legend .k { display: inline-block; width: 14px; height: 10px; margin-left: 10px; vertical-align: middle; }
.legend .entry { margin-right: 10px; white-space: nowrap; } .legend .k { margin-right: 4px; }
.k.service.error { background: #d98b5b; } .legend .g { margin-right: 3px; }
.g-arrival { color: #2a7; } .g-followup { color: #a72; } .g-state { color: #7a3fb0; }
.g-right { color: #2a2; } .g-wrong { color: #d10000; }
.turn { border-left: 3px solid #c9b3e6; padding-left: 10px; margin: 10px 0; }
.turn h4 { margin: 4px 0; font-size: 12px; }
.msg pre { display: inline; white-space: pre-wrap; font: 12px ui-monospace, monospace; }
.msg { margin: 3px 0; } .msg.system { color: #666; } .msg.tool { color: #235; } .msg.reply { background: #f6f3fb; padding: 2px 4px; }
.tool-call { font: 12px ui-monospace, monospace; color: #1a4fa0; margin-left: 16px; }
.issue { color: #b00; margin-left: 16px; }
.state-mark { fill: #7a3fb0; cursor: pointer; font-size: 11px; }
.state-pane { display: flex; gap: 16px; align-items: flex-start; }
.state-list { max-height: 50vh; overflow-y: auto; border: 1px solid #ddd; }
tr.state { cursor: pointer; } tr.state:hover { background: #eef4ff; } tr.state.sel { background: #dde8ff; }
.state-view { flex: 1; min-width: 0; }
pre.state-json { font: 12px ui-monospace, monospace; background: #fafafa; border: 1px solid #ddd; padding: 6px; max-height: 50vh; overflow: auto; margin: 0; }
pre.state-json mark { background: #fff0a0; }
`;

export function reportHtml(data: ReportData, title: string): string {
  const libs = [
    browserBuild('vega', 'vega.min.js'),
    browserBuild('vega-lite', 'vega-lite.min.js'),
    browserBuild('vega-embed', 'vega-embed.min.js'),
  ];
  const page = readFileSync(join(ROOT, 'cli', 'report', 'page.js'), 'utf8');
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    ...libs.map((lib) => `<script>${scriptText(lib)}</script>`),
    '</head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    '<h2>Leaderboard</h2><div id="leaderboard"></div>',
    '<h2>Breakdowns</h2><div id="breakdowns"></div>',
    '<h2>Plots</h2><div id="plots"></div>',
    '<h2>Episodes</h2><p>Click an episode for its timeline (and, for a model agent, its transcript).</p><div id="episodes"></div>',
    '<div id="episode"></div>',
    `<script type="application/json" id="report-data">${json}</script>`,
    `<script>${scriptText(page)}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
