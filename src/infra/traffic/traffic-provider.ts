import type { RegionHealth, RegionTraffic, SteeredRegion } from '../../domain/traffic-policy';
import type { Nameserver } from './dns-query';

/** One hostname steered across regions: what every provider needs to know. */
export interface SteeringTarget {
  /** The hostname users resolve, without a trailing dot. */
  hostname: string;
  /** The zone holding it. */
  zone: string;
  /** TTL of the answers, in seconds. */
  ttlSeconds: number;
  /** The regions behind the hostname, in spec order. */
  regions: SteeredRegion[];
  /** Seconds the DNS server (or the provider's checker) waits for one health check. */
  healthTimeoutSeconds: number;
  /** Seconds between two health checks of one address. */
  healthIntervalSeconds: number;
  /** Where DNS questions about the hostname go. */
  nameservers: Nameserver[];
}

/**
 * A DNS service that can steer a hostname: answer each client with its closest healthy region,
 * check the regions' health itself, and take regions out of (or partly into) the answers when told.
 * Writes are idempotent: setting a region to the state it has changes nothing, so a retried activity
 * can set it again.
 */
export interface TrafficProvider {
  /** The provider's name, as in spec.traffic.provider. */
  readonly kind: string;
  /**
   * Checks that the provider can steer the hostname (reachable, credentials accepted, zone there,
   * features the answers need switched on); throws saying what to fix.
   */
  preflight(): Promise<void>;
  /** Each region's recorded state; a region never written is absent (in service). */
  states(): Promise<Record<string, RegionTraffic>>;
  /**
   * Records the region's state and rewrites the answers to match every region's state; returns the
   * state it had (undefined: never written, so in service, or unreadable).
   */
  setRegion(region: string, traffic: RegionTraffic): Promise<RegionTraffic | undefined>;
  /** Writes the answers for every region's state as it is now (a new spec's regions, addresses or health checks). */
  publish(note: string): Promise<void>;
  /** Each region's health as the DNS service sees it. */
  health(): Promise<Record<string, RegionHealth>>;
}
