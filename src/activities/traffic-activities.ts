import type { Logger } from 'pino';
import { trafficAt, type RegionTraffic } from '../domain/traffic-policy';
import type { TrafficSpec } from '../domain/traffic-spec';
import { trafficProvider } from '../infra/traffic/steering-target';
import { classified } from './classify-failure';

/** A region's new share of its hostname's answers, and what to record with it. */
export interface SteerRegionInput {
  steering: TrafficSpec;
  region: string;
  /** 0 drains, 1 restores, between ramps. */
  share: number;
  note: { by: string; reason: string; at: string; release?: string };
  /**
   * The release taking the step, for the logs; the note names another when the step puts back a state
   * an earlier release left. Absent from steps scheduled before it was added.
   */
  release?: string;
}

export interface TrafficActivityDeps {
  logger: Logger;
  /** Where the DNS API's key is looked up (the spec names the variable); process.env by default. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The traffic steps of a region: each writes the region's state and the answers derived from every
 * region's state, idempotently (a retry writes the same). The key comes from the worker's environment
 * or a Secret at each call, and goes nowhere else.
 */
export function createTrafficActivities(deps: TrafficActivityDeps) {
  const env = () => deps.env ?? process.env;
  return {
    /**
     * Sets a region's share of the answers (after checking the DNS server can steer the hostname), and
     * says the state it had before (none: never written, so in service).
     */
    async steerRegion(input: SteerRegionInput): Promise<RegionTraffic & { previous?: RegionTraffic }> {
      return classified(async () => {
        const provider = await trafficProvider(input.steering, env());
        await provider.preflight();
        const traffic = trafficAt(input.share, input.note);
        const previous = await provider.setRegion(input.region, traffic);
        deps.logger.info(
          {
            region: input.region,
            hostname: input.steering.hostname,
            mode: traffic.mode,
            share: traffic.share,
            ...(input.release ? { release: input.release } : {}),
          },
          'traffic steered',
        );
        return { ...traffic, ...(previous ? { previous } : {}) };
      });
    },

    /**
     * Checks the DNS server can steer the hostname and publishes the answers as the states are: the
     * step before a region that keeps its users deploys, so a DNS fault fails it before its cluster is touched.
     */
    async prepareSteering(input: { steering: TrafficSpec; region: string; release: string }): Promise<void> {
      await classified(async () => {
        const provider = await trafficProvider(input.steering, env());
        await provider.preflight();
        await provider.publish(`${input.region} deploying (keeps its users)`);
      });
    },
  };
}
