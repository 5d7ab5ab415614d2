import { z } from 'zod';
import { weekdays } from './deploy-window';
import { maxHistoryMs, maxTimerMs } from './duration';
import { quoteExcerpt } from './excerpt';
import { buildRolloutPlan } from './rollout-plan';
import { dnsLabel, durationField } from './schema-helpers';
import { trafficRegionProblems, trafficSchema } from './traffic-spec';
import { parseValuePath, prototypeKeyPaths } from './value-paths';

/**
 * The release spec (`kind: Release`): what a platform team asks Meridian to roll out. The schema is the
 * single source of the spec's types and of the JSON Schema exported for editors. Objects are strict:
 * an unknown field is an error, so a misspelt field never silently does nothing.
 */

/** Largest share a percentage field takes: 1000% (10 as a fraction). */
export const maxShare = 10;

/** A share written as `20%` (or a fraction such as 0.2), at most 1000%. */
const percentField = () =>
  z
    .union([z.number().min(0), z.string().regex(/^\d+(\.\d+)?%$/, 'expected a percentage such as 20%')])
    .transform((v) => (typeof v === 'number' ? v : Number(v.slice(0, -1)) / 100))
    .refine((share) => share <= maxShare, {
      error: `at most 1000% (or 10 as a fraction): give a smaller share, such as 20%`,
    });

/** Most requests per second a region's traffic or a load test may give. */
export const maxRequestRate = 1_000_000;

/** Most measurements a count field of bake analysis may name. */
const maxCount = 10_000;

/** A Unicode script name as in `\p{Script=...}`: Latin, Hangul, Arabic, Devanagari, Han, Cyrillic, ... */
const scriptName = z.string().refine(
  (name) => {
    try {
      new RegExp(`\\p{Script=${name}}`, 'u');
      return /^[A-Za-z_]+$/.test(name);
    } catch {
      return false;
    }
  },
  {
    error: (iss) =>
      `unknown Unicode script ${quoteExcerpt(String(iss.input))}: use a name such as Latin, Hangul, Arabic, Devanagari, Han or Cyrillic`,
  },
);

export const trafficLevels = ['low', 'medium', 'high'] as const;
export const networkQualities = ['good', 'fair', 'poor'] as const;

export const regionTraitsSchema = z
  .strictObject({
    traffic: z
      .union([
        z.enum(trafficLevels),
        z.number().nonnegative().max(maxRequestRate, `at most ${maxRequestRate} requests per second`),
      ])
      .describe('How much traffic the region serves: low | medium | high, or requests per second'),
    mobileShare: z.number().min(0).max(1).default(0).describe('Share of requests from mobile clients, 0 to 1'),
    scripts: z
      .array(scriptName)
      .default(['Latin'])
      .describe('Unicode scripts seen in user input, e.g. [Hangul, Latin]'),
    apis: z.array(z.string().min(1)).default([]).describe('APIs the region uses, e.g. [catalog, checkout, payments]'),
    network: z.enum(networkQualities).default('good').describe("Quality of the region's client networks"),
  })
  .describe('What the region exercises; the planner orders regions by these');
export type RegionTraits = z.infer<typeof regionTraitsSchema>;

export const regionRoles = ['production', 'staging'] as const;

export const imageReplicationModes = ['copy', 'geo-replicated'] as const;

const hhmm = (text: string) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));

