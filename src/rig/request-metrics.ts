/** Upper bounds (seconds) of the latency histogram buckets. */
const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Series {
  count: number;
  sum: number;
  buckets: number[];
}

/**
 * Request counters and a latency histogram in Prometheus' text format, so that a real Prometheus can
 * scrape a demo service and bake-time analysis can query it.
 */
export class RequestMetrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Series>();

  constructor(private readonly region: string) {}

  observe(version: string, status: number, elapsedMs: number): void {
    const key = `${version}\u0000${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const series = this.latency.get(version) ?? { count: 0, sum: 0, buckets: buckets.map(() => 0) };
    const seconds = elapsedMs / 1000;
    series.count += 1;
    series.sum += seconds;
    buckets.forEach((le, i) => {
      if (seconds <= le) series.buckets[i] += 1;
    });
    this.latency.set(version, series);
  }

  exposition(): string {
    const lines = [
      '# HELP demo_http_requests_total Requests answered, by version and status code.',
      '# TYPE demo_http_requests_total counter',
    ];
    for (const [key, n] of this.requests) {
      const [version, code] = key.split('\u0000');
      lines.push(`demo_http_requests_total{region="${this.region}",version="${version}",code="${code}"} ${n}`);
    }
    lines.push(
      '# HELP demo_http_request_duration_seconds Time to answer a request.',
      '# TYPE demo_http_request_duration_seconds histogram',
    );
    for (const [version, s] of this.latency) {
      const labels = `region="${this.region}",version="${version}"`;
      buckets.forEach((le, i) =>
        lines.push(`demo_http_request_duration_seconds_bucket{${labels},le="${le}"} ${s.buckets[i]}`),
      );
      lines.push(`demo_http_request_duration_seconds_bucket{${labels},le="+Inf"} ${s.count}`);
      lines.push(`demo_http_request_duration_seconds_sum{${labels}} ${s.sum}`);
      lines.push(`demo_http_request_duration_seconds_count{${labels}} ${s.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

/**
 * The gauge `demo_misbehaving_since_seconds{region,version}`: for each version that misbehaves now, since
 * when (seconds since the epoch). A version that behaves, or is no longer rolled out, has no series.
 */
export function misbehaviourExposition(region: string, sinceMs: Record<string, number>): string {
  const lines = [
    '# HELP demo_misbehaving_since_seconds Since when a rolled-out version misbehaves, in seconds since the epoch.',
    '# TYPE demo_misbehaving_since_seconds gauge',
  ];
  for (const [version, since] of Object.entries(sinceMs)) {
    lines.push(`demo_misbehaving_since_seconds{region="${region}",version="${version}"} ${(since / 1000).toFixed(3)}`);
  }
  return `${lines.join('\n')}\n`;
}
