import { randomBytes } from 'node:crypto';
import {
  defaultFailureConverter,
  defaultPayloadConverter,
  type LoadedDataConverter,
  type Payload,
} from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { AesGcmPayloadCodec } from '../../../src/codec/aes-gcm-codec';
import { releasesSignaled } from '../../../src/client/commands/freeze';

const plain: LoadedDataConverter = {
  payloadConverter: defaultPayloadConverter,
  failureConverter: defaultFailureConverter,
  payloadCodecs: [],
};
const codec = new AesGcmPayloadCodec([{ id: 'k1', key: randomBytes(32) }]);
const encrypted: LoadedDataConverter = { ...plain, payloadCodecs: [codec] };

/** A history event of a signal named `name` carrying `payload`. */
const signal = (payload: Payload | undefined, name = 'release-started'): temporal.api.history.v1.IHistoryEvent => ({
  workflowExecutionSignaledEventAttributes: { signalName: name, input: payload ? { payloads: [payload] } : undefined },
});
const json = (value: unknown) => defaultPayloadConverter.toPayload(value);

/** What releasesSignaled finds in `events`, and the reasons it gave for the payloads it could not read. */
async function read(events: temporal.api.history.v1.IHistoryEvent[], converter: LoadedDataConverter) {
  const unreadable: string[] = [];
  const ids = await releasesSignaled(events, converter, (why) => unreadable.push(why));
  return { ids, unreadable };
}

describe('the releases a freeze was told of, read with the data converter', () => {
  it('reads plain JSON payloads, and nothing from other signals, other shapes or no payload', async () => {
    const events = [
      signal(json({ releaseId: 'release-shop-api-2.4.0' })),
      signal(json({ releaseId: 'release-shop-api-2.4.1' }), 'pause'),
      signal(json({ release: 'release-shop-api-2.4.2' })),
      signal(json(null)),
      signal(undefined),
      { workflowExecutionStartedEventAttributes: {} },
    ];
    expect(await read(events, plain)).toEqual({ ids: ['release-shop-api-2.4.0'], unreadable: [] });
  });

  it("decodes through the client's codec first: payloads the CLI encrypted with MERIDIAN_CODEC_KEYS", async () => {
    const [sealed] = await codec.encode([json({ releaseId: 'release-shop-api-2.5.0' })]);
    expect(Buffer.from(sealed.data!).toString('utf8')).not.toContain('release-shop-api');
    expect(await read([signal(sealed), signal(json({ releaseId: 'release-shop-api-2.5.1' }))], encrypted)).toEqual({
      ids: ['release-shop-api-2.5.0', 'release-shop-api-2.5.1'],
      unreadable: [],
    });
  });

  it('reports a payload it cannot read, with why, and goes on with the rest', async () => {
    const [sealed] = await codec.encode([json({ releaseId: 'release-shop-api-2.6.0' })]);
    const odd: Payload = { metadata: { encoding: Buffer.from('binary/custom') }, data: Buffer.from('x') };
    const { ids, unreadable } = await read(
      [signal(sealed), signal(odd), signal(json({ releaseId: 'release-shop-api-2.6.1' }))],
      plain,
    );
    expect(ids).toEqual(['release-shop-api-2.6.1']);
    expect(unreadable).toHaveLength(2);
    for (const why of unreadable) expect(why).toMatch(/encoding/i);
  });
});