/** Whether `YYYY-MM-DD` is a date of the calendar (not 2026-02-30 or 2026-13-01). */
function isCalendarDate(text: string): boolean {
  const [year, month, day] = text.split('-').map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
export const deployWindowSchema = z
  .strictObject({
    timezone: z
      .string()
      .refine(
        (tz) => {
          try {
            new Intl.DateTimeFormat('en-US', { timeZone: tz });
            return true;
          } catch {
            return false;
          }
        },
        {
          error: (iss) =>
            `unknown time zone ${quoteExcerpt(String(iss.input))}: use an IANA name such as Asia/Seoul or Europe/Berlin`,
        },
      )
      .describe("The region's time zone (IANA), e.g. Asia/Seoul"),
    hours: z
      .string()
      .regex(
        /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/,
        'expected local hours such as 09:00-17:00 (22:00-06:00 spans midnight)',
      )
      .refine((hours) => hours.length !== 11 || hours.slice(0, 5) !== hours.slice(6), {
        error: (iss) =>
          `${String(iss.input)} opens and closes at the same minute, so the window never opens: give a closing time after the opening, such as 09:00-17:00; to deploy at any hour, remove deployWindow`,
      })
      .describe('Local hours deploys may start in'),
    days: z
      .array(z.enum(weekdays))
      .min(1)
      .default([...weekdays])
      .describe('Days of the week, e.g. [mon, tue, wed, thu, fri]'),
    blocked: z
      .array(
        z
          .string()
          .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a local date such as 2026-12-25')
          .refine((date) => !/^\d{4}-\d{2}-\d{2}$/.test(date) || isCalendarDate(date), {
            error: (iss) =>
              `${String(iss.input)} is not a date of the calendar: give one that exists, such as 2026-12-25`,
          }),
      )
      .default([])
      .describe('Local dates with no deploys'),
  })
  .transform(({ hours, ...w }) => ({ ...w, from: hhmm(hours.slice(0, 5)), to: hhmm(hours.slice(6)) }))
  .describe('When the region may be deployed; outside it, the release waits for the next opening');

export const regionSchema = z.strictObject({
  name: dnsLabel.describe('Region name, unique in the release'),
  role: z
    .enum(regionRoles)
    .default('production')
    .describe(
      'production serves users; staging is a synthetic environment, deployed and proven (checks, load test) before any production region',
    ),
  canary: z.boolean().default(false).describe('The canary goes first and soaks for rollout.canarySoak'),
  cluster: z
    .strictObject({
      context: z.string().min(1).describe("Kubeconfig context of the region's cluster, from the worker's kubeconfig"),
      namespace: dnsLabel.describe('Namespace the region deploys to'),
    })
    .describe('Where the region runs'),
  registry: z
    .string()
    .regex(
      /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._/-]+)?$/i,
      'expected a registry host[:port], such as eu.registry.example.com or 127.0.0.1:5102',
    )
    .describe('Registry the region pulls from'),
  endpoint: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL, such as https://eu.shop.example.com' })
    .describe('Base URL the checks call'),
  traits: regionTraitsSchema,
  values: z
    .record(z.string(), z.unknown())
    .default({})
    .describe('Template values for this region, merged over spec.template.values'),
  deployWindow: deployWindowSchema.optional(),
  rollout: z
    .strictObject({
      pin: z.enum(['first', 'last']).optional().describe('first: the first production region; last: in the last wave'),
      after: dnsLabel.optional().describe('Not before this region has gone'),
    })
    .optional()
    .describe('Adjusts where waves: auto puts the region'),
});
export type RegionSpec = z.infer<typeof regionSchema>;

export const templateSchema = z
  .strictObject({
    helm: z
      .strictObject({
        chart: z.string().min(1).describe('Path of a Helm chart folder, relative to the spec file'),
        releaseName: dnsLabel.optional().describe('Helm release name (default: the app name)'),
      })
      .optional()
      .describe('Render with Helm'),
    manifests: z
      .strictObject({ path: z.string().min(1).describe('Folder of plain YAML manifests, relative to the spec file') })
      .optional()
      .describe('Plain manifests, with values applied by path'),
    values: z.record(z.string(), z.unknown()).default({}).describe('Values shared by every region'),
  })
  .refine((t) => (t.helm ? 1 : 0) + (t.manifests ? 1 : 0) === 1, {
    error: 'give exactly one of helm or manifests',
  })
  .describe('One template, rendered per region with its values');

const thresholdsSchema = z.strictObject({
  errorRate: z.number().min(0).max(1).optional().describe('Highest acceptable share of failed requests'),
  p99: durationField(maxTimerMs).optional().describe('Highest acceptable 99th percentile latency'),
  regression: z
    .strictObject({
      p50: percentField().optional(),
      p90: percentField().optional(),
      p99: percentField().optional(),
      max: percentField().optional(),
    })
    .optional()
    .describe('Largest acceptable worsening against the last successful release, e.g. { p99: 20% }'),
});

