import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed documents for the operations a client sends (test/operations/*.graphql), generated from the
// committed schema.graphql into test/generated/ (not committed). The tests use them as a client would.
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/operations/**/*.graphql'],
  generates: {
    'test/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { useTypeImports: true, emitLegacyCommonJSImports: false, enumsAsTypes: true, scalars: { DateTime: 'string' } },
    },
  },
  emitLegacyCommonJSImports: false,
  silent: true,
};

export default config;
