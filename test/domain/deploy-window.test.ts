import { describeWindow, isOpen, localTime, nextOpening } from '../../src/domain/deploy-window';
import { deployWindowSchema } from '../../src/domain/release-spec';

const seoul = deployWindowSchema.parse({
  timezone: 'Asia/Seoul',
  hours: '09:00-17:00',
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  blocked: ['2026-12-25'],
});
const at = (iso: string) => Date.parse(iso);

describe('deploy windows', () => {
  it('reads local time in the region time zone', () => {
    // 00:30 UTC is 09:30 in Seoul (UTC+9), a Thursday.
    expect(localTime(at('2026-11-26T00:30:00Z'), 'Asia/Seoul')).toEqual({
      date: '2026-11-26',
      day: 'thu',
      minute: 9 * 60 + 30,
    });
  });

  it('is open during local working hours on working days only', () => {
    expect(isOpen(at('2026-11-26T00:30:00Z'), seoul)).toBe(true); // Thu 09:30
    expect(isOpen(at('2026-11-26T08:00:00Z'), seoul)).toBe(false); // Thu 17:00, closed
    expect(isOpen(at('2026-11-28T02:00:00Z'), seoul)).toBe(false); // Sat 11:00
    expect(isOpen(at('2026-12-25T02:00:00Z'), seoul)).toBe(false); // Fri 11:00, blocked
  });

  it('finds the next opening: next morning, after the weekend, after a blocked date', () => {
    expect(nextOpening(at('2026-11-26T00:30:00Z'), seoul)).toBe(at('2026-11-26T00:30:00Z'));
    expect(nextOpening(at('2026-11-26T09:00:00Z'), seoul)).toBe(at('2026-11-27T00:00:00Z')); // Thu 18:00 -> Fri 09:00
    expect(nextOpening(at('2026-11-27T10:00:00Z'), seoul)).toBe(at('2026-11-30T00:00:00Z')); // Fri 19:00 -> Mon 09:00
    expect(nextOpening(at('2026-12-24T09:00:00Z'), seoul)).toBe(at('2026-12-28T00:00:00Z')); // Christmas and the weekend
  });

  it('spans midnight when the window closes before it opens, and gives up past the horizon', () => {
    const night = deployWindowSchema.parse({ timezone: 'Europe/Berlin', hours: '22:00-06:00' });
    expect(isOpen(at('2026-11-26T23:30:00Z'), night)).toBe(true); // 00:30 in Berlin
    expect(isOpen(at('2026-11-26T12:00:00Z'), night)).toBe(false);
    const never = deployWindowSchema.parse({
      timezone: 'UTC',
      hours: '09:00-10:00',
      days: ['mon'],
      blocked: ['2026-11-30', '2026-12-07'],
    });
    expect(nextOpening(at('2026-11-26T12:00:00Z'), never)).toBeUndefined();
    expect(describeWindow(seoul)).toBe('09:00-17:00 Asia/Seoul, mon,tue,wed,thu,fri, not on 2026-12-25');
  });

  it('rejects an unknown time zone and malformed hours with the fix', () => {
    const bad = deployWindowSchema.safeParse({ timezone: 'Asia/Soeul', hours: '9-17' });
    expect(bad.error?.issues.map((i) => i.message)).toEqual([
      'unknown time zone "Asia/Soeul": use an IANA name such as Asia/Seoul or Europe/Berlin',
      'expected local hours such as 09:00-17:00 (22:00-06:00 spans midnight)',
    ]);
  });
});