/** A comparison such as `< 0.01` or `>= 100`, the condition a measured value must meet. */
export const comparisonOperators = ['<', '<=', '>', '>=', '==', '!='] as const;
const comparisonField = () =>
  z
    .string()
    .regex(
      /^\s*(<=|>=|==|!=|<|>)\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/,
      "expected a comparison such as '< 0.01' or '>= 100'",
    )
    .transform((text, ctx) => {
      const [, op, value] = /^\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$/.exec(text)!;
      if (!Number.isFinite(Number(value))) {
        ctx.addIssue({
          code: 'custom',
          message: `the value of ${quoteExcerpt(text)} is too large to be a number: give one such as '< 0.01' or '>= 100'`,
        });
        return z.NEVER;
      }
      return { op: op as (typeof comparisonOperators)[number], value: Number(value) };
    });

const promqlField = () =>
  z
    .string()
    .min(1)
    .describe(
      'PromQL; {{region}}, {{namespace}}, {{app}}, {{version}} and {{window}} (the bake so far, e.g. 300s) are filled in',
    );

export const analysisSchema = z
  .strictObject({
    interval: durationField()
      .refine((ms) => ms >= 1000, 'measure at most once a second: give 1s or more, such as 30s')
      .default(30_000)
      .describe('Time between two measurements'),
    failureLimit: z
      .number()
      .int()
      .min(0)
      .max(maxCount)
      .default(0)
      .describe('Failed measurements tolerated; one more fails the bake at once'),
    inconclusiveLimit: z
      .number()
      .int()
      .min(0)
      .max(maxCount)
      .default(2)
      .describe('Inconclusive measurements (no data) tolerated; one more pauses the release for an operator'),
    minSamples: z
      .number()
      .int()
      .min(1)
      .max(maxCount)
      .default(3)
      .describe('Conclusive measurements a bake needs before it may pass'),
    minRequests: z
      .strictObject({
        query: promqlField().describe(
          'Requests the region served during the bake, e.g. sum(increase(http_requests_total{region="{{region}}"}[{{window}}]))',
        ),
        min: z.number().min(0).max(1e12).describe('Fewest requests for a conclusive bake'),
      })
      .optional()
      .describe('Traffic a bake needs before it may pass; with less, it is inconclusive'),
    probes: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          path: z.string().startsWith('/', 'expected a path starting with /, such as /healthz'),
          status: z.number().int().min(100).max(599).default(200),
          maxLatency: durationField(maxTimerMs).optional().describe('Slowest acceptable answer'),
        }),
      )
      .default([])
      .describe("HTTP probes of the region's endpoint"),
    metrics: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          query: promqlField(),
          pass: comparisonField().describe("Condition of a good value, e.g. '< 0.01'"),
          fail: comparisonField()
            .optional()
            .describe(
              'Condition of a bad value; values meeting neither are inconclusive (default: every value that does not pass fails)',
            ),
        }),
      )
      .default([])
      .describe('Prometheus queries with success and failure conditions'),
  })
  .refine((a) => a.probes.length + a.metrics.length > 0, { error: 'give at least one probe or metric to measure' })
  .describe('Health measured on an interval while a region bakes and while the canary soaks');
export type AnalysisSpec = z.infer<typeof analysisSchema>;

export const validationSchema = z
  .strictObject({
    integration: z
      .strictObject({
        suite: z.string().min(1).describe('Check suite file (http, job and command checks), relative to the spec file'),
      })
      .optional(),
    prometheus: z
      .strictObject({
        url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL, such as http://prometheus:9090' }),
      })
      .optional()
      .describe('Prometheus that load tests and bake analysis query'),
    load: z
      .strictObject({
        replay: z.string().min(1).describe('Recorded traffic to replay (JSON Lines or combined access log)'),
        rate: z
          .number()
          .int('expected a whole number of requests per second, such as 200')
          .min(1)
          .max(maxRequestRate, `at most ${maxRequestRate} requests per second`)
          .describe('Requests per second'),
        duration: durationField(maxTimerMs)
          .refine((ms) => ms >= 1000, 'give a load test of 1s or more, such as 30s')
          .describe('How long to replay'),
        connections: z.number().int().min(1).max(1000).default(10).describe('Connections kept open to the endpoint'),
        thresholds: thresholdsSchema.default({}),
        resources: z
          .strictObject({
            cpu: promqlField()
              .optional()
              .describe(
                'CPU cores the service uses, e.g. sum(rate(process_cpu_seconds_total{namespace="{{namespace}}"}[30s]))',
              ),
            memory: promqlField().optional().describe('Memory bytes the service uses'),
          })
          .optional()
          .describe('Resource use of the service under load, from Prometheus'),
      })
      .optional()
      .describe('Load test run in staging regions before any production region'),
    analysis: analysisSchema.optional(),
  })
  .default({});

