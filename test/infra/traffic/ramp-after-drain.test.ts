import { trafficAt } from '../../../src/domain/traffic-policy';
import { queryDns } from '../../../src/infra/traffic/dns-query';
import { trafficProvider } from '../../../src/infra/traffic/steering-target';
import { clients, type PowerDnsRig, startPowerDnsRig, steeredRegions } from '../../support/powerdns';

/**
 * A region drained on a server that never answered with it, then ramped: its share holds from the
 * ramp's first questions, because the health records the provider asks after every write keep the
 * region's checks running while the answers leave it out (PowerDNS counts an address it has not
 * checked yet as down, which would send every ramp question elsewhere for an interval).
 */
let rig: PowerDnsRig;

beforeAll(async () => {
  rig = await startPowerDnsRig();
}, 60_000);

afterAll(async () => rig?.stop());

it("answers a ramped region's share from the first questions after a drain on a fresh server", async () => {
  const provider = await trafficProvider(rig.traffic, rig.env);
  const note = (reason: string) => ({ by: 'test', reason, at: new Date().toISOString() });
  // The region's first write ever is its drain: the answers have never included it.
  await provider.setRegion('ap-northeast-2', trafficAt(0, note('drained to deploy')));
  await new Promise((r) => setTimeout(r, 2_000)); // a deploy takes at least this long
  await provider.setRegion('ap-northeast-2', trafficAt(0.3, note('ramp')));
  const tokyo = clients.find((c) => c.name === 'tokyo')!.subnet;
  let seoul = 0;
  for (let i = 0; i < 300; i++) {
    const answer = await queryDns(
      { host: '127.0.0.1', port: rig.dnsPort },
      { name: 'shop.example.test', clientSubnet: tokyo },
    );
    if (answer.addresses.includes(steeredRegions['ap-northeast-2'].address)) seoul++;
  }
  console.log(`ramp 30% right after a drain on a fresh server: ${seoul} of 300 questions answered with Seoul`);
  // 300 draws at p = 0.3: a standard deviation of 7.9; 60..120 is beyond 3.7 of them.
  expect(seoul).toBeGreaterThan(60);
  expect(seoul).toBeLessThan(120);
});
