import type { MetricCounter, MetricGauge, MetricHistogram, MetricMeter, MetricTags } from '@temporalio/common';

/** One value a metric was given. */
export interface RecordedMetric {
  name: string;
  kind: 'counter' | 'histogram' | 'gauge';
  unit?: string;
  value: number;
  tags: MetricTags;
}

/** A metric meter for tests that keeps every value it is given, with its tags (withTags ones included). */
export function recordingMeter(
  base: MetricTags = {},
  recorded: RecordedMetric[] = [],
): MetricMeter & { recorded: RecordedMetric[] } {
  const keep =
    (name: string, kind: RecordedMetric['kind'], unit: string | undefined, own: MetricTags = {}) =>
    (value: number, tags: MetricTags = {}): void => {
      recorded.push({ name, kind, unit, value, tags: { ...base, ...own, ...tags } });
    };
  const counter = (name: string, unit?: string, description?: string, own?: MetricTags): MetricCounter => ({
    name,
    unit,
    description,
    kind: 'counter',
    valueType: 'int',
    add: keep(name, 'counter', unit, own),
    withTags: (tags) => counter(name, unit, description, { ...own, ...tags }),
  });
  const histogram = (
    name: string,
    valueType: 'int' | 'float',
    unit?: string,
    description?: string,
    own?: MetricTags,
  ): MetricHistogram => ({
    name,
    unit,
    description,
    kind: 'histogram',
    valueType,
    record: keep(name, 'histogram', unit, own),
    withTags: (tags) => histogram(name, valueType, unit, description, { ...own, ...tags }),
  });
  const gauge = (
    name: string,
    valueType: 'int' | 'float',
    unit?: string,
    description?: string,
    own?: MetricTags,
  ): MetricGauge => ({
    name,
    unit,
    description,
    kind: 'gauge',
    valueType,
    set: keep(name, 'gauge', unit, own),
    withTags: (tags) => gauge(name, valueType, unit, description, { ...own, ...tags }),
  });
  return {
    recorded,
    createCounter: (name, unit, description) => counter(name, unit, description),
    createHistogram: (name, valueType = 'int', unit, description) => histogram(name, valueType, unit, description),
    createGauge: (name, valueType = 'int', unit, description) => gauge(name, valueType, unit, description),
    withTags: (tags) => recordingMeter({ ...base, ...tags }, recorded),
  };
}