export const onFailurePolicies = ['rollback-region', 'halt', 'rollback-all'] as const;

const explicitWave = z.union([
  z.array(dnsLabel).min(1),
  z.strictObject({
    regions: z.array(dnsLabel).min(1),
    bake: durationField().optional().describe('Bake after this wave'),
  }),
]);

export const rolloutSchema = z.strictObject({
  canarySoak: durationField().default(0).describe('How long the canary soaks before production regions'),
  timeToSmoke: z
    .strictObject({
      incidents: z.string().min(1).optional().describe('Incident history CSV, relative to the spec file'),
      method: z.enum(['twice-mean', 'percentile']).default('twice-mean'),
      percentile: z.number().gt(0).max(100).default(95),
      window: durationField(maxHistoryMs).default(180 * 86_400_000),
      floor: durationField().default(30 * 60_000),
      ceiling: durationField().default(12 * 3_600_000),
      growth: percentField()
        .optional()
        .describe(
          'Each production wave bakes this much longer than the one before (e.g. 25%), up to the ceiling: later waves reach more users',
        ),
    })
    .default({
      method: 'twice-mean',
      percentile: 95,
      window: 180 * 86_400_000,
      floor: 30 * 60_000,
      ceiling: 12 * 3_600_000,
    })
    .describe('Bake time between waves, from incident history'),
  waves: z
    .union([z.literal('auto'), z.array(explicitWave).min(1)])
    .default('auto')
    .describe('auto, or an explicit list of waves'),
  maxParallel: z.number().int().min(1).max(1000).default(1).describe('Most regions of a wave deployed at once'),
  approvals: z
    .array(z.string().regex(/^(after-canary|after-wave-[1-9]\d*)$/, 'expected after-canary or after-wave-N'))
    .default([])
    .describe('Gates an operator must approve'),
  onFailure: z.enum(onFailurePolicies).default('rollback-region').describe('What a failing region does'),
});

