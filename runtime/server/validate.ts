// Request bodies and queries checked field by field; a bad one is a 400 that names the field.
import { APPROVAL_MODES, type ApprovalMode } from '../../lib/config.js';
import { HttpError } from '../../lib/errors.js';
import type { ThreadChanges } from '../store/store.js';

const badField = (field: string, expected: string) => new HttpError(400, 'bad_request', `field ${field}: expected ${expected}`);

function objectBody(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'bad_request', 'the body must be a JSON object');
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new HttpError(400, 'bad_request', `field ${k}: unknown; allowed fields are ${allowed.join(', ')}`);
  return o;
}

function optionalString(o: Record<string, unknown>, field: string, max: number, nonEmpty: boolean): string | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > max || (nonEmpty && v.trim() === '')) throw badField(field, `a ${nonEmpty ? 'non-empty ' : ''}string of at most ${max} characters`);
  return v;
}

function approvalField(o: Record<string, unknown>, nullable: boolean): ApprovalMode | null | undefined {
  const v = o.approval;
  if (v === undefined) return undefined;
  if (v === null && nullable) return null;
  if (typeof v !== 'string' || !(APPROVAL_MODES as readonly string[]).includes(v)) throw badField('approval', `one of ${APPROVAL_MODES.join(', ')}${nullable ? ' or null (follow TETHER_APPROVAL)' : ''}`);
  return v as ApprovalMode;
}

const MAX_METADATA_KEYS = 32;

export function parseMetadata(v: unknown): Record<string, string> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badField('metadata', 'an object of string values');
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > MAX_METADATA_KEYS) throw badField('metadata', `at most ${MAX_METADATA_KEYS} keys`);
  for (const [k, val] of entries) {
    if (k === '' || k.length > 100) throw badField('metadata', 'keys of 1 to 100 characters');
    if (typeof val !== 'string' || val.length > 1000) throw badField(`metadata.${k}`, 'a string of at most 1000 characters');
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

export interface NewThread {
  title: string;
  model: string | null;
  approval: ApprovalMode | null;
  metadata: Record<string, string>;
}

export function parseNewThread(body: unknown): { thread: NewThread; reuse: string[] } {
  const o = objectBody(body, ['title', 'model', 'approval', 'metadata', 'reuse']);
  const thread: NewThread = {
    title: optionalString(o, 'title', 200, false) ?? '',
    model: optionalString(o, 'model', 200, true) ?? null,
    approval: approvalField(o, false) ?? null,
    metadata: parseMetadata(o.metadata),
  };
  return { thread, reuse: parseReuse(o.reuse, thread.metadata) };
}

/** `reuse` (an extension, docs/runtime.md): the metadata keys that name the thread a caller wants to find again. */
function parseReuse(v: unknown, metadata: Record<string, string>): string[] {
  if (v === undefined) return [];
  const expected = 'a non-empty list of keys of metadata';
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_METADATA_KEYS) throw badField('reuse', expected);
  for (const k of v) if (typeof k !== 'string' || !Object.hasOwn(metadata, k)) throw badField('reuse', `${expected} (${JSON.stringify(k)} is not one)`);
  return v as string[];
}

export function parseThreadChanges(body: unknown): ThreadChanges {
  const o = objectBody(body, ['title', 'model', 'approval', 'archived', 'metadata']);
  const changes: ThreadChanges = {};
  const title = optionalString(o, 'title', 200, false);
  if (title !== undefined) changes.title = title;
  if (o.model === null) changes.model = null;
  else {
    const model = optionalString(o, 'model', 200, true);
    if (model !== undefined) changes.model = model;
  }
  const approval = approvalField(o, true);
  if (approval !== undefined) changes.approval = approval;
  if (o.archived !== undefined) {
    if (typeof o.archived !== 'boolean') throw badField('archived', 'true or false');
    changes.archived = o.archived;
  }
  // The whole map is replaced (a conversation that moved has a new key): `{}` clears it.
  if (o.metadata !== undefined) changes.metadata = parseMetadata(o.metadata);
  return changes;
}

/** Large enough for a pasted file; the body limit (1 MiB) bounds it anyway. */
export const MAX_INPUT_CHARS = 512 * 1024;

export function parseNewTurn(body: unknown): { input: string } {
  const o = objectBody(body, ['input']);
  if (typeof o.input !== 'string' || o.input.trim() === '' || o.input.length > MAX_INPUT_CHARS) throw badField('input', `a non-empty string of at most ${MAX_INPUT_CHARS} characters`);
  return { input: o.input };
}

export function parseIdempotencyKey(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined || v.trim() === '' || v.length > 200) throw new HttpError(400, 'bad_request', 'header Idempotency-Key: expected 1 to 200 characters');
  return v;
}

export function parseDecision(body: unknown): 'approve' | 'deny' {
  const o = objectBody(body, ['decision']);
  if (o.decision !== 'approve' && o.decision !== 'deny') throw badField('decision', '"approve" or "deny"');
  return o.decision;
}

export interface ThreadQuery {
  limit: number;
  metadata: Record<string, string>;
  archived?: boolean;
}

export function parseThreadQuery(q: URLSearchParams): ThreadQuery {
  const query: ThreadQuery = { limit: 50, metadata: {} };
  for (const [k, v] of q) {
    if (k === 'limit') {
      if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 500) throw badField('limit', 'a whole number from 1 to 500');
      query.limit = Number(v);
    } else if (k === 'archived') {
      if (v !== 'true' && v !== 'false') throw badField('archived', 'true or false');
      query.archived = v === 'true';
    } else if (k.startsWith('metadata.') && k.length > 'metadata.'.length) query.metadata[k.slice('metadata.'.length)] = v;
    else throw new HttpError(400, 'bad_request', `query ${k}: unknown; use limit, archived or metadata.<key>`);
  }
  return query;
}

/** `?after=` wins over Last-Event-ID; neither means "from now on". */
export function parseCursor(q: URLSearchParams, lastEventId: string | string[] | undefined, now: number): number {
  const raw = q.get('after') ?? (Array.isArray(lastEventId) ? lastEventId[0] : lastEventId);
  if (raw === undefined || raw === null || raw === '') return now;
  if (!/^\d+$/.test(raw.trim())) throw new HttpError(400, 'bad_request', `cursor ${JSON.stringify(raw)}: expected an event seq (a whole number) in ?after= or Last-Event-ID`);
  return Number(raw.trim());
}

const APPROVAL_STATUSES = ['pending', 'approved', 'denied', 'expired'] as const;

export function parseApprovalQuery(q: URLSearchParams): { threadId?: string; status?: (typeof APPROVAL_STATUSES)[number]; limit: number } {
  const query: { threadId?: string; status?: (typeof APPROVAL_STATUSES)[number]; limit: number } = { limit: 50 };
  for (const [k, v] of q) {
    if (k === 'thread_id') query.threadId = v;
    else if (k === 'status') {
      if (!(APPROVAL_STATUSES as readonly string[]).includes(v)) throw badField('status', APPROVAL_STATUSES.join(', '));
      query.status = v as (typeof APPROVAL_STATUSES)[number];
    } else if (k === 'limit') {
      if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 500) throw badField('limit', 'a whole number from 1 to 500');
      query.limit = Number(v);
    } else throw new HttpError(400, 'bad_request', `query ${k}: unknown; use thread_id, status or limit`);
  }
  return query;
}
