import { describe, expect, it } from 'vitest';
import { decodeMessage } from './charset.js';
import { parseHl7 } from './parser.js';
import { isSupportedMessageType, toFhir } from './to-fhir/index.js';
import { readSample, sampleFiles, validateBundle } from './test-support.js';

const files = sampleFiles();

describe('public sample messages (microsoft/FHIR-Converter, see SOURCE.txt)', () => {
  it('finds the sample folder', () => {
    expect(files.length).toBeGreaterThan(100);
  });

  it.each(files)('%s decodes and parses', (file) => {
    const raw = readSample(file);
    const decoded = decodeMessage(raw);
    expect(decoded.text.startsWith('MSH')).toBe(true);
    expect(decoded.bomRemoved).toBe(raw[0] === 0xef);
    const msg = parseHl7(decoded.text, { encoding: decoded.encoding });
    expect(msg.msh.name).toBe('MSH');
    expect(msg.controlId).not.toBe('');
    expect(msg.messageType.code).toMatch(/^[A-Z]{3}$/);
    expect(msg.segments.length).toBeGreaterThan(1);
    // the files use LF between segments (not CR, despite SOURCE.txt): every line is a segment
    const lines = decoded.text.split(/\r\n|\r|\n/).filter((l) => l.trim() !== '');
    expect(msg.segments.length).toBe(lines.length);
  });

  const supported = files.filter((f) => isSupportedMessageType(parseHl7(readSample(f)).messageTypeKey));

  it('covers every supported message type at least once', () => {
    const types = new Set(supported.map((f) => parseHl7(readSample(f)).messageTypeKey));
    for (const t of [
      'ADT^A01',
      'ADT^A02',
      'ADT^A03',
      'ADT^A04',
      'ADT^A08',
      'ADT^A11',
      'ADT^A13',
      'ADT^A28',
      'ADT^A31',
      'ADT^A40',
      'ORU^R01',
      'VXU^V04',
      'ORM^O01',
      'OML^O21',
    ]) {
      expect(types, t).toContain(t);
    }
  });

  it.each(supported)('%s maps to a valid FHIR R4 transaction Bundle', (file) => {
    const msg = parseHl7(readSample(file));
    const result = toFhir(msg);
    const { bundle } = result;
    expect(bundle.entry.length).toBeGreaterThan(0);
    expect(bundle.entry.filter((e) => e.resource.resourceType === 'Patient').length).toBeGreaterThanOrEqual(1);
    expect(validateBundle(bundle)).toEqual([]);
    // resend → identical requests (idempotent keys, deterministic fullUrls)
    const again = toFhir(parseHl7(readSample(file)));
    expect(again.bundle).toEqual(bundle);
  });

  it('maps the expected resources per sample', () => {
    const summary = (file: string) => {
      const counts: Record<string, number> = {};
      for (const e of toFhir(parseHl7(readSample(file))).bundle.entry)
        counts[e.resource.resourceType] = (counts[e.resource.resourceType] ?? 0) + 1;
      return counts;
    };
    expect(summary('ADT-A01-01.hl7')).toEqual({ Patient: 1, Encounter: 1, Observation: 1, Condition: 1 });
    expect(summary('LAB-ORU-1.hl7')).toEqual({ Patient: 1, Observation: 10, Specimen: 1, DiagnosticReport: 2 });
    expect(summary('LRI_2.0-NG_CBC_Typ_Message.hl7')).toEqual({ Patient: 1, Observation: 28, Specimen: 1, DiagnosticReport: 1 });
    expect(summary('VXU.hl7')).toEqual({ Patient: 1, Immunization: 3 });
    expect(summary('LAB-ORM-1.hl7')).toEqual({ Patient: 1, Encounter: 1, ServiceRequest: 1 });
    expect(summary('MDHHS-OML-O21-2.hl7')).toMatchObject({ Patient: 1, ServiceRequest: 2, Specimen: 1 });
  });
});