export const releaseSpecSchema = z
  .strictObject({
    apiVersion: z.literal('meridian.dev/v1alpha1'),
    kind: z.literal('Release'),
    metadata: z.strictObject({
      app: dnsLabel.describe('Application name; with the version it identifies the release'),
      version: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/, 'expected a version such as 2.4.0 or 2.4.0-rc.1')
        .describe('Version being released'),
      description: z.string().optional().describe('Free text, any script'),
    }),
    spec: z.strictObject({
      image: z.strictObject({
        name: z
          .string()
          .regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, 'expected a repository path such as shop/api')
          .describe('Repository path, the same in every registry'),
        tag: z
          .string()
          .regex(/^[\w][\w.-]{0,127}$/, 'expected an image tag such as 2.4.0')
          .describe('Tag CI pushed'),
        source: z.string().min(1).describe('Registry CI pushed to'),
        replication: z
          .strictObject({
            mode: z
              .enum(imageReplicationModes)
              .default('copy')
              .describe(
                "copy: Meridian copies the image into each region's registry; geo-replicated: the registry replicates it, Meridian waits until it is there",
              ),
            timeout: durationField(maxTimerMs)
              .refine((ms) => ms >= 1000, 'give 1s or more, such as 10m')
              .default(10 * 60_000)
              .describe("How long one registry's copy, or the wait for geo-replication, may take"),
          })
          .prefault({})
          .describe("How the image reaches each region's registry; every region then deploys it by digest"),
      }),
      template: templateSchema,
      regions: z.array(regionSchema).min(1, 'list at least one region'),
      validation: validationSchema,
      rollout: rolloutSchema.default(rolloutSchema.parse({})),
      traffic: trafficSchema.optional(),
    }),
  })
  .superRefine((release, ctx) => {
    const { regions, rollout } = release.spec;
    const names = new Map<string, number>();
    const targets = new Map<string, string>();
    regions.forEach((r, i) => {
      if (names.has(r.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['spec', 'regions', i, 'name'],
          message: `duplicate region name ${quoteExcerpt(r.name)} (also spec.regions[${names.get(r.name)}]): give each region its own name`,
        });
      }
      names.set(r.name, i);
      const target = `${r.cluster.context}/${r.cluster.namespace}`;
      const other = targets.get(target);
      if (other)
        ctx.addIssue({
          code: 'custom',
          path: ['spec', 'regions', i, 'cluster'],
          message: `${quoteExcerpt(target)} is already the target of region ${quoteExcerpt(other)}: two regions cannot share a namespace`,
        });
      targets.set(target, r.name);
    });
    const production = new Set(regions.filter((r) => r.role !== 'staging').map((r) => r.name));
    regions.forEach((r, i) => {
      const after = r.rollout?.after;
      if (after !== undefined && (!production.has(after) || after === r.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['spec', 'regions', i, 'rollout', 'after'],
          message: `${quoteExcerpt(after)} is not another production region: name one of ${[...production].filter((n) => n !== r.name).join(', ')}`,
        });
      }
      if ((r.canary || r.role === 'staging') && r.rollout) {
        ctx.addIssue({
          code: 'custom',
          path: ['spec', 'regions', i, 'rollout'],
          message: `${r.canary ? 'the canary always goes first' : 'staging regions always go first'}: remove rollout here`,
        });
      }
    });
    const afterOf = new Map(regions.map((r) => [r.name, r.rollout?.after]));
    regions.forEach((r, i) => {
      const seen = new Set([r.name]);
      for (let next = afterOf.get(r.name); next; next = afterOf.get(next)) {
        if (seen.has(next)) {
          ctx.addIssue({
            code: 'custom',
            path: ['spec', 'regions', i, 'rollout', 'after'],
            message: `rollout.after goes round in a circle (${[...seen, next].join(' -> ')}): break it`,
          });
          break;
        }
        seen.add(next);
      }
    });
    regions.forEach((r, i) => {
      if (r.role === 'staging' && r.canary) {
        ctx.addIssue({
          code: 'custom',
          path: ['spec', 'regions', i, 'canary'],
          message: 'a staging region cannot be the canary: the canary serves users; remove canary or the staging role',
        });
      }
    });
    if (release.spec.traffic) {
      for (const { path, message } of trafficRegionProblems(release.spec.traffic, regions))
        ctx.addIssue({ code: 'custom', path: ['spec', 'traffic', ...path], message });
    }
    const { validation } = release.spec;
    const needsPrometheus = [
      validation.load?.resources ? ['spec', 'validation', 'load', 'resources'] : undefined,
      validation.analysis?.minRequests ? ['spec', 'validation', 'analysis', 'minRequests'] : undefined,
      validation.analysis?.metrics.length ? ['spec', 'validation', 'analysis', 'metrics'] : undefined,
    ].filter((p) => p !== undefined);
    if (!validation.prometheus) {
      for (const path of needsPrometheus) {
        ctx.addIssue({ code: 'custom', path, message: 'this queries Prometheus: add spec.validation.prometheus.url' });
      }
    }
    // Template values never reach an object's prototype (checked again when rendering).
    const valueSets = [
      { values: release.spec.template.values, path: ['spec', 'template', 'values'] },
      ...regions.map((r, i) => ({ values: r.values, path: ['spec', 'regions', i, 'values'] })),
    ];
    for (const { values, path } of valueSets) {
      for (const at of prototypeKeyPaths(values)) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, ...at],
          message:
            'a key named "__proto__" is no template value and would reach the prototype of every object: remove it',
        });
      }
      if (!release.spec.template.manifests) continue;
      for (const key of Object.keys(values)) {
        const parsed = parseValuePath(key);
        // Other malformed value paths are refused when rendering, as before.
        if ('reachesPrototype' in parsed)
          ctx.addIssue({ code: 'custom', path: [...path, key], message: parsed.problem });
      }
    }
    if (!regions.some((r) => r.canary)) {
      ctx.addIssue({
        code: 'custom',
        path: ['spec', 'regions'],
        message: 'no canary region: mark the region that goes first with `canary: true`',
      });
    }
    const tts = rollout.timeToSmoke;
    if (tts.floor > tts.ceiling) {
      ctx.addIssue({
        code: 'custom',
        path: ['spec', 'rollout', 'timeToSmoke', 'floor'],
        message: 'floor is above ceiling: lower the floor or raise the ceiling',
      });
    }
    if (rollout.waves !== 'auto') {
      const seen = new Map<string, number>();
      rollout.waves.forEach((wave, w) => {
        const list = Array.isArray(wave) ? wave : wave.regions;
        list.forEach((name, j) => {
          const path = ['spec', 'rollout', 'waves', w, ...(Array.isArray(wave) ? [] : ['regions']), j];
          if (!names.has(name))
            ctx.addIssue({
              code: 'custom',
              path,
              message: `unknown region ${quoteExcerpt(name)}: use one of ${regions
                .filter((r) => r.role !== 'staging')
                .map((r) => r.name)
                .join(', ')}`,
            });
          else if (seen.has(name))
            ctx.addIssue({
              code: 'custom',
              path,
              message: `region ${quoteExcerpt(name)} is already in wave ${seen.get(name)! + 1}: list each region once`,
            });
          // A region belongs to the first wave that lists it; a repeat is reported above, not moved.
          if (!seen.has(name)) seen.set(name, w);
        });
      });
      const staging = new Set(regions.filter((r) => r.role === 'staging').map((r) => r.name));
      rollout.waves.forEach((wave, w) => {
        (Array.isArray(wave) ? wave : wave.regions).forEach((name, j) => {
          if (staging.has(name)) {
            ctx.addIssue({
              code: 'custom',
              path: ['spec', 'rollout', 'waves', w, ...(Array.isArray(wave) ? [] : ['regions']), j],
              message: `${quoteExcerpt(name)} is a staging region: staging regions always go first, before the waves; remove it here`,
            });
          }
        });
      });
      const missing = [...names.keys()].filter((n) => !seen.has(n) && !staging.has(n));
      if (missing.length)
        ctx.addIssue({
          code: 'custom',
          path: ['spec', 'rollout', 'waves'],
          message: `regions in no wave: ${missing.join(', ')}; add them to a wave`,
        });
      regions
        .filter((r) => r.canary && seen.has(r.name) && seen.get(r.name) !== 0)
        .forEach((r) => {
          ctx.addIssue({
            code: 'custom',
            path: ['spec', 'rollout', 'waves'],
            message: `canary region ${quoteExcerpt(r.name)} must be in the first wave`,
          });
        });
    }
  })
  // Only on an otherwise valid spec: the planner needs sane input (maxParallel of 1 or more, known regions).
  .check(
    z.superRefine((release, ctx) => refuseUnreachableGates(release, ctx), {
      when: (payload) => payload.issues.length === 0,
    }),
  );

