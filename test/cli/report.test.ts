/**
 * `tooltime report` in a real browser: Debian's chromium, driven headless by playwright-core, opens
 * the report from a file URL. The leaderboard shows summary.json's numbers, a known episode (the
 * impatient agent on the chain example, poll delivery, which issues `book` before `search` is
 * back) draws one bar per call in issue order and marks its violation, and a model episode's
 * transcript shows its tool calls. Screenshots go to test-output/report/.
 */
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wilson } from '../../scenarios/scoring/aggregate.js';
import { collectReport } from '../../cli/report/data.js';
import { reportHtml } from '../../cli/report/html.js';
import { MAIN, ROOT, hasStackTrace, tooltime } from '../support/cli.js';
import { chainModel, startChatServer, type ChatServer } from '../support/llm-server.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-output', 'report');
const chain = join(ROOT, 'scenarios', 'examples', 'chain.json');
const KEY = 'sk-tooltime-REPORT-0f9e8d7c6b5a';

function run(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

let tmp: string;
let server: ChatServer;
let browser: BrowserContext;
let report: string;
const errors: string[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'tooltime-report-'));
  mkdirSync(SHOTS, { recursive: true });
  const base = ['-q', '--out'];
  expect(
    tooltime([
      'run',
      chain,
      '-a',
      'impatient',
      '-a',
      'sequential',
      '--delivery',
      'poll',
      '--seeds',
      '1..2',
      ...base,
      join(tmp, 'poll'),
    ]).status,
  ).toBe(0);
  expect(
    tooltime([
      'run',
      chain,
      '-a',
      'impatient',
      '-a',
      'sequential',
      '--mode',
      'sync',
      '--seeds',
      '1..2',
      ...base,
      join(tmp, 'sync'),
    ]).status,
  ).toBe(0);
  server = await startChatServer(chainModel);
  const model = await run(
    [
      'run',
      chain,
      '-a',
      'openai:test-model',
      '--base-url',
      server.url,
      '--price',
      'in=1,out=2',
      ...base,
      join(tmp, 'model'),
    ],
    { ...process.env, OPENAI_API_KEY: KEY },
  );
  expect(model.stderr).toBe('');
  expect(model.status).toBe(0);
  report = join(tmp, 'report.html');
  const r = tooltime([
    'report',
    join(tmp, 'poll'),
    join(tmp, 'model'),
    join(tmp, 'sync'),
    '--out',
    report,
  ]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  // A fresh profile (--user-data-dir) each run: playwright passes it itself.
  browser = await chromium.launchPersistentContext(join(tmp, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function open(hash = '', file = report): Promise<Page> {
  errors.length = 0;
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  // Anything but the file itself would be a network fetch: the report must not make one.
  page.on('request', (req) => {
    if (!req.url().startsWith('file:') && !req.url().startsWith('data:'))
      errors.push(`network: ${req.url()}`);
  });
  await page.goto(pathToFileURL(file).href + hash);
  await page.waitForSelector('#plot-scatter svg');
  return page;
}

/**
 * The open episode's timeline marks by kind (`data-mark`), after checking that every mark drawn
 * (a bar, circle or glyph: any rect, circle or text but the axis and lane labels) has a kind and
 * that the legend names each kind drawn (its entry's text is not empty).
 */
async function marksNamedByLegend(page: Page): Promise<string[]> {
  const unkinded = await page.$$eval(
    '#episode svg.timeline rect, #episode svg.timeline circle, #episode svg.timeline text',
    (nodes) =>
      nodes.filter(
        (n) =>
          !n.hasAttribute('data-mark') &&
          !['tick', 'lane', 'bar-label'].some((c) => n.classList.contains(c)),
      ).length,
  );
  expect(unkinded, 'timeline marks without a data-mark kind').toBe(0);
  const drawn = await page.$$eval('#episode svg.timeline [data-mark]', (nodes) => [
    ...new Set(nodes.map((n) => n.getAttribute('data-mark')!)),
  ]);
  const named = await page.$$eval('#episode .legend [data-mark]', (nodes) =>
    nodes
      .filter((n) => (n.textContent ?? '').trim().length > 1)
      .map((n) => n.getAttribute('data-mark')!),
  );
  for (const kind of drawn) expect(named, `legend entry for ${kind}`).toContain(kind);
  return drawn.sort();
}

async function openEpisode(page: Page, agent: string, seed: number): Promise<void> {
  await page.fill('#filter', `${agent} seed${seed}`);
  await page.click('#episode-table tbody tr.ep >> nth=0');
  await page.waitForSelector('#episode svg.timeline');
}

describe('tooltime report in chromium', () => {
  it('chromium is installed where the tests look for it', () => {
    expect(existsSync(CHROMIUM)).toBe(true);
  });

  it('opens from a file URL without console errors; the leaderboard equals summary.json', async () => {
    const page = await open();
    const summary = (
      JSON.parse(readFileSync(join(tmp, 'poll', 'summary.json'), 'utf8')) as {
        agents: Array<{
          agent: string;
          summary: { metrics: Record<string, { mean: number | null }> };
        }>;
      }
    ).agents;
    const cells = await page.$$eval('table.board[data-run="0"] td.metric', (tds) =>
      tds.map((td) => ({
        agent: td.getAttribute('data-agent'),
        metric: td.getAttribute('data-metric'),
        value: td.getAttribute('data-value'),
        text: td.textContent,
      })),
    );
    expect(cells.length).toBe(2 * 7);
    for (const c of cells) {
      const mean = summary.find((s) => s.agent === c.agent)!.summary.metrics[c.metric!]!.mean;
      expect(c.value).toBe(mean === null ? '' : String(mean));
      if (c.metric === 'taskSuccess')
        expect(c.text!.startsWith(`${(100 * mean!).toFixed(1)}%`)).toBe(true);
    }
    // Breakdowns count episodes.jsonl's successes (true/false) per agent and group.
    const lines = readFileSync(join(tmp, 'poll', 'episodes.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { agent: string; score: { success: boolean } });
    const shares = await page.$$eval('#breakdowns td.share', (tds) =>
      tds.map((td) => ({
        agent: td.getAttribute('data-agent')!,
        value: Number(td.getAttribute('data-value')),
        n: Number(td.getAttribute('data-n')),
        text: td.textContent!,
      })),
    );
    for (const agent of ['impatient', 'sequential']) {
      const mine = lines.filter((l) => l.agent === agent);
      const expected = mine.filter((l) => l.score.success).length / mine.length;
      // The report also holds a sync run: series are named with their mode.
      const cells = shares.filter((s) => s.agent === `${agent} [async]`);
      expect(cells.length).toBe(2);
      const { low, high } = wilson(expected * mine.length, mine.length);
      for (const c of cells) {
        expect([c.value, c.n]).toEqual([expected, mine.length]);
        expect(c.text).toContain(`[${(100 * low).toFixed(1)}%, ${(100 * high).toFixed(1)}%]`);
      }
    }
    expect(shares.find((s) => s.agent === 'sequential [async]')!.value).toBe(1);
    expect(shares.filter((s) => s.agent === 'impatient [sync]').length).toBe(2);
    // Both modes were run: the sync-vs-async plot is drawn, one bar per (agent, mode).
    expect(await page.locator('#plot-mode svg').count()).toBe(1);
    expect(await page.locator('table.board[data-run="2"] td.metric').count()).toBe(2 * 7);
    await page.screenshot({ path: join(SHOTS, 'overview.png') });
    await page.locator('#plots').screenshot({ path: join(SHOTS, 'plots.png') });
    await page.close();
    expect(errors).toEqual([]);
  });

  it('an impatient episode: one bar per call in issue order, the violation marked', async () => {
    const page = await open();
    await openEpisode(page, 'impatient', 1);
    const line = JSON.parse(
      readFileSync(join(tmp, 'poll', 'episodes.jsonl'), 'utf8').split('\n')[0]!,
    ) as {
      agent: string;
      seed: number;
      score: { calls: Array<{ callId: number; violation: boolean }> };
    };
    expect([line.agent, line.seed]).toEqual(['impatient', 1]);
    const bars = await page.$$eval('#episode g.call', (gs) =>
      gs.map((g) => ({
        id: Number(g.getAttribute('data-call')),
        issued: Number(g.getAttribute('data-issued')),
        violation: g.getAttribute('data-violation') === 'true',
        marked: g.querySelector('.mark-violation') !== null,
      })),
    );
    expect(bars.map((b) => b.id)).toEqual(line.score.calls.map((c) => c.callId));
    expect(bars.map((b) => b.issued)).toEqual([...bars.map((b) => b.issued)].sort((a, b) => a - b));
    const violated = line.score.calls.filter((c) => c.violation).map((c) => c.callId);
    expect(violated.length).toBeGreaterThan(0);
    expect(bars.filter((b) => b.marked).map((b) => b.id)).toEqual(violated);
    // A stateless episode has no state view and no state marks.
    expect(await page.locator('#episode .states *').count()).toBe(0);
    expect(await page.locator('#episode .state-mark').count()).toBe(0);
    const drawn = await marksNamedByLegend(page);
    expect(drawn).toEqual(expect.arrayContaining(['think', 'service', 'violation', 'arrival']));
    expect(drawn).not.toContain('state');
    await page.locator('#episode').screenshot({ path: join(SHOTS, 'episode-impatient.png') });
    await page.screenshot({ path: join(SHOTS, 'episode-impatient-viewport.png') });
    await page.close();
    expect(errors).toEqual([]);
  });

  it('a model episode shows its transcript with the tool calls it made', async () => {
    const page = await open();
    await openEpisode(page, 'openai', 1);
    const calls = await page.$$eval('#episode .msg.reply .tool-call', (ds) =>
      ds.map((d) => d.textContent),
    );
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.join('\n')).toMatch(/search_flights \[[^\]]+\]/);
    expect(calls.join('\n')).toMatch(/send_confirmation/);
    expect(await page.locator('#episode .transcript h3').textContent()).toMatch(/prompt /);
    // Tokens and cost per turn (--price in=1,out=2: USD per million tokens).
    const heads = await page.$$eval('#episode .turn h4', (hs) => hs.map((h) => h.textContent!));
    expect(heads.length).toBeGreaterThan(1);
    for (const h of heads) {
      const [, p, c, usd] = /(\d+) prompt \+ (\d+) completion tokens, \$([\d.]+)/.exec(h)!;
      expect(Number(usd)).toBeCloseTo((Number(p) * 1 + Number(c) * 2) / 1e6, 6);
    }
    // Each reply appears once: not again as the next request's first message.
    expect(await page.locator('#episode .msg.assistant').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'episode-model-full.png'), fullPage: true });
    await page.locator('#episode .transcript .turn >> nth=2').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'episode-model.png') });
    await page.close();
    expect(errors).toEqual([]);
  });
});

