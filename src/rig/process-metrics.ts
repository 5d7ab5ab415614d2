/**
 * The resource use of this process in Prometheus' text format, under the names Prometheus' own client
 * libraries use, so that load tests can ask for the CPU and memory of the service under load. Every
 * demo service runs in the one demo-services process: each region's /metrics reports the same process,
 * labelled with the region that was scraped.
 */
export function processMetricsExposition(region: string): string {
  const cpu = process.cpuUsage();
  const labels = `{region="${region}"}`;
  const startSeconds = performance.timeOrigin / 1000;
  return [
    '# HELP process_cpu_seconds_total User and system CPU time of the demo-services process, in seconds.',
    '# TYPE process_cpu_seconds_total counter',
    `process_cpu_seconds_total${labels} ${(cpu.user + cpu.system) / 1e6}`,
    '# HELP process_resident_memory_bytes Resident memory of the demo-services process, in bytes.',
    '# TYPE process_resident_memory_bytes gauge',
    `process_resident_memory_bytes${labels} ${process.memoryUsage.rss()}`,
    '# HELP process_start_time_seconds Start of the demo-services process, in seconds since the epoch.',
    '# TYPE process_start_time_seconds gauge',
    `process_start_time_seconds${labels} ${startSeconds.toFixed(3)}`,
    '',
  ].join('\n');
}
