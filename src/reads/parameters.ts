// A read is built with Kysely once per shape and bound per request. Building and compiling a
// statement costs more CPU than the rest of a direct read (docs/performance.md), so a request's
// input separates what changes the SQL text (which filters are present, a boolean's value, an order
// field) from what only fills its parameters: the latter is wrapped in `bound(...)`. While a
// statement is built, each Bound stands as a Slot; the compiled statement keeps the slots among its
// parameters, and binding a later request with the same shape replaces them with its values.

/** A value that goes into a statement as a parameter ($n), never into its text. */
export class Bound<T = unknown> {
  constructor(readonly value: T) {}
}

export const bound = <T>(value: T): Bound<T> => new Bound(value);

/** Where the i-th Bound of a request's input goes among a compiled statement's parameters. */
export class Slot {
  constructor(readonly index: number) {}
}

/**
 * The input as the builder sees it: every Bound replaced by a Slot. Building code may branch on
 * anything else, and a builder that tried to inspect a value it was given as a Slot would fail loudly.
 */
export type Shaped<T> = T extends Bound<unknown>
  ? Slot
  : T extends readonly (infer Item)[]
    ? readonly Shaped<Item>[]
    : T extends object
      ? { readonly [K in keyof T]: Shaped<T[K]> }
      : T;

export interface ShapedInput<T> {
  /** Equal for two inputs exactly when a statement built for one serves the other. */
  key: string;
  shaped: Shaped<T>;
  values: unknown[];
}

/** Splits an input into its shape (with its key) and its bound values, in a fixed walk order. */
export function shape<T>(input: T): ShapedInput<T> {
  const values: unknown[] = [];
  let key = '';
  const walk = (value: unknown): unknown => {
    if (value instanceof Bound) {
      key += '?';
      values.push(value.value);
      return new Slot(values.length - 1);
    }
    if (value === null || value === undefined || typeof value !== 'object') {
      key += value === undefined ? '~' : JSON.stringify(value);
      return value;
    }
    if (Array.isArray(value)) {
      key += '[';
      const items = value.map((item) => {
        const shaped = walk(item);
        key += ',';
        return shaped;
      });
      key += ']';
      return items;
    }
    if (Object.getPrototypeOf(value) !== Object.prototype) throw new TypeError('a read input holds plain data; wrap other values in bound()');
    key += '{';
    const shaped: Record<string, unknown> = {};
    for (const name of Object.keys(value).sort()) {
      key += `${name}:`;
      shaped[name] = walk((value as Record<string, unknown>)[name]);
      key += ',';
    }
    key += '}';
    return shaped;
  };
  const shaped = walk(input) as Shaped<T>;
  return { key, shaped, values };
}

/** A compiled statement whose parameters may hold slots. */
export interface Template {
  text: string;
  parameters: readonly unknown[];
  /** False when its best plan depends on its values (see ReadEnv.planPerValue). */
  prepare: boolean;
}

/** The parameters of `template` for the request whose bound values are `values`. */
export function bind(template: Template, values: readonly unknown[]): unknown[] {
  return template.parameters.map((parameter) => (parameter instanceof Slot ? values[parameter.index] : parameter));
}

/**
 * Compiled statements by plan and shape. A process meets few shapes (documents times the filters
 * they use); the first `capacity` are kept, and a shape past that is compiled on every request
 * rather than evicting one that is in use.
 */
export class TemplateCache {
  private readonly templates = new WeakMap<object, Map<string, Template>>();
  private size = 0;

  constructor(private readonly capacity = 2_000) {}

  get(owner: object, key: string, compile: () => Template): Template {
    let byKey = this.templates.get(owner);
    const cached = byKey?.get(key);
    if (cached) return cached;
    const template = compile();
    if (this.size < this.capacity) {
      if (!byKey) this.templates.set(owner, (byKey = new Map()));
      byKey.set(key, template);
      this.size += 1;
    }
    return template;
  }
}
