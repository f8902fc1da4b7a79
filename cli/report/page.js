// The report page's script (plain browser JS, inlined by cli/report/html.ts). It reads the data
// block, draws the leaderboard, breakdowns and plots (vega-embed), and lists episodes; an episode's
// detail is gunzipped (DecompressionStream) and drawn only when it is opened, so a run of
// thousands of episodes loads at once.

(() => {
  const DATA = JSON.parse(document.getElementById('report-data').textContent);
  const METRICS = [
    ['taskSuccess', 'task success', 'pct'],
    ['subtaskSuccess', 'sub-task success', 'pct'],
    ['f1', 'step F1', 'num'],
    ['dependencyViolations', 'violations/ep', 'num'],
    ['successWeightedBoundRatio', 'bound/makespan', 'num'],
    ['successWeightedSpeedup', 'speedup vs seq', 'num'],
    ['meanCallsInService', 'calls in service', 'num'],
  ];
  const el = (tag, attrs, ...kids) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const kid of kids)
      if (kid !== null && kid !== undefined) node.append(kid instanceof Node ? kid : String(kid));
    return node;
  };
  const fmt = (v, kind) =>
    v === null || v === undefined
      ? '-'
      : kind === 'pct'
        ? `${(100 * v).toFixed(1)}%`
        : v.toFixed(2);
  const ms = (us) => `${(us / 1000).toFixed(us < 10000 ? 1 : 0)} ms`;

  function leaderboard() {
    const box = document.getElementById('leaderboard');
    DATA.runs.forEach((run, r) => {
      const m = run.manifest || {};
      box.append(
        el(
          'h3',
          {},
          `${run.dir} — ${m.mode || ''} ${m.delivery || ''}, ${m.instances ?? '?'} instances, seeds ${m.seeds ? `${m.seeds.from}..${m.seeds.to}` : '?'}`,
        ),
      );
      const head = el(
        'tr',
        {},
        el('th', {}, 'agent'),
        el('th', {}, 'episodes'),
        ...METRICS.map(([, label]) => el('th', {}, label)),
      );
      const table = el('table', { class: 'board', 'data-run': r }, el('thead', {}, head));
      const body = el('tbody');
      for (const { agent, summary } of run.summary) {
        const row = el('tr', {}, el('td', {}, agent), el('td', {}, summary.episodes));
        for (const [key, , kind] of METRICS) {
          const s = summary.metrics[key];
          const cell = el(
            'td',
            {
              class: 'metric',
              'data-agent': agent,
              'data-metric': key,
              'data-value': s && s.mean !== null ? String(s.mean) : '',
            },
            fmt(s?.mean, kind),
          );
          if (s && s.low !== null && s.high !== null)
            cell.append(
              el('span', { class: 'ci' }, ` [${fmt(s.low, kind)}, ${fmt(s.high, kind)}]`),
            );
          row.append(cell);
        }
        body.append(row);
      }
      table.append(body);
      box.append(table);
    });
  }

  function breakdownTable(title, rows) {
    const groups = [...new Set(rows.map((r) => r.group))].sort((a, b) =>
      Number.isNaN(a) ? a.localeCompare(b) : a - b,
    );
    const agents = [...new Set(rows.map((r) => r.agent))];
    const at = new Map(rows.map((r) => [`${r.agent}\u0000${r.group}`, r]));
    const table = el(
      'table',
      { class: 'board' },
      el('thead', {}, el('tr', {}, el('th', {}, 'agent'), ...groups.map((g) => el('th', {}, g)))),
    );
    const body = el('tbody');
    for (const a of agents) {
      body.append(
        el(
          'tr',
          {},
          el('td', {}, a),
          ...groups.map((g) => {
            const r = at.get(`${a}\u0000${g}`);
            return el(
              'td',
              r
                ? {
                    class: 'share',
                    'data-agent': a,
                    'data-group': g,
                    'data-value': String(r.success),
                    'data-n': String(r.n),
                  }
                : {},
              r ? fmt(r.success, 'pct') : '-',
              r
                ? el(
                    'span',
                    { class: 'ci' },
                    ` [${fmt(r.low, 'pct')}, ${fmt(r.high, 'pct')}] n=${r.n}`,
                  )
                : null,
            );
          }),
        ),
      );
    }
    table.append(body);
    return el('div', { class: 'breakdown' }, el('h3', {}, title), table);
  }

  function plot(id, spec) {
    const box = el('div', { class: 'plot', id });
    document.getElementById('plots').append(box);
    vegaEmbed(
      box,
      Object.assign({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json' }, spec),
      { actions: false, renderer: 'svg' },
    ).catch((e) => console.error(`plot ${id}: ${e.message}`));
  }

  function plots(byDomain, byTasks) {
    const points = [];
    const severalModes = new Set(DATA.runs.map((run) => run.manifest?.mode)).size > 1;
    DATA.runs.forEach((run) => {
      for (const { agent, summary } of run.summary) {
        const m = summary.metrics;
        const mode = run.manifest?.mode || '?';
        points.push({
          agent,
          mode,
          series: severalModes ? `${agent} [${mode}]` : agent,
          success: m.taskSuccess.mean,
          low: m.taskSuccess.low,
          high: m.taskSuccess.high,
          efficiency: m.successWeightedBoundRatio.mean,
        });
      }
    });
    plot('plot-scatter', {
      title: 'success vs efficiency (success-weighted bound/makespan)',
      width: 360,
      height: 260,
      data: { values: points },
      layer: [
        {
          mark: { type: 'rule' },
          encoding: {
            x: { field: 'efficiency', type: 'quantitative' },
            y: { field: 'low', type: 'quantitative' },
            y2: { field: 'high' },
            color: { field: 'series' },
          },
        },
        {
          mark: { type: 'point', filled: true, size: 80 },
          encoding: {
            x: {
              field: 'efficiency',
              type: 'quantitative',
              title: 'bound/makespan (success-weighted)',
            },
            y: {
              field: 'success',
              type: 'quantitative',
              title: 'task success',
              axis: { format: '%' },
            },
            color: { field: 'series', type: 'nominal', title: 'agent' },
            tooltip: [
              { field: 'series', title: 'agent' },
              { field: 'success', format: '.1%' },
              { field: 'efficiency', format: '.2f' },
            ],
          },
        },
      ],
    });
    const agents = new Set(points.map((p) => p.series)).size;
    // Wide enough for every (group, agent) bar to stay visible.
    const bars = (id, title, values, x) =>
      plot(id, {
        title,
        width: Math.min(1100, Math.max(360, new Set(values.map((v) => v.group)).size * agents * 6)),
        height: 220,
        data: { values },
        mark: 'bar',
        encoding: {
          x: { field: 'group', type: x, title: null },
          xOffset: { field: 'agent' },
          y: {
            field: 'success',
            type: 'quantitative',
            title: 'task success',
            axis: { format: '%' },
          },
          color: { field: 'agent', type: 'nominal' },
          tooltip: [
            { field: 'agent' },
            { field: 'group' },
            { field: 'success', format: '.1%' },
            { field: 'n' },
          ],
        },
      });
    bars('plot-domain', 'success by domain', byDomain, 'nominal');
    bars('plot-tasks', 'success by number of tasks', byTasks, 'ordinal');
    const modes = new Set(points.map((p) => p.mode));
    if (modes.has('sync') && modes.has('async')) {
      plot('plot-mode', {
        title: 'sync vs async',
        width: 360,
        height: 220,
        data: { values: points },
        layer: [
          {
            mark: 'bar',
            encoding: {
              x: { field: 'agent', type: 'nominal' },
              xOffset: { field: 'mode' },
              y: {
                field: 'success',
                type: 'quantitative',
                title: 'task success (95% interval)',
                axis: { format: '%' },
              },
              color: { field: 'mode', type: 'nominal' },
            },
          },
          {
            mark: 'rule',
            encoding: {
              x: { field: 'agent', type: 'nominal' },
              xOffset: { field: 'mode' },
              y: { field: 'low', type: 'quantitative' },
              y2: { field: 'high' },
            },
          },
        ],
      });
    }
  }

  // ---- ablations (tooltime ablate): each level, and each level minus the baseline ----
  const LEVEL_NAMES = { mode: 'mode', latency: 'latency scale', tasks: 'number of tasks' };

  function ablationPlots() {
    const runs = [...new Set(DATA.ablation.map((p) => p.run))];
    for (const run of runs) {
      const values = DATA.ablation.filter((p) => p.run === run);
      const { kind, baseline, levels } = values[0];
      const level = {
        field: 'level',
        type: 'ordinal',
        sort: levels,
        title: LEVEL_NAMES[kind] || kind,
        axis: { labelAngle: 0 },
      };
      // Agents in the run's order, as its tables list them.
      const agents = [...new Set(values.map((p) => p.agent))];
      const color = { field: 'agent', type: 'nominal', title: 'agent', sort: agents };
      plot(`plot-ablation-${run}`, {
        title: {
          text: `${kind} ablation (${DATA.runs[run].dir}): effect of each level`,
          subtitle: `left: the level, 95% intervals; right: the level minus the baseline (${baseline}), paired 95% intervals over (instance, seed)`,
        },
        data: { values },
        facet: {
          row: { field: 'metric', title: null, sort: ['task success', 'bound/makespan'] },
          column: { field: 'panel', title: null, sort: ['at the level', 'minus the baseline'] },
        },
        spec: {
          width: 300,
          height: 150,
          layer: [
            {
              mark: { type: 'rule', color: '#999', strokeDash: [3, 3] },
              encoding: { y: { datum: 0 } },
            },
            {
              mark: { type: 'rule', strokeWidth: 2 },
              encoding: {
                x: level,
                xOffset: { field: 'agent' },
                y: { field: 'low', type: 'quantitative' },
                y2: { field: 'high' },
                color,
              },
            },
            {
              mark: { type: 'point', filled: true, size: 60 },
              encoding: {
                x: level,
                xOffset: { field: 'agent' },
                // Fractions and ratios alike; '~' drops the zeros a flat panel (no effect) would show.
                y: { field: 'mean', type: 'quantitative', title: null, axis: { format: '.2~f' } },
                color,
                tooltip: [
                  { field: 'agent' },
                  { field: 'level' },
                  { field: 'metric' },
                  { field: 'panel' },
                  { field: 'mean', format: '.3f' },
                  { field: 'low', format: '.3f' },
                  { field: 'high', format: '.3f' },
                  { field: 'n' },
                ],
              },
            },
          ],
        },
        resolve: { scale: { y: 'independent' } },
      });
    }
  }

  // ---- episodes: a filtered list, drawn a page at a time ----
  const PAGE = 200;
  let shown = 0;
  let filtered = DATA.episodes.map((_, i) => i);
  function episodeList() {
    const box = document.getElementById('episodes');
    const input = el('input', {
      id: 'filter',
      placeholder: 'filter: agent, instance, seed, "fail", "violation", "model"',
      size: 60,
    });
    const table = el(
      'table',
      { class: 'board', id: 'episode-table' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...[
            'agent',
            'instance',
            'seed',
            'mode',
            'tasks',
            'success',
            'violations',
            'invalid',
            'calls',
            'makespan',
            'end',
          ].map((h) => el('th', {}, h)),
        ),
      ),
      el('tbody'),
    );
    const more = el('button', { id: 'more', onclick: () => drawRows() }, 'more');
    input.addEventListener('input', () => {
      const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      filtered = DATA.episodes.flatMap((e, i) => {
        const text =
          `${e.agent} ${e.instance} seed${e.seed} ${e.seed} ${e.mode} ${e.success === 1 ? 'ok' : 'fail'} ${e.violations > 0 ? 'violation' : ''} ${e.model ? 'model' : ''}`.toLowerCase();
        return words.every((w) => text.includes(w)) ? [i] : [];
      });
      table.tBodies[0].replaceChildren();
      shown = 0;
      drawRows();
    });
    box.append(input, el('span', { id: 'count' }), el('div', { id: 'episode-list' }, table, more));
    drawRows();
  }
  function drawRows() {
    const body = document.querySelector('#episode-table tbody');
    for (const i of filtered.slice(shown, shown + PAGE)) {
      const e = DATA.episodes[i];
      const row = el(
        'tr',
        {
          class: `ep${e.success === 1 ? '' : ' fail'}`,
          'data-episode': i,
          onclick: () => openEpisode(i),
        },
        el('td', {}, e.agent),
        el('td', {}, e.instance),
        el('td', {}, e.seed),
        el('td', {}, e.mode),
        el('td', {}, e.tasks),
        el('td', {}, e.success === null ? '-' : e.success === 1 ? 'yes' : 'no'),
        el('td', {}, e.violations || ''),
        el('td', {}, e.invalid || ''),
        el('td', {}, e.calls),
        el('td', {}, ms(e.makespanUs)),
        el('td', {}, e.endReason),
      );
      body.append(row);
    }
    shown = Math.min(filtered.length, shown + PAGE);
    document.getElementById('count').textContent = ` ${filtered.length} episodes, ${shown} shown`;
    document.getElementById('more').style.display = shown < filtered.length ? '' : 'none';
  }

  async function detailOf(i) {
    const bytes = Uint8Array.from(atob(DATA.details[i]), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return JSON.parse(await new Response(stream).text());
  }

  async function openEpisode(i) {
    const e = DATA.episodes[i];
    const pane = document.getElementById('episode');
    pane.replaceChildren(el('p', {}, 'loading…'));
    location.hash = `episode-${i}`;
    const d = await detailOf(i);
    const sc = d.score;
    pane.replaceChildren(
      el('h2', {}, `${e.instance} — ${e.agent}, seed ${e.seed} (${e.mode}/${e.delivery})`),
      el(
        'p',
        {},
        `end: ${e.endReason}; ${e.success === null ? 'not scored' : e.success === 1 ? 'succeeded' : 'failed'}; ${sc ? `${sc.tasksSucceeded}/${sc.tasksTotal} tasks, ${sc.steps.dependencyViolations} violations, ${sc.steps.invalidCalls} invalid, ${sc.steps.redundantCalls} redundant` : 'not scored'}; makespan ${ms(e.makespanUs)}`,
      ),
      el(
        'button',
        {
          onclick: () => {
            pane.replaceChildren();
            location.hash = '';
          },
        },
        'close',
      ),
      timeline(d),
      legend(),
      statesView(d),
      transcript(d),
    );
    pane.scrollIntoView();
  }

  /**
   * Every kind of mark the timeline draws (its elements carry `data-mark`), with a swatch like it:
   * the report's test checks that each kind drawn on a timeline has an entry here.
   */
  const LEGEND = [
    ['think', 'k think', ' ', 'think time'],
    ['wait', 'k wait', ' ', 'waiting for a slot'],
    ['service', 'k service', ' ', 'in service'],
    ['error', 'k service error', ' ', 'in service, failed'],
    ['deliver', 'k deliver', ' ', 'completed → delivered'],
    ['violation', 'k violation', ' ', 'dependency violation'],
    ['bad', 'k invalid', ' ', 'invalid / redundant / unmatched call'],
    ['arrival', 'g g-arrival', '▲', 'arrival'],
    ['followup', 'g g-followup', '◆', 'follow-up'],
    ['answer-right', 'g g-right', '●', 'answer, right'],
    ['answer-wrong', 'g g-wrong', '●', 'answer, wrong'],
    ['state', 'g g-state', '■', 'environment state changed (click: the state after it)'],
  ];

  function legend() {
    return el(
      'p',
      { class: 'legend' },
      ...LEGEND.map(([mark, cls, swatch, text]) =>
        el('span', { class: 'entry', 'data-mark': mark }, el('span', { class: cls }, swatch), text),
      ),
    );
  }

  const SVG = 'http://www.w3.org/2000/svg';
  const s = (tag, attrs, text) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) {
      const t = document.createElementNS(SVG, 'title');
      t.textContent = text;
      node.append(t);
    }
    return node;
  };

  /** A marker character with a tooltip (the <title> goes after the text, which it does not replace). */
  function glyph(cx, cy, cls, char, tip, mark = cls) {
    const t = s('text', { x: cx - 4, y: cy + 6, class: cls, 'data-mark': mark });
    t.append(char);
    const title = document.createElementNS(SVG, 'title');
    title.textContent = tip;
    t.append(title);
    return t;
  }

  /** Calls in issue order with their times and the score's verdict, grouped into task lanes. */
  function callsOf(d) {
    const calls = new Map();
    const verdicts = new Map((d.score ? d.score.calls : []).map((c) => [c.callId, c]));
    for (const ev of d.events) {
      if (ev.type === 'call_issued')
        calls.set(ev.callId, {
          id: ev.callId,
          tool: ev.tool,
          task: ev.task,
          step: ev.step,
          invalid: ev.invalid,
          issued: ev.timeUs,
          started: null,
          completed: null,
          delivered: null,
          ok: null,
          score: verdicts.get(ev.callId) || null,
        });
      const c = calls.get(ev.callId);
      if (!c) continue;
      if (ev.type === 'call_started') c.started = ev.timeUs;
      if (ev.type === 'call_completed') {
        c.completed = ev.timeUs;
        c.ok = ev.ok;
      }
      if (ev.type === 'result_delivered') c.delivered = ev.timeUs;
    }
    return [...calls.values()];
  }

  function timeline(d) {
    const calls = callsOf(d);
    const lanes = d.tasks.map((t) => t.id);
    if (calls.some((c) => c.task === null || !lanes.includes(c.task))) lanes.push('(no task)');
    const laneOf = (task) => (lanes.includes(task) ? lanes.indexOf(task) : lanes.length - 1);
    const end = Math.max(1, ...d.events.map((ev) => ev.timeUs));
    // Within a lane, calls that overlap go on sub-rows so every bar stays visible.
    const rows = lanes.map(() => []);
    for (const c of calls) {
      const lane = rows[laneOf(c.task)];
      const stop = c.delivered ?? c.completed ?? end;
      let r = lane.findIndex((last) => last <= c.issued);
      if (r < 0) {
        r = lane.length;
        lane.push(0);
      }
      lane[r] = stop;
      c.row = r;
    }
    const ROW = 14,
      LEFT = 110,
      W = 1180,
      top = 34,
      RIGHT = 40;
    const laneTop = [];
    let y = top + 26;
    rows.forEach((r) => {
      laneTop.push(y);
      y += Math.max(1, r.length) * ROW + 10;
    });
    const x = (us) => LEFT + (us / end) * (W - LEFT - RIGHT);
    const svg = s('svg', {
      width: W,
      height: y + 20,
      class: 'timeline',
      'data-calls': calls.length,
    });
    for (let k = 0; k <= 10; k++) {
      const t = (end * k) / 10;
      svg.append(s('line', { x1: x(t), x2: x(t), y1: top - 6, y2: y, class: 'grid' }));
      const label = s('text', { x: x(t), y: top - 10, class: 'tick' });
      label.textContent = ms(t);
      svg.append(label);
    }
    // The agent lane: decisions and their think time.
    const agentLabel = s('text', { x: 4, y: top + 12, class: 'lane' });
    agentLabel.textContent = 'agent';
    svg.append(agentLabel);
    const starts = new Map();
    for (const ev of d.events) {
      if (ev.type === 'decision_started') starts.set(ev.decision, ev.timeUs);
      if (ev.type === 'decision_ended') {
        const from = starts.get(ev.decision) ?? ev.timeUs;
        const acts = ev.actions
          .map((a) => (a.type === 'call' ? `call ${a.tool}` : a.type))
          .join(', ');
        svg.append(
          s(
            'rect',
            {
              x: x(from),
              y: top + 2,
              width: Math.max(1.5, x(ev.timeUs) - x(from)),
              height: 12,
              class: 'think',
              'data-mark': 'think',
              'data-decision': ev.decision,
            },
            `decision ${ev.decision}: think ${ms(ev.thinkUs)}; ${acts}`,
          ),
        );
      }
    }
    lanes.forEach((id, i) => {
      const t = s('text', { x: 4, y: laneTop[i] + 10, class: 'lane' });
      t.textContent = id;
      svg.append(t);
      svg.append(
        s('line', {
          x1: LEFT,
          x2: W - RIGHT,
          y1: laneTop[i] - 5,
          y2: laneTop[i] - 5,
          class: 'sep',
        }),
      );
    });
    for (const c of calls) {
      const y0 = laneTop[laneOf(c.task)] + c.row * ROW;
      const verdict = c.score ? c.score.verdict : c.invalid ? 'invalid' : '?';
      const violation = !!c.score?.violation;
      const bad = c.invalid !== null || verdict !== 'correct';
      const g = s('g', {
        class: `call${violation ? ' violation' : ''}${bad ? ' bad' : ''}`,
        'data-call': c.id,
        'data-tool': c.tool,
        'data-issued': c.issued,
        'data-verdict': verdict,
        'data-violation': violation,
      });
      const info = `call ${c.id} ${c.tool} (${c.task ?? '-'}/${c.step ?? '-'}) ${verdict}${violation ? ', dependency violation' : ''}${c.invalid ? `, invalid: ${c.invalid}` : ''}; issued ${ms(c.issued)}, started ${c.started === null ? '-' : ms(c.started)}, completed ${c.completed === null ? '-' : ms(c.completed)}, delivered ${c.delivered === null ? '-' : ms(c.delivered)}`;
      const started = c.started ?? c.completed ?? end;
      if (started > c.issued)
        g.append(
          s(
            'rect',
            {
              x: x(c.issued),
              y: y0,
              width: x(started) - x(c.issued),
              height: ROW - 3,
              class: 'wait',
              'data-mark': 'wait',
            },
            info,
          ),
        );
      if (c.started !== null)
        g.append(
          s(
            'rect',
            {
              x: x(c.started),
              y: y0,
              width: Math.max(1.5, x(c.completed ?? end) - x(c.started)),
              height: ROW - 3,
              class: `service${c.ok === false ? ' error' : ''}`,
              'data-mark': c.ok === false ? 'error' : 'service',
            },
            info,
          ),
        );
      if (c.completed !== null && c.delivered !== null && c.delivered > c.completed)
        g.append(
          s(
            'rect',
            {
              x: x(c.completed),
              y: y0 + 4,
              width: x(c.delivered) - x(c.completed),
              height: ROW - 11,
              class: 'deliver',
              'data-mark': 'deliver',
            },
            info,
          ),
        );
      if (c.started === null && c.completed === null)
        g.append(
          s(
            'rect',
            {
              x: x(c.issued),
              y: y0,
              width: 3,
              height: ROW - 3,
              class: 'service',
              'data-mark': 'service',
            },
            info,
          ),
        );
      if (violation || bad)
        g.append(
          s(
            'rect',
            {
              x: x(c.issued) - 1,
              y: y0 - 1,
              width: Math.max(4, x(c.completed ?? c.issued) - x(c.issued) + 2),
              height: ROW - 1,
              class: violation ? 'mark-violation' : 'mark-bad',
              'data-mark': violation ? 'violation' : 'bad',
            },
            info,
          ),
        );
      const label = s('text', { x: x(c.issued) + 2, y: y0 + 9, class: 'bar-label' });
      label.textContent = `${c.id} ${c.tool}`;
      g.append(label);
      svg.append(g);
    }
    const taskScore = new Map((d.score ? d.score.tasks : []).map((t) => [t.task, t]));
    for (const ev of d.events) {
      const i = lanes.indexOf(ev.task);
      if (i < 0) continue;
      const yl = laneTop[i] - 2;
      if (ev.type === 'task_arrived')
        svg.append(
          glyph(x(ev.timeUs), yl, 'arrival', '▲', `task ${ev.task} arrived at ${ms(ev.timeUs)}`),
        );
      if (ev.type === 'message_arrived')
        svg.append(
          glyph(x(ev.timeUs), yl, 'followup', '◆', `follow-up ${ev.index} at ${ms(ev.timeUs)}`),
        );
      if (ev.type === 'answer_given') {
        const right = taskScore.get(ev.task) ? taskScore.get(ev.task).answerCorrect : null;
        svg.append(
          s(
            'circle',
            {
              cx: x(ev.timeUs),
              cy: yl + 3,
              r: 5,
              class: `answer ${right === false ? 'wrong' : 'right'}`,
              'data-mark': right === false ? 'answer-wrong' : 'answer-right',
              'data-correct': String(right),
            },
            `answer: ${ev.content}${right === false ? ' (wrong)' : ''}`,
          ),
        );
      }
    }
    // A state change: a square on its call's lane; a click shows the state after it. Marks close
    // in time are nudged apart (at most a mark's width each) so each one stays clickable.
    const taskOf = new Map(calls.map((c) => [c.id, c.task]));
    const lastMark = new Map();
    for (const ch of d.states?.changes ?? []) {
      const lane = laneOf(taskOf.get(ch.callId) ?? null);
      const at = Math.max(x(ch.timeUs), (lastMark.get(lane) ?? Number.NEGATIVE_INFINITY) + 9);
      lastMark.set(lane, at);
      const mark = glyph(
        at,
        laneTop[lane] - 2,
        'state-mark',
        '■',
        `record ${ch.record}: ${instanceName(ch)} changed by call ${ch.callId} at ${ms(ch.timeUs)}`,
        'state',
      );
      mark.setAttribute('data-record', ch.record);
      mark.addEventListener('click', () => selectState(ch.record));
      svg.append(mark);
    }
    const wrap = el('div', { class: 'timeline-box' }, el('h3', {}, 'timeline'));
    wrap.append(svg);
    return wrap;
  }

  // ---- environment states (stateful episodes): each instance's initial state, and per change
  // the state after it, rebuilt by `tooltime report` as `replay inspect --state-at` does ----
  const instanceName = (i) => `${i.environment} (${i.task === null ? 'shared' : `task ${i.task}`})`;
  const sameInstance = (a, b) => a.environment === b.environment && a.task === b.task;

  /** The state as `replay inspect --state-at` prints it, lines not in `before` marked. */
  function stateText(state, before) {
    const pre = el('pre', { class: 'state-json', id: 'state-text' });
    const lines = JSON.stringify(state, null, 2).split('\n');
    // Cheap line diff: a line counts as unchanged while the previous state has one left like it.
    const left = new Map();
    for (const l of before === null ? [] : JSON.stringify(before, null, 2).split('\n'))
      left.set(l, (left.get(l) || 0) + 1);
    lines.forEach((line, k) => {
      const n = left.get(line) || 0;
      if (before !== null && n === 0) pre.append(el('mark', {}, line));
      else pre.append(line);
      if (n > 0) left.set(line, n - 1);
      if (k < lines.length - 1) pre.append('\n');
    });
    // Lines of the previous state with no like left here: removed (or changed, then marked).
    let gone = 0;
    for (const n of left.values()) gone += n;
    pre.setAttribute('data-gone', gone);
    return pre;
  }

  function selectState(record) {
    const row = document.querySelector(`tr.state[data-record="${record}"]`);
    if (row) {
      row.click();
      row.scrollIntoView({ block: 'nearest' });
    }
  }

  function statesView(d) {
    const box = el('div', { class: 'states' });
    if (!d.states) return box;
    box.append(el('h3', {}, 'environment states'));
    if (d.states.omitted) {
      box.append(
        el(
          'p',
          { class: 'issue', id: 'states-omitted' },
          `${d.states.omitted}: \`tooltime replay inspect ${d.states.file} --state-at N\` prints the states after record N.`,
        ),
      );
      return box;
    }
    if (d.states.divergedAt !== null)
      box.append(
        el(
          'p',
          { class: 'issue' },
          `record ${d.states.divergedAt}: the state differs from its recorded digest`,
        ),
      );
    const tools = new Map();
    for (const ev of d.events) if (ev.type === 'call_issued') tools.set(ev.callId, ev.tool);
    const rows = [
      ...d.states.initial.map((i) => ({ ...i, record: null, timeUs: 0, callId: null })),
      ...d.states.changes,
    ];
    const body = el('tbody');
    const view = el('div', { class: 'state-view' }, el('p', {}, 'no state selected'));
    const show = (k) => {
      const r = rows[k];
      let before = null;
      for (let j = k - 1; j >= 0 && before === null; j--)
        if (sameInstance(rows[j], r)) before = rows[j].state;
      for (const tr of body.children) tr.classList.toggle('sel', tr === body.children[k]);
      view.replaceChildren(
        el(
          'p',
          {},
          r.record === null
            ? `${instanceName(r)}: initial state`
            : `${instanceName(r)} after record ${r.record} (${ms(r.timeUs)}, call ${r.callId} ${tools.get(r.callId) || ''}); changed lines marked`,
        ),
        stateText(r.state, before),
      );
      const gone = Number(view.lastChild.getAttribute('data-gone'));
      if (gone > 0)
        view.append(
          el('p', { class: 'gone' }, `${gone} lines of the previous state gone or changed`),
        );
    };
    rows.forEach((r, k) => {
      body.append(
        el(
          'tr',
          {
            class: 'state',
            'data-record': r.record === null ? 'initial' : r.record,
            onclick: () => show(k),
          },
          el('td', {}, r.record === null ? 'initial' : r.record),
          el('td', {}, r.record === null ? '' : ms(r.timeUs)),
          el('td', {}, r.callId === null ? '' : `${r.callId} ${tools.get(r.callId) || ''}`),
          el('td', {}, instanceName(r)),
        ),
      );
    });
    const table = el(
      'table',
      { class: 'board' },
      el(
        'thead',
        {},
        el('tr', {}, ...['record', 'time', 'call', 'instance'].map((h) => el('th', {}, h))),
      ),
      body,
    );
    box.append(
      el(
        'p',
        {},
        `${d.states.initial.length} instances, ${d.states.changes.length} changes (state_changed events, `,
        el('span', { class: 'g-state' }, '■'),
        ' on the timeline): click one for the state after it.',
      ),
      el('div', { class: 'state-pane' }, el('div', { class: 'state-list' }, table), view),
    );
    return box;
  }

  // ---- model transcript: each request's new messages, the reply's tool calls, usage ----
  function text(value) {
    return typeof value === 'string' ? value : JSON.stringify(value, null, 1);
  }
  function transcript(d) {
    const box = el('div', { class: 'transcript' });
    const turns = d.events.filter(
      (ev) => ev.type === 'decision_ended' && ev.note && ev.note.format,
    );
    if (turns.length === 0) return box;
    box.append(
      el('h3', {}, `transcript (${turns.length} requests; prompt ${turns[0].note.prompt})`),
    );
    let seen = 0;
    const total = { p: 0, c: 0, usd: 0 };
    for (const ev of turns) {
      const note = ev.note;
      const messages = note.request?.messages || [];
      const fresh = messages.slice(seen);
      const reply = note.response?.choices?.[0] ? note.response.choices[0].message : null;
      // The next request repeats this reply as its first new message: shown once, as the reply.
      seen = messages.length + (reply ? 1 : 0);
      const cost =
        d.costs && d.costs[ev.decision] !== undefined
          ? `, $${d.costs[ev.decision].toFixed(6)}`
          : '';
      if (cost) total.usd += d.costs[ev.decision];
      const usage = note.usage || { promptTokens: 0, completionTokens: 0 };
      total.p += usage.promptTokens;
      total.c += usage.completionTokens;
      const turn = el(
        'div',
        { class: 'turn', 'data-decision': ev.decision },
        el(
          'h4',
          {},
          `request ${ev.decision} at ${ms(ev.timeUs - ev.thinkUs)} — ${usage.promptTokens} prompt + ${usage.completionTokens} completion tokens${usage.estimated ? ' (estimated)' : ''}${cost}, think ${ms(ev.thinkUs)}${note.latencyMs !== null && note.latencyMs !== undefined ? `, latency ${note.latencyMs} ms` : ''}`,
        ),
      );
      for (const m of fresh) {
        const who = m.role === 'tool' ? `tool result ${m.tool_call_id || ''}` : m.role;
        const content = el(
          'pre',
          {},
          m.content === null || m.content === undefined ? '' : text(m.content),
        );
        // The system prompt is the same long text in every episode: folded, one click to read.
        const body =
          m.role === 'system'
            ? el(
                'details',
                { class: 'msg system' },
                el('summary', {}, `system prompt (${text(m.content).length} characters)`),
                content,
              )
            : el('div', { class: `msg ${m.role}` }, el('b', {}, `${who}: `), content);
        for (const tc of m.tool_calls || [])
          body.append(
            el(
              'div',
              { class: 'tool-call' },
              `→ ${tc.function.name} [${tc.id}] ${tc.function.arguments}`,
            ),
          );
        turn.append(body);
      }
      const out = el('div', { class: 'msg reply' }, el('b', {}, 'model reply: '));
      if (reply?.content) out.append(el('pre', {}, text(reply.content)));
      for (const tc of reply?.tool_calls || [])
        out.append(
          el(
            'div',
            { class: 'tool-call' },
            `→ ${tc.function.name} [${tc.id}] ${tc.function.arguments}`,
          ),
        );
      if (note.unparsed) out.append(el('div', { class: 'issue' }, `unparsed: ${note.unparsed}`));
      for (const a of note.attempts || [])
        out.append(
          el(
            'div',
            { class: 'issue' },
            `failed attempt: ${a.status} ${a.error}, waited ${a.waitedMs} ms`,
          ),
        );
      for (const iss of note.issues || [])
        out.append(
          el(
            'div',
            { class: 'issue' },
            `issue ${iss.kind}${iss.toolCallId ? ` [${iss.toolCallId}]` : ''}: ${iss.detail}`,
          ),
        );
      turn.append(out);
      box.append(turn);
    }
    box.append(
      el(
        'p',
        {},
        `total: ${total.p} prompt + ${total.c} completion tokens${d.costs && Object.keys(d.costs).length > 0 ? `, $${total.usd.toFixed(6)}` : ''}`,
      ),
    );
    return box;
  }

  leaderboard();
  const byDomain = DATA.byDomain.map((r) => ({ ...r, success: r.mean }));
  const byTasks = DATA.byTasks.map((r) => ({ ...r, success: r.mean }));
  document
    .getElementById('breakdowns')
    .append(
      breakdownTable('task success by domain', byDomain),
      breakdownTable('task success by number of tasks', byTasks),
    );
  plots(byDomain, byTasks);
  if (DATA.ablation && DATA.ablation.length > 0) ablationPlots();
  episodeList();
  const m = /^#episode-(\d+)$/.exec(location.hash);
  if (m && DATA.episodes[Number(m[1])]) openEpisode(Number(m[1]));
})();
