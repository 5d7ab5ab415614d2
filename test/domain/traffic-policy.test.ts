import {
  answerProgram,
  downMarker,
  greatCircle,
  healthFromAnswer,
  healthProgram,
  luaString,
  type RegionTraffic,
  type SteeredRegion,
  servingOrder,
  stateOf,
  trafficAt,
} from '../../src/domain/traffic-policy';

const region = (name: string, latitude: number, longitude: number, addresses: string[], weight = 1): SteeredRegion => ({
  name,
  latitude,
  longitude,
  weight,
  addresses,
  healthUrl: (a) => `http://${a.includes(':') ? `[${a}]` : a}:18200/healthz`,
});

const regions = [
  region('us-east', 39.0, -77.5, ['127.0.1.1']),
  region('eu-west', 53.3, -6.3, ['127.0.2.1', '::2']),
  region('ap-northeast-2', 37.6, 127.0, ['127.0.3.1']),
];
const note = { by: 'alice', reason: 'maintenance', at: '2026-12-02T00:00:00.000Z' };
const timing = { timeoutSeconds: 1 };

describe('trafficAt', () => {
  it('turns a share into the mode that goes with it', () => {
    expect(trafficAt(1, note)).toMatchObject({ mode: 'in', share: 1 });
    expect(trafficAt(0, note)).toMatchObject({ mode: 'drained', share: 0 });
    expect(trafficAt(0.1, note)).toMatchObject({ mode: 'ramp', share: 0.1, by: 'alice', reason: 'maintenance' });
  });

  it('refuses a share outside 0..1 or not finite', () => {
    for (const share of [-0.1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => trafficAt(share, note)).toThrow(RangeError);
  });
});

describe('stateOf', () => {
  it('counts a region nobody wrote a state for as in service, and reads no inherited key', () => {
    expect(stateOf({}, 'eu-west')).toMatchObject({ mode: 'in', share: 1 });
    expect(stateOf({}, 'constructor')).toMatchObject({ mode: 'in', share: 1 });
    const drained: Record<string, RegionTraffic> = { 'eu-west': trafficAt(0, note) };
    expect(stateOf(drained, 'eu-west').mode).toBe('drained');
  });
});

describe('servingOrder', () => {
  it('orders regions by distance from the client', () => {
    const london = { latitude: 51.5, longitude: -0.1 };
    const tokyo = { latitude: 35.7, longitude: 139.7 };
    expect(servingOrder(regions, {}, london).map((c) => c.region)).toEqual(['eu-west', 'us-east', 'ap-northeast-2']);
    expect(servingOrder(regions, {}, tokyo).map((c) => c.region)).toEqual(['ap-northeast-2', 'eu-west', 'us-east']);
  });

  it('treats a region of weight 2 as half as far away', () => {
    // From Reykjavik Dublin is ~1,500 km and Virginia ~4,500 km: a weight of 4 brings Virginia closer.
    const reykjavik = { latitude: 64.1, longitude: -21.9 };
    const heavy = [region('us-east', 39.0, -77.5, ['127.0.1.1'], 4), region('eu-west', 53.3, -6.3, ['127.0.2.1'])];
    expect(servingOrder(heavy, {}, reykjavik)[0].region).toBe('us-east');
    expect(
      servingOrder(
        heavy.map((r) => ({ ...r, weight: 1 })),
        {},
        reykjavik,
      )[0].region,
    ).toBe('eu-west');
  });

  it('gives a client it cannot locate the regions by weight, in spec order on ties', () => {
    expect(servingOrder(regions, {}, undefined).map((c) => c.region)).toEqual(['us-east', 'eu-west', 'ap-northeast-2']);
    const weighted = [regions[0], { ...regions[1], weight: 3 }, regions[2]];
    expect(servingOrder(weighted, {}, undefined)[0].region).toBe('eu-west');
  });

  it("carries each region's share", () => {
    const order = servingOrder(regions, { 'eu-west': trafficAt(0.5, note) }, { latitude: 51.5, longitude: -0.1 });
    expect(order[0]).toEqual({ region: 'eu-west', share: 0.5 });
  });
});

describe('greatCircle', () => {
  it('measures London to New York as about 5,570 km on a 6,371 km Earth', () => {
    const km = greatCircle({ latitude: 51.5, longitude: -0.13 }, { latitude: 40.71, longitude: -74.0 }) * 6371;
    expect(km).toBeGreaterThan(5_500);
    expect(km).toBeLessThan(5_620);
  });
});

describe('answerProgram', () => {
  it('lists only the addresses of its family, each with its health URL, and the states as shares', () => {
    const v4 = answerProgram(regions, { 'eu-west': trafficAt(0.1, note), 'us-east': trafficAt(0, note) }, 4, timing)!;
    expect(v4.startsWith(';')).toBe(true);
    expect(v4).toContain("['127.0.2.1']='http://127.0.2.1:18200/healthz'");
    expect(v4).not.toContain('::2');
    expect(v4).toMatch(/n='eu-west',i=1,lat=53\.3,lon=-6\.3,w=1,s=0\.1,/);
    expect(v4).toMatch(/n='us-east',i=0,lat=39,lon=-77\.5,w=1,s=0,/);
    expect(v4).toContain('timeout=1}');
    const v6 = answerProgram(regions, {}, 6, timing)!;
    expect(v6).toContain("['::2']='http://[::2]:18200/healthz'");
    expect(v6).not.toContain('127.0.1.1');
  });

  it('is undefined when no region has an address of the family', () => {
    expect(answerProgram([regions[0]], {}, 6, timing)).toBeUndefined();
  });

  it('refuses a number that is not finite rather than writing it into the program', () => {
    expect(() => answerProgram([{ ...regions[0], weight: Number.NaN }], {}, 4, timing)).toThrow(RangeError);
  });
});

describe('healthProgram and healthFromAnswer', () => {
  it("checks the region's addresses with the down marker behind them", () => {
    const program = healthProgram(regions[1], 4, timing);
    expect(program).toContain("{['127.0.2.1']='http://127.0.2.1:18200/healthz'}");
    expect(program).toContain(`{['${downMarker[4]}']='http://127.0.2.1:18200/healthz'}`);
    expect(program).toContain("selector='all',backupSelector='all'");
  });

  it('reads the marker (or no answer) as down and the addresses alone as up', () => {
    expect(healthFromAnswer(['127.0.2.1'])).toBe('up');
    expect(healthFromAnswer(['127.0.2.1', downMarker[4]])).toBe('down');
    expect(healthFromAnswer([downMarker[6]])).toBe('down');
    expect(healthFromAnswer([])).toBe('down');
  });
});

describe('luaString', () => {
  it('escapes quotes, backslashes, control and non-ASCII bytes so nothing leaves the literal', () => {
    expect(luaString("it's")).toBe("'it\\'s'");
    expect(luaString('a\\b')).toBe("'a\\\\b'");
    expect(luaString("x']os.exit()--\n")).toBe("'x\\']os.exit()--\\010'");
    expect(luaString('é')).toBe("'\\195\\169'");
  });
});
