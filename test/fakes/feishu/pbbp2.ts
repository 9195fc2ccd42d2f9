// The long connection's wire format: pbbp2.Frame over protobuf, declared here because the SDK does not export it.
//
// Mirrors `ws-client/proto-buf/pbbp2.js` of @larksuiteoapi/node-sdk (notes §1.4, §6.3). The four scalars are
// `required`, so the SDK's decoder throws on a frame that lacks one; the fake always sets them.
import protobuf from 'protobufjs';

/** `Frame.method`: control frames carry ping/pong, data frames carry events and their acks. */
export const FRAME_METHOD = { control: 0, data: 1 } as const;

/** Values of the `type` header the SDK understands (a `card` frame is dropped by the SDK without an ack). */
export type FrameType = 'event' | 'card' | 'ping' | 'pong';

export interface FrameHeader {
  key: string;
  value: string;
}

export interface Frame {
  SeqID: number;
  LogID: number;
  service: number;
  method: number;
  headers: FrameHeader[];
  payloadEncoding?: string;
  payloadType?: string;
  payload?: Uint8Array;
  LogIDNew?: string;
}

const root = protobuf.Root.fromJSON({
  nested: {
    pbbp2: {
      nested: {
        Header: {
          fields: {
            key: { rule: 'required', type: 'string', id: 1 },
            value: { rule: 'required', type: 'string', id: 2 },
          },
        },
        Frame: {
          fields: {
            SeqID: { rule: 'required', type: 'uint64', id: 1 },
            LogID: { rule: 'required', type: 'uint64', id: 2 },
            service: { rule: 'required', type: 'int32', id: 3 },
            method: { rule: 'required', type: 'int32', id: 4 },
            headers: { rule: 'repeated', type: 'Header', id: 5 },
            payload_encoding: { type: 'string', id: 6 },
            payload_type: { type: 'string', id: 7 },
            payload: { type: 'bytes', id: 8 },
            LogIDNew: { type: 'string', id: 9 },
          },
        },
      },
    },
  },
});

const FrameType_ = root.lookupType('pbbp2.Frame');

export function encodeFrame(frame: Frame): Uint8Array {
  return FrameType_.encode(FrameType_.fromObject(frame)).finish();
}

/** Decodes a frame the client sent; throws (as the SDK would) when a required field is missing. */
export function decodeFrame(bytes: Uint8Array): Frame {
  const message = FrameType_.decode(bytes);
  // longs: Number is safe here: SeqID/LogID are small counters in the fake and echoed back unchanged by the SDK.
  const o = FrameType_.toObject(message, { longs: Number, arrays: true }) as Frame & { payload_encoding?: string; payload_type?: string };
  return {
    SeqID: o.SeqID,
    LogID: o.LogID,
    service: o.service,
    method: o.method,
    headers: o.headers ?? [],
    ...(o.payload_encoding !== undefined ? { payloadEncoding: o.payload_encoding } : {}),
    ...(o.payload_type !== undefined ? { payloadType: o.payload_type } : {}),
    ...(o.payload !== undefined ? { payload: o.payload } : {}),
    ...(o.LogIDNew !== undefined ? { LogIDNew: o.LogIDNew } : {}),
  };
}

export function headerValue(frame: Frame, key: string): string | undefined {
  return frame.headers.find((h) => h.key === key)?.value;
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function fromUtf8(bytes: Uint8Array | undefined): string {
  return bytes === undefined ? '' : new TextDecoder().decode(bytes);
}