describe('tooltime report of an ablation', () => {
  it('draws its effect plot (each level, and minus the baseline with paired intervals) from summary.json, with no console errors', async () => {
    const dir = join(tmp, 'ablation');
    const examples = join(ROOT, 'scenarios', 'examples');
    const args = ['ablate', 'latency', examples, '--levels', '0.5,1,2', '--seeds', '1..3'];
    expect(tooltime([...args, '-a', 'greedy-async', 'sequential', '-q', '--out', dir]).status).toBe(
      0,
    );
    const file = join(tmp, 'ablation.html');
    const r = tooltime(['report', dir, '--out', file]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const page = await open('', file);
    await page.waitForSelector('#plot-ablation-0 svg');
    const effect = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).ablation as {
      agents: Array<{ levels: Array<Record<string, { mean: number | null } | null>> }>;
    };
    // A point per agent, level and metric, and per non-baseline level for each difference.
    const stats = effect.agents.flatMap((a) =>
      a.levels.flatMap((l) =>
        ['taskSuccess', 'efficiency', 'successDifference', 'efficiencyDifference'].map((k) => l[k]),
      ),
    );
    const drawn = stats.filter((s) => s !== null && s !== undefined && s.mean !== null).length;
    expect(drawn).toBe(2 * 3 * 2 + 2 * 2 * 2);
    // Vega draws the legend's swatches as symbols too: only the plot's own points count.
    const points = await page.$$eval(
      '#plot-ablation-0 g.mark-symbol path',
      (paths) => paths.filter((p) => p.closest('.role-legend') === null).length,
    );
    expect(points).toBe(drawn);
    // The four panels: two metrics by (the level, minus the baseline).
    const titles = await page.locator('#plot-ablation-0 svg text').allTextContents();
    for (const t of ['task success', 'bound/makespan', 'at the level', 'minus the baseline'])
      expect(titles).toContain(t);
    expect(titles.some((t) => t.startsWith('latency ablation'))).toBe(true);
    await page.locator('#plot-ablation-0').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'ablation.png') });
    await page.locator('#plot-ablation-0').screenshot({ path: join(SHOTS, 'ablation-plot.png') });
    await page.close();
    expect(errors).toEqual([]);
  });
});

