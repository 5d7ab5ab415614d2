import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { parse } from 'yaml';
import { packTemplate } from '../../src/infra/render/template-bundle';
import { InvalidInputError } from '../../src/domain/errors';
import type { TemplateBundle } from '../../src/domain/release-input';
import {
  expectInputInvariants,
  FuzzTally,
  fuzzOptions,
  fuzzRuns,
  fuzzSeed,
  fuzzTimeoutMs,
  maxOutputLineChars,
  meridian,
  mustHold,
} from '../support/fuzz-cli';

/**
 * Fuzzing of chart and manifest folders: random trees of files, folders, symlinks (to a file or a folder
 * inside, to the folder itself or its parent, to themselves, to nothing, out of the folder by a relative
 * or an absolute path, to /dev/zero and /proc), fifos, sparse 17 MiB files, incompressible files, hostile
 * names (a newline, a terminal escape, 200 characters) and hostile YAML (aliases to nothing, a billion
 * laughs, 100 levels, __proto__). Packed directly, and rendered through `meridian render` (plain
 * manifests in process; Helm charts through helm, fewer). Invariants: nothing outside the folder enters
 * the bundle or the rendered output (a canary planted outside never appears); every file in the bundle
 * is the file at that path in the folder; no fifo is opened (no hang); a refusal names the field and the
 * entry in bounded lines with no control characters; the CLI exits 0 or 2, never 70.
 */
