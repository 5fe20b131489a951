/** The transaction Bundle under construction: one conditional entry per business identifier, deterministic fullUrls. */
import { createHash } from 'node:crypto';
import type { Identifier, Reference, Resource } from '@medplum/fhirtypes';
import type { BuiltEntry } from './contract.js';

function escapeSearch(v: string): string {
  return v.replace(/[\\|,$]/g, (ch) => `\\${ch}`);
}

/** Deterministic name-based UUID (version 5 layout over SHA-1). */
function uuidFor(name: string): string {
  const h = createHash('sha1').update(`yifang-hl7v2:${name}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

// ---------------------------------------------------------------------------------------------
// Bundle assembly
// ---------------------------------------------------------------------------------------------

export class BundleBuilder {
  readonly entries: BuiltEntry[] = [];
  private readonly byUrl = new Map<string, BuiltEntry>();

  /**
   * Adds a resource keyed by `key`: 'update' = conditional PUT, 'create' = POST + ifNoneExist.
   * A second resource with the same key in this bundle returns the first entry.
   */
  add<R extends Resource>(resource: R, key: Identifier, mode: 'update' | 'create'): { entry: BuiltEntry<R>; existed: boolean } {
    const query = `identifier=${encodeURIComponent(escapeSearch(key.system!))}|${encodeURIComponent(escapeSearch(key.value!))}`;
    const url = `${resource.resourceType}?${query}`;
    const existing = this.byUrl.get(url);
    if (existing) return { entry: existing as BuiltEntry<R>, existed: true };
    // The conditional search must find the resource again on a resend: it has to carry its key.
    const ids = (resource as { identifier?: Identifier[] }).identifier ?? [];
    if (!ids.some((i) => i.system === key.system && i.value === key.value)) {
      (resource as { identifier?: Identifier[] }).identifier = [...ids, { system: key.system, value: key.value }];
    }
    const entry: BuiltEntry<R> = {
      fullUrl: `urn:uuid:${uuidFor(url)}`,
      resource,
      request: mode === 'update' ? { method: 'PUT', url } : { method: 'POST', url: resource.resourceType, ifNoneExist: query },
    };
    this.entries.push(entry as BuiltEntry);
    this.byUrl.set(url, entry as BuiltEntry);
    return { entry, existed: false };
  }

  has(resourceType: string, key: Identifier): boolean {
    return this.byUrl.has(
      `${resourceType}?identifier=${encodeURIComponent(escapeSearch(key.system!))}|${encodeURIComponent(escapeSearch(key.value!))}`,
    );
  }
}

export const ref = <R extends Resource>(entry: BuiltEntry<R>): Reference<R> => ({ reference: entry.fullUrl });