/**
 * Gates that no wave reaches would be approved by no one and wait for nothing: refuse them. The waves are
 * the plan's (auto waves as the planner makes them), counted without the staging wave, as the workflow
 * counts them.
 */
function refuseUnreachableGates(
  release: ReleaseSpec,
  ctx: { addIssue: (issue: { code: 'custom'; path: (string | number)[]; message: string }) => void },
): void {
  const { regions, rollout } = release.spec;
  if (rollout.approvals.length > 0) {
    let waves: string[][];
    try {
      waves = buildRolloutPlan(release, { bakeMs: 0 })
        .waves.filter((w) => !w.staging)
        .map((w) => w.regions);
    } catch {
      return;
    }
    const canaries = new Set(regions.filter((r) => r.canary).map((r) => r.name));
    rollout.approvals.forEach((gate, i) => {
      const path = ['spec', 'rollout', 'approvals', i];
      const n = Number(/^after-wave-(\d+)$/.exec(gate)?.[1] ?? NaN);
      const last =
        waves.length > 1
          ? `after-wave-${waves.length - 1} (before the last wave)`
          : 'no gate: a release of one wave has none';
      if (gate === 'after-canary' && (waves.length < 2 || !waves[0].every((name) => canaries.has(name)))) {
        const why =
          waves.length < 2 ? 'no wave follows the canary' : 'the first wave holds regions that are not canaries';
        ctx.addIssue({
          code: 'custom',
          path,
          message: `after-canary is never reached: ${why}; use ${waves.length < 2 ? last : 'after-wave-1'}, or remove it`,
        });
      } else if (Number.isFinite(n) && n >= waves.length) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `${gate} is never reached: it waits before wave ${n + 1}, and there are only ${waves.length} waves; the last gate is ${last}, or remove it`,
        });
      }
    });
  }
}

/** A validated release spec, with durations in milliseconds and defaults filled in. */
export type ReleaseSpec = z.infer<typeof releaseSpecSchema>;
/** The spec as written in YAML, before defaults and conversions. */
export type ReleaseSpecInput = z.input<typeof releaseSpecSchema>;