const runs = fuzzRuns(200, 0.02);
const renderRuns = fuzzRuns(60, 0.01);
const helmRuns = fuzzRuns(8, 0.002);
const field = 'spec.template.manifests.path';
const canary = 'OUTSIDE-THE-FOLDER-CANARY';
const base = mkdtempSync(join(tmpdir(), 'meridian-fuzz-folders-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const examples = resolve(__dirname, '..', '..', 'examples');
const helm =
  process.env.MERIDIAN_HELM ?? join(process.env.MERIDIAN_CACHE ?? join(homedir(), '.cache', 'meridian'), 'bin', 'helm');

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: { name: shop-api }
spec:
  selector: { matchLabels: { app: shop-api } }
  template:
    metadata: { labels: { app: shop-api } }
    spec: { containers: [{ name: api, image: shop/api:2.4.0 }] }
`;
const hostileYaml = [
  deployment,
  'kind: ConfigMap\napiVersion: v1\nmetadata: { name: c }\ndata: { a: *nowhere }\n',
  `a: &a ["x","x","x","x","x","x","x","x","x"]\n${Array.from(
    { length: 9 },
    (_, i) =>
      `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
        .fill(`*${String.fromCharCode(97 + i)}`)
        .join(',')}]`,
  ).join('\n')}\n`,
  `${'['.repeat(100)}x${']'.repeat(100)}\n`,
  'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: p }\n__proto__: { polluted: true }\n',
  'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: p, name: q }\n',
  '--- !!js/function "function () { return 1 }"\n',
  'kind: Deployment\n',
  '{{ .Values.replicas }}\n{{ include "nope" . }}\n',
  '\u0000\u0001\u001b[2J',
  `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: big }\ndata: { a: "${'x'.repeat(100_000)}" }\n`,
  '---\n---\n- 1\n- 2\n',
  "apiVersion: v1\nkind: Secret\nmetadata: { name: s }\nstringData: { v: '${OUTSIDE}' }\n",
];
const names = [
  'a',
  'b',
  'templates',
  'x.yaml',
  'y.yml',
  'Chart.yaml',
  'values.yaml',
  'deployment.yaml',
  '名前.yaml',
  'with space.yaml',
  'new\nline.yaml',
  'esc\u001b[31m.yaml',
  '-dash.yaml',
  '.hidden.yaml',
  `${'e'.repeat(200)}.yaml`,
  '..yaml',
  'helpers.tpl',
];
const targets = [
  'x.yaml',
  '../x.yaml',
  'deployment.yaml',
  '.',
  '..',
  '../..',
  'templates',
  '../../outside/secret.yaml',
  '../outside/secret.yaml',
  '../../outside',
  '../outside',
  '@outside/secret.yaml',
  '@outside',
  '@chart/deployment.yaml',
  '/etc/passwd',
  '/dev/zero',
  '/proc/self/environ',
  'nowhere',
  '@self',
  '../outside/back.yaml',
];

type Entry =
  | { kind: 'file'; path: string[]; content: string | 'sparse' | 'noise' }
  | { kind: 'dir'; path: string[] }
  | { kind: 'link'; path: string[]; target: string }
  | { kind: 'fifo'; path: string[] };
const path = fc.array(fc.constantFrom(...names), { minLength: 1, maxLength: 3 });
const entry: fc.Arbitrary<Entry> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('file' as const), path, content: fc.constantFrom(...hostileYaml) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('file' as const),
      path,
      content: fc.constantFrom('sparse' as const, 'noise' as const),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('dir' as const), path }) },
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('link' as const), path, target: fc.constantFrom(...targets) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fifo' as const), path }) },
);
const tree = fc.array(entry, { maxLength: 6 });

/**
 * A fresh case: `root/outside` holds the canary (and a link back into the chart); `root/chart` starts as
 * `start` (a folder to copy, or one plain Deployment) and gets `entries`. Entries that cannot be made
 * (a file where a folder is asked for) are left out.
 */
function buildCase(entries: Entry[], start?: string): { root: string; chart: string } {
  const root = mkdtempSync(join(base, 'case-'));
  const chart = join(root, 'chart');
  mkdirSync(join(root, 'outside', 'dir'), { recursive: true });
  writeFileSync(
    join(root, 'outside', 'secret.yaml'),
    `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${canary.toLowerCase()} }\ndata: { v: ${canary} }\n`,
  );
  writeFileSync(join(root, 'outside', 'dir', 'more.yaml'), canary);
  symlinkSync('../chart/deployment.yaml', join(root, 'outside', 'back.yaml'));
  if (start) cpSync(start, chart, { recursive: true });
  else {
    mkdirSync(chart);
    writeFileSync(join(chart, 'deployment.yaml'), deployment);
  }
  for (const e of entries) {
    const at = join(chart, ...e.path);
    try {
      mkdirSync(dirname(at), { recursive: true });
      if (existsSync(at)) continue;
      if (e.kind === 'dir') mkdirSync(at);
      else if (e.kind === 'fifo') execFileSync('mkfifo', [at]);
      else if (e.kind === 'link') {
        const target =
          e.target === '@self'
            ? e.path[e.path.length - 1]
            : e.target.startsWith('@')
              ? join(root, e.target.slice(1))
              : e.target;
        symlinkSync(target, at);
      } else if (e.content === 'sparse') {
        writeFileSync(at, 'x');
        truncateSync(at, 17 * 1024 * 1024);
      } else if (e.content === 'noise')
        writeFileSync(at, Buffer.from(Array.from({ length: 600 * 1024 }, (_, i) => (i * 7919 + ((i * i) >> 3)) & 255)));
      else writeFileSync(at, e.content);
    } catch {
      // A parent that is a file, or a link in the way: this entry is not made.
    }
  }
  return { root, chart };
}

/**
 * Findings in src/infra/render/template-bundle.ts (not ours to fix; see /tmp/notes/fuzz-findings.md):
 * a refusal matching one is counted here rather than failing the property, and the finding's own test
 * below fails until it is fixed. Empty: template-entry-name (names printed raw, a newline split the
 * refusal) is fixed, and its test stays as a regression test.
 */
const knownFindings: Record<string, (message: string) => boolean> = {};
const findingsSeen = new Map<string, number>();

/** A refusal of a folder: names the field and the entry, one bounded line without control characters. */
function expectFolderRefusal(err: unknown): void {
  if (!(err instanceof InvalidInputError)) throw err;
  const known = Object.entries(knownFindings).find(([, shape]) => shape(err.message))?.[0];
  if (known) {
    findingsSeen.set(known, (findingsSeen.get(known) ?? 0) + 1);
    return;
  }
  mustHold(err.message.startsWith(`${field}: `), 'a refusal naming the field', err.message);
  mustHold(!/[\u0000-\u001f\u007f]/.test(err.message), 'a refusal of one line without control characters', err.message);
  mustHold(
    err.message.length <= maxOutputLineChars,
    `a refusal of at most ${maxOutputLineChars} characters`,
    err.message,
  );
}

/** Every file of an accepted bundle is the file at that path inside the folder; nothing from outside. */
function expectBundleOfFolder(bundle: TemplateBundle, chart: string): void {
  const files = JSON.parse(gunzipSync(Buffer.from(bundle.files, 'base64')).toString('utf8')) as Record<string, string>;
  const realChart = realpathSync(chart);
  for (const [name, content] of Object.entries(files)) {
    mustHold(!name.startsWith('/') && !name.split('/').includes('..'), 'a bundle path inside the folder', name);
    const real = realpathSync(join(chart, ...name.split('/')));
    mustHold(
      real === realChart || real.startsWith(realChart + sep),
      'a bundled file whose real path is inside the folder',
      relative(realChart, real),
    );
    const bytes = Buffer.from(content, 'base64');
    mustHold(bytes.equals(readFileSync(real)), 'a bundled file equal to the file in the folder', name);
    mustHold(!bytes.includes(canary), 'no content from outside the folder', name);
  }
}

/** The example spec rendering `chart` as plain manifests (no template values, which address helm values). */
function manifestsSpec(root: string, chart: string): string {
  const spec = parse(readFileSync(join(examples, 'release.yaml'), 'utf8')) as {
    spec: { template: unknown; regions: { values?: unknown }[] };
  };
  spec.spec.template = { manifests: { path: chart } };
  for (const region of spec.spec.regions) delete region.values;
  const file = join(root, 'release.yaml');
  writeFileSync(file, JSON.stringify(spec));
  cpSync(join(examples, 'checks'), join(root, 'checks'), { recursive: true });
  cpSync(join(examples, 'traffic'), join(root, 'traffic'), { recursive: true });
  cpSync(join(examples, 'incidents.csv'), join(root, 'incidents.csv'));
  return file;
}

describe('fuzzed chart and manifest folders', () => {
  it(
    `pack only what is inside the folder, over ${runs} trees (seed ${fuzzSeed})`,
    () => {
      const tally = new FuzzTally('template-folders (pack)');
      fc.assert(
        fc.property(tree, fc.constantFrom<TemplateBundle['kind']>('manifests', 'helm'), (entries, kind) => {
          const { root, chart } = buildCase(entries);
          try {
            let bundle: TemplateBundle | undefined;
            try {
              bundle = packTemplate(chart, kind, 'shop-api', field);
            } catch (err) {
              expectFolderRefusal(err);
            }
            tally.count(bundle !== undefined);
            if (bundle) expectBundleOfFolder(bundle, chart);
          } finally {
            rmSync(root, { recursive: true, force: true });
          }
        }),
        fuzzOptions(runs),
      );
      tally.report();
      if (findingsSeen.size)
        process.stderr.write(
          `fuzz template-folders: known findings hit ${JSON.stringify(Object.fromEntries(findingsSeen))}\n`,
        );
      expect(tally.accepted).toBeGreaterThan(0);
      expect(tally.refused).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );

  // Finding template-entry-name (src/infra/render/template-bundle.ts), found by the fuzzer and fixed there.
  it('finding template-entry-name: a refusal quotes an entry whose name holds a newline or an escape', () => {
    const { root, chart } = buildCase([{ kind: 'link', path: ['new\nline.yaml'], target: '../outside/secret.yaml' }]);
    try {
      let message = '';
      try {
        packTemplate(chart, 'manifests', 'shop-api', field);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^spec\.template\.manifests\.path: .*outside the folder/);
      expect(message).not.toMatch(/[\u0000-\u001f]/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it(
    `render only what is inside the folder through meridian render, over ${renderRuns} manifest folders (seed ${fuzzSeed})`,
    async () => {
      const tally = new FuzzTally('template-folders (render manifests)');
      await fc.assert(
        fc.asyncProperty(tree, async (entries) => {
          const { root, chart } = buildCase(entries);
          try {
            const outcome = await meridian(
              ['render', '-f', manifestsSpec(root, chart), '--region', 'us-east-canary'],
              root,
            );
            const known = Object.entries(knownFindings).find(([, shape]) => shape(outcome.stderr))?.[0];
            if (known) findingsSeen.set(known, (findingsSeen.get(known) ?? 0) + 1);
            else tally.count(expectInputInvariants(outcome, /spec\.template\.manifests\.path|template|\.ya?ml/));
            mustHold(
              !outcome.stdout.includes(canary) && !outcome.stderr.includes(canary),
              'nothing from outside the folder rendered',
              outcome.stdout.slice(0, 2000),
            );
          } finally {
            rmSync(root, { recursive: true, force: true });
          }
        }),
        fuzzOptions(renderRuns),
      );
      tally.report();
      expect(tally.accepted).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );

  (existsSync(helm) ? it : it.skip)(
    `render only what is inside the chart through helm, over ${helmRuns} charts (seed ${fuzzSeed})`,
    async () => {
      const tally = new FuzzTally('template-folders (render helm)');
      await fc.assert(
        fc.asyncProperty(tree, async (entries) => {
          const { root } = buildCase(entries, join(examples, 'chart'));
          try {
            const spec = join(root, 'release.yaml');
            cpSync(join(examples, 'checks'), join(root, 'checks'), { recursive: true });
            cpSync(join(examples, 'traffic'), join(root, 'traffic'), { recursive: true });
            cpSync(join(examples, 'incidents.csv'), join(root, 'incidents.csv'));
            writeFileSync(spec, readFileSync(join(examples, 'release.yaml'), 'utf8'));
            const outcome = await meridian(['render', '-f', spec, '--region', 'us-east-canary'], root, {
              MERIDIAN_HELM: helm,
            });
            const known = Object.entries(knownFindings).find(([, shape]) => shape(outcome.stderr))?.[0];
            if (known) findingsSeen.set(known, (findingsSeen.get(known) ?? 0) + 1);
            else tally.count(expectInputInvariants(outcome, /spec\.template\.helm\.chart|helm|chart|\.ya?ml/));
            mustHold(
              !outcome.stdout.includes(canary) && !outcome.stderr.includes(canary),
              'nothing from outside the chart rendered',
              outcome.stdout.slice(0, 2000),
            );
          } finally {
            rmSync(root, { recursive: true, force: true });
          }
        }),
        fuzzOptions(helmRuns),
      );
      tally.report();
    },
    fuzzTimeoutMs,
  );
});
