import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * The client preset over the server's committed SDL: every `graphql(`…`)` document in src/ gets its
 * result and variable types, and `graphql()` returns them typed. Output is committed (src/gql/) and
 * deterministic, so a changed schema or document shows up as a diff.
 */
const config: CodegenConfig = {
  schema: '../../schema.graphql',
  documents: ['src/**/*.ts', '!src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    'src/gql/': {
      preset: 'client',
      presetConfig: {
        // Fragments are plain types here (no useFragment() unmasking): a notice is one union value.
        fragmentMasking: false,
      },
      config: {
        // Documents are strings (TypedDocumentString): graphql-ws and fetch send them as they are,
        // and nothing parses GraphQL at run time.
        documentMode: 'string',
        // ESM with NodeNext: relative imports end in .js.
        emitLegacyCommonJSImports: false,
        useTypeImports: true,
        enumsAsTypes: true,
        strictScalars: true,
        scalars: { DateTime: 'string' },
        // A field the client did not select is absent, not optional-and-undefined.
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
        // `__typename` only where a document selects it (the server sends nothing else).
        skipTypename: true,
      },
    },
  },
};

export default config;
