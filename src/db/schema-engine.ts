import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';

// Prisma's schema engine compiled to WebAssembly: it applies and diffs migrations exactly as
// `prisma migrate` does, without the native binary these machines cannot download.
// Its own entry point imports the .wasm as an ES module, which Node refuses, so we instantiate it.

const require = createRequire(import.meta.url);
let ready: Promise<void> | undefined;

function loadWasm(): Promise<void> {
  ready ??= (async () => {
    // The package does not export the .wasm path, so find it beside the bindings it ships with.
    const wasmPath = join(dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')), 'schema_engine_bg.wasm');
    const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), {
      './schema_engine_bg.js': bindings as unknown as WebAssembly.ModuleImports,
    });
    const exports = instance.exports as WebAssembly.Exports & { __wbindgen_start(): void };
    (bindings as unknown as { __wbg_set_wasm(e: WebAssembly.Exports): void }).__wbg_set_wasm(exports);
    exports.__wbindgen_start();
  })();
  return ready;
}

/**
 * @prisma/adapter-pg runs a migration script by splitting it on every ';', which breaks functions
 * (dollar-quoted bodies) and comments. The native engine sends the script whole, and so do we: one
 * simple-protocol query, which PostgreSQL runs as a single implicit transaction. One connection
 * (max: 1) keeps the engine's session state (its advisory lock) on one session, as natively.
 */
class WholeScriptPg extends PrismaPg {
  readonly connected: Array<{ dispose(): Promise<void> }> = [];

  override async connect() {
    const adapter = await super.connect();
    this.connected.push(adapter);
    const pool = adapter.underlyingDriver();
    adapter.executeScript = async (script: string) => {
      await pool.query(script);
    };
    return adapter;
  }
}

export interface SchemaFile {
  path: string;
  content: string;
}

/** Opens a schema engine on `connectionString`; call `free()` on it when done (this also closes its connection). */
export async function openSchemaEngine(
  connectionString: string,
  datamodels: SchemaFile[],
  log: (message: string) => void = () => {},
): Promise<SchemaEngine> {
  await loadWasm();
  const factory = new WholeScriptPg({ connectionString, max: 1 });
  const engine = await bindings.SchemaEngine.new(
    { datamodels: datamodels.map((file) => [file.path, file.content]) },
    log,
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  // The engine's free() leaves its pool open until pg's idle timeout (10 s), which would keep the
  // migration process (and scripts) alive that long after migrating.
  const free = engine.free.bind(engine);
  engine.free = () => {
    free();
    for (const adapter of factory.connected.splice(0)) adapter.dispose().catch(() => {});
  };
  return engine;
}
