/**
 * What a Subscription asks for, read and checked without the database: its criteria (a search,
 * "Type?param=value&…", as the REST API would take it after the base URL) and its REST-hook channel.
 * R4 §2.46 (Subscription): the criteria apply to the new content of a created or updated resource;
 * with a payload the resource is sent whole, without one the notification is an empty POST.
 */
import type { Resource, Subscription } from '@medplum/fhirtypes';
import { getTypeDef } from '../fhir/definitions.js';
import { unprocessable } from '../platform/errors.js';

export interface Criteria {
  type: string;
  /** Search parameters in the order written. */
  params: [string, string][];
}

export interface Channel {
  endpoint: string;
  /** The MIME type of the payload; undefined: notifications carry no resource. */
  payload?: string;
  /** HTTP headers named in channel.header ("Name: value"). */
  headers: [string, string][];
}

/** Parameters that shape a search's answer, not which resources match: meaningless in criteria. */
const RESULT_PARAMS = new Set(['_count', '_sort', '_include', '_revinclude', '_summary', '_elements', '_total', '_contained', '_offset']);
/** Payload types we send: the resource as JSON. */
const PAYLOADS = new Set(['application/fhir+json', 'application/json']);
/** Headers the sender sets itself. */
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', 'connection', 'transfer-encoding']);

/** Parses criteria; throws an Error naming what is wrong. */
export function parseCriteria(text: string): Criteria {
  const trimmed = text.trim();
  const q = trimmed.indexOf('?');
  const type = q < 0 ? trimmed : trimmed.slice(0, q);
  if (!/^[A-Z][A-Za-z]+$/.test(type)) throw new Error(`criteria must start with a resource type ("Observation?code=…"), not '${type}'`);
  const def = getTypeDef(type);
  if (!def) throw new Error(`criteria name an unknown resource type '${type}'`);
  if (type === 'Subscription' || type === 'AuditEvent') throw new Error(`criteria may not follow ${type} resources`);
  const params: [string, string][] = [];
  for (const [name, value] of new URLSearchParams(q < 0 ? '' : trimmed.slice(q + 1))) {
    const base = name.split(':')[0]!.split('.')[0]!;
    if (RESULT_PARAMS.has(base)) throw new Error(`criteria may not use ${base} (it shapes an answer, not which resources match)`);
    if (base === '_id') throw new Error('criteria may not use _id (the server adds it to test each changed resource)');
    if (base !== '_lastUpdated' && !def.params.has(base)) throw new Error(`criteria use '${base}', not a search parameter of ${type}`);
    params.push([name, value]);
  }
  return { type, params };
}

/** The REST-hook channel; throws an Error naming what is wrong. */
export function parseChannel(sub: Subscription): Channel {
  const ch = sub.channel;
  if (ch?.type !== 'rest-hook')
    throw new Error(`channel.type '${ch?.type ?? ''}' is not supported: this server delivers by rest-hook only`);
  let url: URL;
  try {
    url = new URL(ch.endpoint ?? '');
  } catch {
    throw new Error(`channel.endpoint must be an http or https URL, not '${ch.endpoint ?? ''}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`channel.endpoint must be http or https, not ${url.protocol}`);
  if (url.username || url.password) throw new Error('channel.endpoint may not carry a user name or password (use channel.header)');
  if (ch.payload !== undefined && !PAYLOADS.has(ch.payload))
    throw new Error(`channel.payload '${ch.payload}' is not supported (application/fhir+json, or none for an empty notification)`);
  const headers: [string, string][] = [];
  for (const h of ch.header ?? []) {
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/.exec(h);
    if (!m || /[\r\n]/.test(h)) throw new Error(`channel.header '${h}' is not "Name: value"`);
    if (RESERVED_HEADERS.has(m[1]!.toLowerCase())) throw new Error(`channel.header may not set ${m[1]} (the server sets it)`);
    headers.push([m[1]!, m[2]!]);
  }
  return { endpoint: url.toString(), ...(ch.payload ? { payload: ch.payload } : {}), headers };
}

/** The check run on every Subscription written: a criteria or channel the server cannot serve is refused (422). */
export function refuseSubscription(resource: Resource): void {
  const sub = resource as Subscription;
  try {
    if (!sub.criteria) throw new Error('criteria: mandatory');
    parseCriteria(sub.criteria);
    parseChannel(sub);
  } catch (err) {
    throw unprocessable(`Subscription: ${(err as Error).message}`);
  }
}

/** Whether a subscription is in force at `now` (active, and its end not passed). */
export function inForce(sub: Subscription, now: Date): boolean {
  return sub.status === 'active' && (!sub.end || Date.parse(sub.end) > now.getTime());
}

/** The request one notification makes (R4: with a payload, PUT [endpoint]/[type]/[id]; without, an empty POST). */
export function notificationRequest(
  channel: Channel,
  resource: { resourceType: string; id: string } | undefined,
): { method: 'PUT' | 'POST'; url: string; body?: string } {
  if (!channel.payload || !resource) return { method: 'POST', url: channel.endpoint };
  const base = channel.endpoint.replace(/\/+$/, '');
  return { method: 'PUT', url: `${base}/${resource.resourceType}/${encodeURIComponent(resource.id)}`, body: JSON.stringify(resource) };
}

/** Wait before the next attempt after `attempts` failed ones: 5 s doubling, at most 10 minutes. */
export function backoffMs(attempts: number): number {
  return Math.min(600_000, 5_000 * 2 ** Math.max(0, attempts - 1));
}

/** Failed attempts in a round before a delivery is given up (then resent by a user). */
export const MAX_ATTEMPTS = 8;
