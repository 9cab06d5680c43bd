import type { Resolvers } from '../generated/graphql.js';
import { requireViewer } from '../graphql/context.js';
import { payload } from '../graphql/errors.js';
import { exportConversation, exportUrl } from './export.service.js';

export const exportResolvers: Resolvers = {
  Mutation: {
    exportConversation: async (_p, { input }, ctx) =>
      payload(await exportConversation(ctx.deps, requireViewer(ctx), input)),
  },
  ConversationExport: {
    url: (e) => exportUrl(e),
  },
};
