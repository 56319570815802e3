import { describe, expect, it, vi } from 'vitest';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { CallerIdentifier } from '../src/gateway/caller.js';
import { MemoryRevocations } from '../src/state/memory-state.js';
import { ApiKeyStore } from '../src/store/api-keys.js';
import { openDatabase } from '../src/store/database.js';

const response = { req: { socket: { remoteAddress: '127.0.0.1' } } } as unknown as ServerResponse;
const bearer = (key: string): IncomingHttpHeaders => ({ authorization: `Bearer ${key}` });

function setUp(options: { required?: boolean } = {}) {
  const store = new ApiKeyStore(openDatabase(':memory:'));
  const identifier = new CallerIdentifier(store, new MemoryRevocations(), { required: options.required ?? false, cacheTtlS: 60 });
  return { store, identifier };
}

describe('caller identification', () => {
  it('refuses a bearer string longer than any key without hashing or remembering it', () => {
    const { store, identifier } = setUp();
    const { key } = store.create('alice');
    const lookups = vi.spyOn(store, 'findByHash');
    expect(identifier.identify(bearer(key), response).key?.name).toBe('alice');
    expect(() => identifier.identify(bearer('x'.repeat(10_000)), response)).toThrow(/Incorrect API key/);
    expect(lookups).toHaveBeenCalledTimes(1);
  });
});

describe('revoking a key', () => {
  it('by name revokes the one active key of that name, then says it is already revoked', () => {
    const { store } = setUp();
    const { record } = store.create('alice');
    expect(store.revoke('alice')).toMatchObject({ outcome: 'revoked', record: { id: record.id, revokedAt: expect.any(String) } });
    expect(store.revoke('alice')).toMatchObject({ outcome: 'already_revoked', record: { id: record.id } });
    expect(store.revoke(record.id)).toMatchObject({ outcome: 'already_revoked' });
    expect(store.revoke('nobody')).toEqual({ outcome: 'not_found' });
  });

  it('by a name several active keys share revokes none and names them; their ids revoke each', () => {
    const { store } = setUp();
    const old = store.create('alice').record;
    const rotated = store.create('alice').record;
    const ambiguous = store.revoke('alice');
    expect(ambiguous).toMatchObject({ outcome: 'ambiguous', active: [{ id: old.id }, { id: rotated.id }] });
    expect(store.list().every((k) => k.revokedAt === null)).toBe(true);
    expect(store.revoke(old.id)).toMatchObject({ outcome: 'revoked', record: { id: old.id } });
    expect(store.findByHash(rotated.keyHash)?.revokedAt).toBeNull();
    expect(store.revoke('alice')).toMatchObject({ outcome: 'revoked', record: { id: rotated.id } });
  });
});

describe('an open router', () => {
  const anonymous = (identifier: CallerIdentifier) => identifier.identify({}, response);

  it('stays open until the first key is created, and closed once the last one is revoked', () => {
    const { store, identifier } = setUp();
    expect(anonymous(identifier).id).toBe('ip:127.0.0.1');
    store.create('solo');
    store.revoke('solo');
    // A fresh identifier reads the store at once (a running one within seconds): only a revoked key is left.
    const restarted = new CallerIdentifier(store, new MemoryRevocations(), { required: false, cacheTtlS: 60 });
    expect(() => anonymous(restarted)).toThrow(/Incorrect API key/);
    expect(restarted.keysRequired()).toBe(true);
  });

  it('closes at once when a key is created through it, and stays closed without any key when keys are required', () => {
    const { identifier } = setUp();
    expect(identifier.keysRequired()).toBe(false);
    identifier.keyIssued();
    expect(identifier.keysRequired()).toBe(true);
    expect(setUp({ required: true }).identifier.keysRequired()).toBe(true);
  });
});
