/**
 * Loki's protobuf push body: snappy block-compressed `logproto.PushRequest`, as sent by Promtail, Alloy,
 * winston-loki and other shippers. Schema from grafana/loki pkg/push/push.proto (field numbers checked there).
 *
 * The string fields are declared `bytes` here: identical on the wire (both are length-delimited), but it
 * lets us decode UTF-8 strictly (protobufjs' own string decoding silently replaces invalid bytes) and
 * keeps the decoded lines as zero-copy slices until we turn them into strings.
 */
import protobuf from 'protobufjs';
// snappy (napi-rs over the Rust snap crate) checks every literal and copy against the block bounds and the
// declared length, so hostile input fails fast. snappyjs looped forever on a negative literal length.
import { uncompressSync } from 'snappy';

const PUSH_PROTO = `
syntax = "proto3";
package logproto;
import "google/protobuf/timestamp.proto";

message PushRequest {
  repeated StreamAdapter streams = 1;
  string format = 2;
}
message StreamAdapter {
  bytes labels = 1;                  // string in Loki's schema
  repeated EntryAdapter entries = 2;
  uint64 hash = 3;
}
message LabelPairAdapter {
  bytes name = 1;                    // string in Loki's schema
  bytes value = 2;                   // string in Loki's schema
}
message EntryAdapter {
  google.protobuf.Timestamp timestamp = 1;
  bytes line = 2;                    // string in Loki's schema
  repeated LabelPairAdapter structuredMetadata = 3;
  repeated LabelPairAdapter parsed = 4;
}
`;

export interface LongLike {
  low: number;
  high: number;
}
export interface ProtoTimestamp {
  seconds: number | LongLike;
  nanos: number;
}
export interface ProtoLabelPair {
  name: Uint8Array;
  value: Uint8Array;
}
export interface ProtoEntry {
  timestamp: ProtoTimestamp | null;
  line: Uint8Array;
  structuredMetadata: ProtoLabelPair[];
}
export interface ProtoStream {
  labels: Uint8Array;
  entries: ProtoEntry[];
}
export interface ProtoPushRequest {
  streams: ProtoStream[];
}

function buildPushRequestType(): protobuf.Type {
  const root = new protobuf.Root();
  // protobufjs bundles the well-known google/protobuf/timestamp.proto definition.
  const timestamp = protobuf.common.get('google/protobuf/timestamp.proto');
  if (!timestamp?.nested) {
    throw new Error('protobufjs lacks its bundled google/protobuf/timestamp.proto');
  }
  root.addJSON(timestamp.nested);
  protobuf.parse(PUSH_PROTO, root, { keepCase: true });
  root.resolveAll();
  return root.lookupType('logproto.PushRequest');
}

const pushRequestType = buildPushRequestType();

export class SnappyTooLargeError extends Error {
  constructor(readonly uncompressedBytes: number) {
    super(`decompressed body of ${uncompressedBytes} bytes exceeds the limit`);
  }
}

/**
 * Reads the uncompressed length that starts every snappy block (a little-endian base-128 varint), so an
 * oversize body is refused before anything is allocated for it. Returns -1 when the header is malformed.
 */
export function snappyUncompressedLength(block: Uint8Array): number {
  let result = 0;
  for (let i = 0, shift = 0; i < block.length && shift <= 28; i++, shift += 7) {
    const byte = block[i];
    result += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) {
      return result;
    }
  }
  return -1;
}

/** Snappy block format (not the framed stream format), which is what Loki expects. */
export function snappyDecompress(block: Buffer, maxBytes: number): Buffer {
  const length = snappyUncompressedLength(block);
  if (length < 0) {
    throw new Error('invalid snappy block header');
  }
  if (length > maxBytes) {
    throw new SnappyTooLargeError(length);
  }
  return uncompressSync(block, { asBuffer: true }) as Buffer;
}

/** Throws protobufjs' own error (with the offset) when the bytes are not a PushRequest. */
export function decodePushRequest(bytes: Uint8Array): ProtoPushRequest {
  return pushRequestType.decode(bytes) as unknown as ProtoPushRequest;
}

export function timestampToMs(ts: ProtoTimestamp): number {
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : ts.seconds.high * 4294967296 + (ts.seconds.low >>> 0);
  return seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}
