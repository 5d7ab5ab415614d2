import { type SteeredWorld, startSteeredWorld } from '../../src/rig/steered-world';

/** Three regions on loopback traffic addresses, and a client population near each. */
export const steeredRegions = {
  'us-east': { address: '127.0.71.1', latitude: 39.0, longitude: -77.5 },
  'eu-west': { address: '127.0.72.1', latitude: 53.3, longitude: -6.3 },
  'ap-northeast-2': { address: '127.0.73.1', latitude: 37.6, longitude: 127.0 },
} as const;
export type SteeredName = keyof typeof steeredRegions;

export const clients = [
  { name: 'new-york', subnet: '198.18.1.0/24', location: { latitude: 40.7, longitude: -74.0 } },
  { name: 'london', subnet: '198.18.2.0/24', location: { latitude: 51.5, longitude: -0.1 } },
  { name: 'tokyo', subnet: '198.18.3.0/24', location: { latitude: 35.7, longitude: 139.7 } },
];

/** The steered world of the traffic tests (src/rig/steered-world.ts): a private PowerDNS and health endpoints. */
export type PowerDnsRig = SteeredWorld;

export async function startPowerDnsRig(overrides: Record<string, unknown> = {}): Promise<PowerDnsRig> {
  return startSteeredWorld({
    regions: steeredRegions,
    clients: clients.map((c) => ({ name: c.name, subnet: c.subnet, ...c.location })),
    overrides: { duringDeploy: 'drain', ramp: ['10%', '50%', '100%'], ...overrides },
  });
}
