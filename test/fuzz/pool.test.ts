/**
 * The fuzz harness (test/fuzz/): the pool catches what it is for, the judge names what is wrong,
 * and a short seeded run keeps the promise. CI runs 10,000 inputs (`npm run fuzz`, .ci/run).
 */
import { describe, expect, it } from 'vitest';
import { fuzz, judge } from './main.js';

describe('fuzz harness', () => {
  it('judge: exit 2, other exits, stack traces, silent rejections and lines without the file are findings', () => {
    const args = ['validate', '/tmp/x.json'];
    expect(judge(args, 0, 'ok', '')).toBeNull();
    expect(judge(args, 1, '', '/tmp/x.json: tasks.0: bad\n/tmp/x.json: tools: bad\n')).toBeNull();
    expect(
      judge(
        ['replay', 'verify', '/tmp/a.ttr'],
        1,
        '',
        'tooltime: /tmp/a.ttr: FAILED: x\n  the 1 records before it:\n     0  {}\n',
      ),
    ).toBeNull();
    expect(judge(args, 2, '', 'tooltime: internal error: boom\n')).toMatch(/^internal error: /);
    expect(judge(args, 1, '', 'tooltime: internal error: boom\n')).toMatch(/^internal error: /);
    expect(judge(args, 3, '', 'tooltime: /tmp/x.json: errored\n')).toMatch(/^exit 3/);
    expect(judge(args, null, '', '')).toMatch(/watchdog/);
    expect(
      judge(args, 1, '', 'tooltime: /tmp/x.json: bad\n    at run (file:///a.js:1:2)\n'),
    ).toMatch(/stack trace/);
    expect(judge(args, 1, '', '')).toMatch(/without a word/);
    expect(judge(args, 1, '', 'tooltime: something went wrong\n')).toMatch(
      /does not name the file/,
    );
    // A bad flag value is named by its flag, which must be one the command was given.
    const stateAt = ['replay', 'inspect', '/tmp/a.ttr', '--state-at', 'x'];
    expect(
      judge(stateAt, 1, '', 'tooltime: --state-at must be a record number, got "x"\n'),
    ).toBeNull();
    expect(judge(stateAt, 1, '', 'tooltime: --format must be text\n')).toMatch(/does not name/);
  });

  it('a hang, a heap blown and a module loaded are findings pinned on their input; the pool replaces the worker and goes on', async () => {
    const report = await fuzz({
      seed: 1,
      inputs: 30,
      cli: 0,
      workers: 2,
      timeoutMs: 10_000,
      selfTest: [['__hang'], ['__oom'], ['__load', '{evil}']],
    });
    const problems = report.findings.map(
      (f) => `${f.input} ${f.args[0]} ${f.problem.split('\n')[0]}`,
    );
    expect(problems).toEqual([
      '-1 __hang hang: no answer within 10000 ms',
      expect.stringMatching(/^-1 __oom worker died: ERR_WORKER_OUT_OF_MEMORY/),
      '-1 __load a module named by the input was loaded',
    ]);
    expect(report.workersReplaced).toBe(2);
    // Every input after them still ran: 30 inputs, 2 to 4 commands each.
    expect(report.commands).toBeGreaterThanOrEqual(3 + 60);
  });

  it('200 seeded inputs in process and 4 through the command line keep the promise', async () => {
    const report = await fuzz({ seed: 7, inputs: 200, cli: 4, workers: 2, timeoutMs: 30_000 });
    expect(
      report.findings.map((f) => `${f.input} (${f.label}) ${f.args.join(' ')}: ${f.problem}`),
    ).toEqual([]);
    expect(report.accepted).toBeGreaterThan(20);
    expect(report.rejected).toBeGreaterThan(200);
    expect(report.cliCommands).toBe(4);
  });
});
