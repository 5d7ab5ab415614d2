import { fillQuery } from '../../domain/bake-analysis';
import type { ResourceUse } from '../../domain/load-report';
import { queryRange } from '../metrics/prometheus-client';

export interface ResourceQueries {
  cpu?: string;
  memory?: string;
}

/**
 * CPU and memory of the service over the load test, from Prometheus: mean and peak CPU cores, peak
 * memory. A query that fails or returns nothing leaves its figure out, with a note saying why.
 */
export async function resourceUse(
  prometheusUrl: string,
  queries: ResourceQueries,
  placeholders: Record<string, string>,
  from: Date,
  to: Date,
): Promise<ResourceUse> {
  const use: ResourceUse = { notes: [] };
  const step = Math.max(1, Math.round((to.getTime() - from.getTime()) / 1000 / 60));
  const read = async (name: string, query: string | undefined): Promise<number[] | undefined> => {
    if (!query) return undefined;
    try {
      const values = await queryRange(prometheusUrl, fillQuery(query, placeholders), from, to, step);
      if (values.length === 0) use.notes.push(`${name}: the query returned no data for the test's time range`);
      return values.length ? values : undefined;
    } catch (err) {
      use.notes.push(`${name}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const [cpu, memory] = await Promise.all([read('cpu', queries.cpu), read('memory', queries.memory)]);
  if (cpu) use.cpuCores = { mean: cpu.reduce((a, b) => a + b, 0) / cpu.length, max: Math.max(...cpu) };
  if (memory) use.memoryBytes = { max: Math.max(...memory) };
  return use;
}
