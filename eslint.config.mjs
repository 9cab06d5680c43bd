// ESLint checks only the SDL (Biome lints and formats the TypeScript): every type, field,
// argument, input field, enum value and directive in schema/ must carry a description, so the
// API reference (GraphiQL's docs pane, schema.graphql) has no blank entries.
import graphql from '@graphql-eslint/eslint-plugin';

export default [
  {
    files: ['schema/**/*.graphql'],
    languageOptions: {
      parser: graphql.parser,
      parserOptions: { graphQLConfig: { schema: 'schema/*.graphql' } },
    },
    plugins: { '@graphql-eslint': graphql },
    rules: {
      '@graphql-eslint/require-description': [
        'error',
        {
          types: true,
          rootField: true,
          FieldDefinition: true,
          InputValueDefinition: true,
          EnumValueDefinition: true,
          DirectiveDefinition: true,
        },
      ],
      '@graphql-eslint/no-hashtag-description': 'error',
    },
  },
];
