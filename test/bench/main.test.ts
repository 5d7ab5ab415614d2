import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { BenchUsageError, parseBenchArguments } from '../../src/bench/main';
import { sectionNames, sections } from '../../src/bench/sections';

const root = resolve(__dirname, '..', '..');

describe('the bench command line', () => {
  it('reads --quick, --only and --json', () => {
    expect(parseBenchArguments([])).toMatchObject({ quick: false, json: undefined, help: false });
    expect(parseBenchArguments([]).only.map((s) => s.name)).toEqual([...sectionNames]);
    const a = parseBenchArguments(['--quick', '--only', 'planning,cli', '--json', 'out.json']);
    expect(a).toMatchObject({ quick: true, json: 'out.json' });
    // In the bench's order, whatever order they were named in.
    expect(a.only.map((s) => s.name)).toEqual(['cli', 'planning']);
    expect(parseBenchArguments(['--only=load', '--json=x.json'])).toMatchObject({ json: 'x.json' });
  });

  it.each([
    [['--fast'], 'unknown option "--fast"'],
    [['--only', 'overhead,nope'], '--only takes sections separated by commas, from overhead, '],
    [['--only'], '--only needs a value'],
    [['--json'], '--json needs a value'],
    [['--json', '--quick'], '--json needs a value'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseBenchArguments(argv)).toThrow(BenchUsageError);
    expect(() => parseBenchArguments(argv)).toThrow(message);
  });

  it('exits 2 with the message and the usage, never a stack trace (the built bench)', () => {
    const run = spawnSync(process.execPath, [join(root, 'dist', 'bench', 'main.js'), '--only', 'nope'], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('bench: --only takes sections separated by commas');
    expect(run.stderr).toContain('(unknown: nope)');
    expect(run.stderr).toContain('usage: npm run bench --');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('fails the section a bad BENCH_* size names, with the variable, never a stack trace or a server started', () => {
    for (const value of ['1e400', 'abc', '-5']) {
      const run = spawnSync(process.execPath, [join(root, 'dist', 'bench', 'main.js'), '--only', 'scale'], {
        encoding: 'utf8',
        env: { ...process.env, BENCH_SCALE_RELEASES: value },
      });
      expect(run.status).toBe(1);
      expect(run.stdout).toContain(
        `12. scale (sizes refused) failed: BENCH_SCALE_RELEASES: expected a number, got "${value}"`,
      );
      expect(`${run.stdout}${run.stderr}`).not.toMatch(/\n\s+at /);
    }
  });

  it('has a quick form of every section, each with its own number', () => {
    expect(sections.map((s) => s.number)).toEqual(sections.map((_, i) => i + 1));
    for (const s of sections) expect(s.sizes(true)).not.toBe(s.sizes(false));
  });
});

describe('scripts/bench-table.js', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { benchTable, replaceInReadme } = require('../../scripts/bench-table.js') as {
    benchTable: (reports: unknown) => string;
    replaceInReadme: (readme: string, table: string) => string;
  };
  const report = {
    date: '2026-01-02T03:04:05.000Z',
    quick: true,
    machine: { cores: 2, memoryBytes: 8 * 2 ** 30, cpuModel: 'AMD EPYC', node: 'v20.19.0', platform: 'linux-x64' },
    sections: [
      {
        section: 'load',
        number: 4,
        needsRig: false,
        sizes: '4 connections',
        figures: [
          {
            name: 'load generator',
            unit: 'requests/s',
            value: 16611,
            baseline: { name: 'wrk -t1', value: 30257 },
            ratio: 0.549,
          },
        ],
      },
      { section: 'apply', number: 3, needsRig: true, sizes: '2 rounds', figures: [], error: 'no | cluster' },
    ],
  };

  it('states the date and the machine, a row per figure with its baseline and ratio, and what did not run', () => {
    const table = benchTable(report);
    expect(table).toContain('Measured 2026-01-02');
    expect(table).toContain('on 2 cores (AMD EPYC), 8.0 GiB of memory, Node v20.19.0');
    expect(table).toContain('**quick form**');
    expect(table).toContain(
      '| 4. load: 4 connections | load generator | 16,611 requests/s | 30,257 requests/s (wrk -t1) | 0.55x |',
    );
    expect(table).toContain('| 3. apply (rig): 2 rounds | failed: no \\| cluster | | | |');
    expect(table).toContain(
      'Not in this run: overhead, concurrent, images, kills, cli, parsing, traffic, planning, history, scale, rig-idle, rig-release.',
    );
  });

  it('merges runs: a later run replaces its sections, each run says which it gave, rows in section order', () => {
    const later = {
      date: '2026-01-03T00:00:00.000Z',
      machine: report.machine,
      sections: [
        {
          section: 'apply',
          number: 3,
          needsRig: true,
          sizes: '30 rounds',
          figures: [{ name: 'apply', unit: 'ms', value: 12.5, baseline: { name: 'bare', value: 10 }, ratio: 1.25 }],
        },
      ],
    };
    const table = benchTable([report, later]);
    expect(table).toContain('- Measured 2026-01-02 (2026-01-02T03:04:05.000Z)');
    expect(table).toContain(
      '**quick form** (`--quick`: tiny sizes, for checking the bench runs; not figures to compare or quote): load.',
    );
    expect(table).toContain(
      '- Measured 2026-01-03 (2026-01-03T00:00:00.000Z) on 2 cores (AMD EPYC), 8.0 GiB of memory, Node v20.19.0 (linux-x64); full sizes: apply.',
    );
    expect(table).not.toContain('failed');
    const rows = table.split('\n').filter((l) => /^\| \d/.test(l));
    expect(rows).toEqual([
      '| 3. apply (rig): 30 rounds | apply | 12.5 ms | 10.0 ms (bare) | 1.25x |',
      '| 4. load: 4 connections | load generator | 16,611 requests/s | 30,257 requests/s (wrk -t1) | 0.55x |',
    ]);
    expect(table).toContain('Not in these runs: overhead, concurrent, images,');
  });

  it('replaces the table between the README markers', () => {
    const readme =
      'a\n<!-- bench-table: begin (generated by scripts/bench-table.js; do not edit by hand) -->\nold\n<!-- bench-table: end -->\nb\n';
    expect(replaceInReadme(readme, 'new\n')).toBe(readme.replace('old\n', 'new\n'));
  });

  it('exits 2 on a file that is not a bench report', () => {
    const run = spawnSync(process.execPath, [join(root, 'scripts', 'bench-table.js'), join(root, 'package.json')], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('not a bench report');
  });
});
