import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../src/binary.js';
import { WampProtocolError } from '../src/errors.js';
import { decodeMessage } from '../src/message-codec.js';
import type { WampMessage } from '../src/messages.js';
import { serializers, type Serializer } from '../src/serializer.js';

/**
 * The specification's vectors live outside the repository, in the steering checkout's
 * `shared/conformance` (beside the clone). `RT_CONFORMANCE_DIR` points elsewhere when needed.
 */
function conformanceRoot(): string {
  const candidates = [
    process.env['RT_CONFORMANCE_DIR'],
    new URL('../../../../shared/conformance/', import.meta.url).pathname,
    '/work/shared/conformance/',
  ].filter((candidate): candidate is string => candidate !== undefined && candidate !== '');
  const found = candidates.find((candidate) => existsSync(join(candidate, 'wamp', 'singlemessage')));
  if (!found) throw new Error(`WAMP conformance vectors not found in: ${candidates.join(', ')} (set RT_CONFORMANCE_DIR)`);
  return join(found, 'wamp', 'singlemessage') + '/';
}

const root = conformanceRoot();

interface Variant { bytes?: string; bytes_hex: string }
interface Sample {
  description: string;
  serializers?: Record<string, Variant[]>;
  expected_attributes?: Record<string, unknown>;
  wmsg?: unknown[];
  expected_error?: { type: string; contains: string };
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : name.endsWith('.json') ? [path] : [];
  });
}

const vectors = files(root).map((path) => ({
  path: path.slice(root.length),
  samples: (JSON.parse(readFileSync(path, 'utf8')) as { samples: Sample[] }).samples,
}));

/** Our field name for each attribute name the vectors use. */
const fieldNames: Record<string, string> = {
  request_id: 'requestId', subscription_id: 'subscriptionId', subscription: 'subscriptionId',
  publication_id: 'publicationId', publication: 'publicationId', registration_id: 'registrationId',
  session_id: 'sessionId', request_type: 'requestType', method: 'authMethod',
};

function attributesOf(message: WampMessage): Record<string, unknown> {
  const record = message as unknown as Record<string, unknown>;
  return record;
}

function checkAttributes(message: WampMessage, expected: Record<string, unknown>): void {
  const actual = attributesOf(message);
  for (const [name, value] of Object.entries(expected)) {
    if (name === 'message_type') {
      expect(message.type).toBe(value);
      continue;
    }
    if (name === 'roles') {
      expect((actual['details'] as Record<string, unknown>)['roles']).toEqual(value);
      continue;
    }
    const field = fieldNames[name] ?? name;
    const got = actual[field];
    if (name === 'payload' && value !== null) {
      expect(got).toBeInstanceOf(Uint8Array);
      expect(bytesToHex(got as Uint8Array)).toBe(value);
    } else if (value === null) {
      expect(got).toBeUndefined();
    } else {
      expect(got).toEqual(value);
    }
  }
}

function frameOf(serializer: Serializer, variant: Variant): string | Uint8Array {
  const bytes = hexToBytes(variant.bytes_hex);
  return serializer.binary ? bytes : new TextDecoder().decode(bytes);
}

describe.each(Object.values(serializers))('conformance vectors with $name', (serializer) => {
  const cases = vectors.flatMap(({ path, samples }) =>
    samples
      .filter((sample) => sample.serializers?.[serializer.name] !== undefined)
      .map((sample) => ({ title: `${path}: ${sample.description}`, sample })),
  );

  it('finds vectors for this serializer', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('$title', ({ sample }) => {
    const variants = sample.serializers?.[serializer.name] ?? [];
    for (const variant of variants) {
      const message = serializer.deserialize(frameOf(serializer, variant));
      checkAttributes(message, sample.expected_attributes ?? {});
      const output = serializer.serialize(message);
      const outputHex = bytesToHex(typeof output === 'string' ? new TextEncoder().encode(output) : output);
      expect(variants.map((v) => v.bytes_hex)).toContain(outputHex);
    }
  });
});

describe('conformance validation samples', () => {
  const cases = vectors.flatMap(({ path, samples }) =>
    samples.filter((sample) => sample.wmsg !== undefined).map((sample) => ({ title: `${path}: ${sample.description}`, sample })),
  );

  it('finds validation samples', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  it.each(cases)('$title', ({ sample }) => {
    const raw = sample.wmsg as unknown[];
    if (sample.expected_error === undefined) {
      expect(decodeMessage(raw).type).toBe(raw[0]);
      for (const serializer of Object.values(serializers)) {
        expect(serializer.deserialize(serializer.encodeRaw(raw)).type).toBe(raw[0]);
      }
    } else {
      const contains = sample.expected_error.contains;
      expect(() => decodeMessage(raw)).toThrow(WampProtocolError);
      expect(() => decodeMessage(raw)).toThrow(contains);
    }
  });
});
