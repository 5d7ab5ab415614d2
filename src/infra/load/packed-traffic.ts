import { gunzipSync, gzipSync } from 'node:zlib';
import { InvalidInputError } from '../../domain/errors';
import type { RecordedRequest } from '../../domain/recorded-traffic';
import type { PackedTraffic } from '../../domain/release-input';

/** A recording larger than this packed is refused: it travels in the input of every staging region's workflow. */
export const maxPackedTrafficBytes = 1024 * 1024;

export function packTraffic(requests: readonly RecordedRequest[], source: string, field: string): PackedTraffic {
  const packed = gzipSync(JSON.stringify(requests)).toString('base64');
  if (packed.length > maxPackedTrafficBytes) {
    throw new InvalidInputError(
      `${field}: ${source} packs to ${packed.length} bytes, above the ${maxPackedTrafficBytes}-byte limit; replay a sample of it (the requests cycle for the whole test)`,
    );
  }
  return { source, requests: requests.length, packed };
}

export function unpackTraffic(traffic: PackedTraffic): RecordedRequest[] {
  return JSON.parse(gunzipSync(Buffer.from(traffic.packed, 'base64')).toString('utf8')) as RecordedRequest[];
}
