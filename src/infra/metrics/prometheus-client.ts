import { z } from 'zod';

/**
 * A small client of the Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`) for queries that
 * name one series. It sums nothing: a query that matches several series is an error naming the query, so
 * that a missing `sum(...)` or a too-wide label selector shows instead of picking one series at random.
 */

export interface QueryOptions {
  /** Evaluation time of an instant query; Prometheus' own clock when absent. */
  time?: Date;
  /** Longest to wait for Prometheus' answer. Default 10 s. */
  timeoutMs?: number;
}

/** A sample as Prometheus writes it: [unix seconds, "value"]. */
const sample = z.tuple([z.number(), z.string()]);
const answer = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({ resultType: z.literal('scalar'), result: sample }),
      z.object({ resultType: z.literal('string'), result: sample }),
      z.object({
        resultType: z.literal('vector'),
        result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: sample })),
      }),
      z.object({
        resultType: z.literal('matrix'),
        result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(sample) })),
      }),
    ]),
  }),
  z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string() }),
]);
type Data = Extract<z.infer<typeof answer>, { status: 'success' }>['data'];

/**
 * The value of an instant query: its single sample, or its scalar. Undefined when the result is empty or
 * NaN (no data yet). Throws when the query matches several series or Prometheus answers an error.
 */
export async function queryInstant(
  baseUrl: string,
  promql: string,
  options: QueryOptions = {},
): Promise<number | undefined> {
  const params = new URLSearchParams({ query: promql });
  if (options.time) params.set('time', String(options.time.getTime() / 1000));
  const data = await query(baseUrl, 'query', params, promql, options.timeoutMs);
  let value: string;
  if (data.resultType === 'scalar') value = data.result[1];
  else if (data.resultType === 'vector') {
    if (data.result.length === 0) return undefined;
    if (data.result.length > 1) throw severalSeries(promql, data.result);
    value = data.result[0].value[1];
  } else
    throw new Error(
      `Prometheus query ${promql} gave a ${data.resultType}, not a single number: use an instant vector or scalar query`,
    );
  const n = sampleValue(value);
  return Number.isNaN(n) ? undefined : n;
}

/**
 * The values of a range query's single series, oldest first, NaN samples dropped. Empty when nothing
 * matched. Throws when the query matches several series or Prometheus answers an error.
 */
export async function queryRange(
  baseUrl: string,
  promql: string,
  start: Date,
  end: Date,
  stepSeconds: number,
  options: Omit<QueryOptions, 'time'> = {},
): Promise<number[]> {
  const params = new URLSearchParams({
    query: promql,
    start: String(start.getTime() / 1000),
    end: String(end.getTime() / 1000),
    step: String(stepSeconds),
  });
  const data = await query(baseUrl, 'query_range', params, promql, options.timeoutMs);
  if (data.resultType !== 'matrix')
    throw new Error(`Prometheus range query ${promql} gave a ${data.resultType}, expected a matrix`);
  if (data.result.length === 0) return [];
  if (data.result.length > 1) throw severalSeries(promql, data.result);
  return data.result[0].values.map(([, v]) => sampleValue(v)).filter((n) => !Number.isNaN(n));
}

/** Asks Prometheus and returns its data, or throws with the query and Prometheus' own error text. */
async function query(
  baseUrl: string,
  endpoint: string,
  params: URLSearchParams,
  promql: string,
  timeoutMs = 10_000,
): Promise<Data> {
  const url = `${baseUrl.replace(/\/+$/, '')}/api/v1/${endpoint}?${params}`;
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
  } catch (err) {
    if ((err as Error).name === 'TimeoutError')
      throw new Error(`Prometheus at ${baseUrl} did not answer query ${promql} within ${timeoutMs}ms`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(
      `no answer from Prometheus at ${baseUrl} for query ${promql}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(
      `Prometheus at ${baseUrl} answered query ${promql} with HTTP ${res.status} and no JSON: ${text.slice(0, 200)}`,
    );
  }
  const parsed = answer.safeParse(body);
  if (!parsed.success)
    throw new Error(
      `Prometheus at ${baseUrl} answered query ${promql} with HTTP ${res.status} in a form this client does not know: ${text.slice(0, 200)}`,
    );
  if (parsed.data.status === 'error') {
    const type = parsed.data.errorType ? ` (${parsed.data.errorType})` : '';
    throw new Error(`Prometheus refused query ${promql}${type}: ${parsed.data.error}`);
  }
  return parsed.data.data;
}

/** Prometheus writes infinities as +Inf and -Inf. */
function sampleValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

function severalSeries(promql: string, result: { metric: Record<string, string> }[]): Error {
  const shown = result.slice(0, 3).map(
    (r) =>
      `{${Object.entries(r.metric)
        .map(([k, v]) => `${k}="${v}"`)
        .join(', ')}}`,
  );
  const more = result.length > 3 ? ` and ${result.length - 3} more` : '';
  return new Error(
    `Prometheus query ${promql} matched ${result.length} series (${shown.join(', ')}${more}), expected one: aggregate it, e.g. sum(...), or narrow its labels`,
  );
}
