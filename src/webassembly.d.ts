/**
 * The part of Node's WebAssembly global that modelgate uses: TypeScript declares WebAssembly only
 * in its DOM library, which a Node program must not pull in.
 */
declare namespace WebAssembly {
  type Imports = Record<string, Record<string, unknown>>;
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, unknown>;
  }
}
