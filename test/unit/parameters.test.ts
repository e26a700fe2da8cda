import { describe, expect, it } from 'vitest';
import { bind, bound, shape, Slot, TemplateCache } from '../../src/reads/parameters.js';

// A statement is built once per shape of its input and bound per request (src/reads/parameters.ts).

describe('statement shapes', () => {
  it('gives inputs that differ only in bound values one key, and keeps the values in order', () => {
    const a = shape({ viewer: bound('u1'), filter: { completed: false, search: bound('%tax%') }, ids: bound(['x']) });
    const b = shape({ viewer: bound('u2'), filter: { completed: false, search: bound('%rent%') }, ids: bound(['y', 'z']) });
    expect(a.key).toBe(b.key);
    // Keys are walked in sorted order: filter.search, ids, viewer.
    expect(b.values).toEqual(['%rent%', ['y', 'z'], 'u2']);
  });

  it('gives a different key when what the SQL depends on differs: a boolean, a field present or not, an order', () => {
    const base = shape({ filter: { completed: false }, order: ['DUE_AT'] }).key;
    expect(shape({ filter: { completed: true }, order: ['DUE_AT'] }).key).not.toBe(base);
    expect(shape({ filter: { completed: false, search: bound('%x%') }, order: ['DUE_AT'] }).key).not.toBe(base);
    expect(shape({ filter: {}, order: ['DUE_AT'] }).key).not.toBe(base);
    expect(shape({ filter: { completed: false }, order: ['TITLE'] }).key).not.toBe(base);
  });

  it('hands the builder slots in place of bound values, and binding puts the values back', () => {
    const { shaped, values } = shape({ id: bound('task-1'), page: { size: bound(20) } });
    expect(shaped.id).toBeInstanceOf(Slot);
    const template = { text: 'SELECT $1, $2, $3', parameters: [shaped.page.size, 'constant', shaped.id], prepare: true };
    expect(bind(template, values)).toEqual([20, 'constant', 'task-1']);
  });

  it('refuses values that are neither plain data nor bound', () => {
    expect(() => shape({ at: new Date() })).toThrow(/bound/);
  });
});

describe('the template cache', () => {
  it('compiles a shape once per owner', () => {
    const cache = new TemplateCache();
    const owner = {};
    let compiled = 0;
    const compile = () => ((compiled += 1), { text: 'SELECT 1', parameters: [], prepare: true });
    cache.get(owner, 'k', compile);
    cache.get(owner, 'k', compile);
    cache.get({}, 'k', compile);
    expect(compiled).toBe(2);
  });

  it('stops remembering past its capacity instead of evicting', () => {
    const cache = new TemplateCache(1);
    const owner = {};
    let compiled = 0;
    const compile = () => ((compiled += 1), { text: 'SELECT 1', parameters: [], prepare: true });
    cache.get(owner, 'a', compile);
    cache.get(owner, 'b', compile);
    cache.get(owner, 'b', compile);
    cache.get(owner, 'a', compile);
    expect(compiled).toBe(3);
  });
});