/** Inspect's states after `record` of a replay, as the CLI prints them. */
function inspectStates(
  file: string,
  record: number,
): Array<{ environment: string; task: string | null; state: unknown }> {
  const r = tooltime(['replay', 'inspect', file, '--state-at', String(record)]);
  expect(r.status).toBe(0);
  return (JSON.parse(r.stdout) as { instances: [] }).instances;
}

interface Change {
  record: number;
  environment: string;
  task: string | null;
}

describe('tooltime report: environment states of stateful episodes', () => {
  let states: string;
  const stateful = (): string => join(tmp, 'stateful');
  const shared = (): string => join(tmp, 'shared');

  beforeAll(() => {
    const suite = join(ROOT, 'scenarios', 'suites', 'asynctool-stateful');
    const runs: Array<[string[], string]> = [
      [[suite, '--sample', '6'], stateful()],
      // One with a shared instance (the sample has none).
      [[join(suite, 'asynctool-stateful-0022.json')], shared()],
    ];
    for (const [what, out] of runs)
      expect(tooltime(['run', ...what, '-a', 'greedy-async', '-q', '--out', out]).status).toBe(0);
    states = join(tmp, 'states.html');
    const r = tooltime(['report', stateful(), shared(), '--out', states]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  /** The state_changed records of a replay, from its JSON lines. */
  function changesOf(file: string): Change[] {
    const r = tooltime(['replay', 'inspect', file, '--format', 'jsonl']);
    return r.stdout
      .trim()
      .split('\n')
      .slice(1) // the header line; then one line per record
      .map((l, record) => ({ record, ...(JSON.parse(l) as { type: string }) }))
      .filter((e) => e.type === 'state_changed') as unknown as Change[];
  }

  it('selecting a state_changed shows the state inspect --state-at prints for that record', async () => {
    const episodes = [stateful(), shared()].flatMap((dir) =>
      readFileSync(join(dir, 'episodes.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => join(dir, (JSON.parse(l) as { replay: string }).replay)),
    );
    let checked = 0;
    let sharedSeen = false;
    // The first episode of the sample and the shared one: every change of each (one inspect
    // process per change, so not every episode).
    for (const i of [0, episodes.length - 1]) {
      const file = episodes[i]!;
      const changes = changesOf(file);
      expect(changes.length).toBeGreaterThan(0);
      const page = await open(`#episode-${i}`, states);
      await page.waitForSelector('#episode .states tr.state');
      const rows = await page.$$eval('#episode tr.state', (trs) =>
        trs.map((tr) => tr.getAttribute('data-record')),
      );
      expect(rows.filter((r) => r !== 'initial')).toEqual(changes.map((c) => String(c.record)));
      // Every instance's initial state is inspect's state after record 0 (episode_started).
      const initial = inspectStates(file, 0);
      expect(rows.filter((r) => r === 'initial').length).toBe(initial.length);
      const previous = new Map(
        initial.map((s) => [`${s.environment}/${s.task}`, JSON.stringify(s.state, null, 2)]),
      );
      await page.click('#episode tr.state >> nth=0');
      expect(await page.textContent('#state-text')).toBe(
        JSON.stringify(initial[0]!.state, null, 2),
      );
      for (const [k, c] of changes.entries()) {
        // Alternately from the timeline's mark and from the list's row.
        if (k % 2 === 0) await page.click(`#episode .state-mark[data-record="${c.record}"]`);
        else await page.click(`#episode tr.state[data-record="${c.record}"]`);
        const caption = await page.textContent('#episode .state-view p');
        const name = `${c.environment} (${c.task === null ? 'shared' : `task ${c.task}`})`;
        expect(caption).toContain(`${name} after record ${c.record}`);
        const after = inspectStates(file, c.record).find(
          (s) => s.environment === c.environment && s.task === c.task,
        )!;
        expect(await page.textContent('#state-text')).toBe(JSON.stringify(after.state, null, 2));
        // What changed is marked (nothing when the state is as before): lines of the new state.
        const key = `${c.environment}/${c.task}`;
        const text = JSON.stringify(after.state, null, 2);
        const marks = await page.$$eval('#state-text mark', (ms) => ms.map((m) => m.textContent));
        const gone = Number(await page.getAttribute('#state-text', 'data-gone'));
        expect(marks.length > 0 || gone > 0).toBe(text !== previous.get(key));
        for (const m of marks) expect(text).toContain(m);
        previous.set(key, text);
        sharedSeen ||= c.task === null;
        checked++;
      }
      // The legend names the state marks (and every other kind this timeline draws).
      expect(await marksNamedByLegend(page)).toContain('state');
      if (i === 0) {
        await page.locator('#episode .states').screenshot({ path: join(SHOTS, 'states.png') });
        await page.locator('#episode').screenshot({ path: join(SHOTS, 'episode-stateful.png') });
      }
      await page.close();
      expect(errors).toEqual([]);
    }
    expect(sharedSeen).toBe(true);
    expect(checked).toBeGreaterThan(5);
  }, 180_000);

  it('states past the per-episode or per-report cap are left out, and the page says how to see them', async () => {
    const dirs = [stateful()];
    const full = collectReport(dirs);
    const bytes = (d: string): number =>
      (
        JSON.parse(gunzipSync(Buffer.from(d, 'base64')).toString()) as {
          states: { bytes: number };
        }
      ).states.bytes;
    const sizes = full.details.map(bytes);
    // Per episode: a cap below the largest episode's states leaves out that one only.
    const largest = Math.max(...sizes);
    const perEpisode = collectReport(dirs, { episodeBytes: largest - 1, reportBytes: 1e9 });
    const omitted = (d: string): string | undefined =>
      (
        JSON.parse(gunzipSync(Buffer.from(d, 'base64')).toString()) as {
          states: { omitted?: string };
        }
      ).states.omitted;
    expect(perEpisode.details.map((d) => omitted(d) !== undefined)).toEqual(
      sizes.map((s) => s > largest - 1),
    );
    expect(omitted(perEpisode.details[sizes.indexOf(largest)]!)).toBe(
      `states left out (more than the ${largest - 1} bytes allowed per episode)`,
    );
    // Per report: the first two episodes fit, the rest do not.
    const reportBytes = sizes[0]! + sizes[1]!;
    const perReport = collectReport(dirs, { episodeBytes: 1e9, reportBytes });
    expect(perReport.details.map((d) => omitted(d) !== undefined)).toEqual(
      sizes.map((_, i) => i >= 2),
    );
    expect(omitted(perReport.details[2]!)).toBe(
      `states left out (more than the 0 bytes left of the ${reportBytes} allowed per report)`,
    );
    const file = join(tmp, 'capped.html');
    writeFileSync(file, reportHtml(perReport, 'capped'));
    const page = await open('#episode-2', file);
    await page.waitForSelector('#states-omitted');
    const replay = join(
      stateful(),
      (
        JSON.parse(
          readFileSync(join(stateful(), 'episodes.jsonl'), 'utf8').trim().split('\n')[2]!,
        ) as { replay: string }
      ).replay,
    );
    expect(await page.textContent('#states-omitted')).toBe(
      `states left out (more than the 0 bytes left of the ${reportBytes} allowed per report): \`tooltime replay inspect ${replay} --state-at N\` prints the states after record N.`,
    );
    expect(await page.locator('#episode tr.state').count()).toBe(0);
    await page.close();
    expect(errors).toEqual([]);
  });
});

describe('tooltime report: bad input', () => {
  it('one line naming the file, exit 1, no stack trace', () => {
    const bad = join(tmp, 'bad');
    const cases: Array<[() => void, string[], RegExp]> = [
      [
        () => {},
        [join(tmp, 'nowhere')],
        /^tooltime: .*nowhere\/run\.json: missing \(not a finished run directory\)\n$/,
      ],
      [
        () => appendFileSync(join(bad, 'episodes.jsonl'), 'garbage\n'),
        [bad],
        /^tooltime: .*bad\/episodes\.jsonl:5: not JSON\n$/,
      ],
      [
        () => writeFileSync(join(bad, 'replays', 'example-chain--sequential--seed2.ttr'), 'TTR'),
        [bad],
        /^tooltime: .*example-chain--sequential--seed2\.ttr: truncated: .*\n$/,
      ],
    ];
    for (const [spoil, dirs, message] of cases) {
      rmSync(bad, { recursive: true, force: true });
      cpSync(join(tmp, 'poll'), bad, { recursive: true });
      spoil();
      const r = tooltime(['report', ...dirs, '--out', join(tmp, 'bad.html')]);
      expect(r.stderr).toMatch(message);
      expect(hasStackTrace(r.stderr)).toBe(false);
      expect(r.status).toBe(1);
    }
    const unwritable = tooltime([
      'report',
      join(tmp, 'poll'),
      '--out',
      join(tmp, 'no-such-dir', 'r.html'),
    ]);
    expect(unwritable.stderr).toMatch(
      /^tooltime: .*no-such-dir\/r\.html: cannot write \(ENOENT\)\n$/,
    );
    expect(unwritable.status).toBe(1);
  });
});
