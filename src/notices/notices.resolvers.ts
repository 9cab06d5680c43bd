import { findRequestFor } from '../contacts/contacts.service.js';
import type { Resolvers } from '../generated/graphql.js';
import { requireViewer } from '../graphql/context.js';
import { pageSize } from '../graphql/pagination.js';
import { findMessageFor } from '../messages/messages.service.js';
import { listNotices, type NoticeModel, openNoticeStream, toModel } from './notices.service.js';
import type { StoredNotice } from './notices.store.js';

// Notice objects are built from the stored payload; GraphQL's default resolvers read their fields.
type AnyNotice = never;

export const noticeResolvers: Resolvers = {
  Query: {
    notices: async (_p, args, ctx) => {
      const viewer = requireViewer(ctx);
      const page = await listNotices(ctx.deps.db, viewer.userId, args.after, pageSize(args.first));
      const edges = page.items.map((n) => {
        const node = toModel(n);
        return { cursor: node.cursor, node: node as AnyNotice };
      });
      return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
    },
  },
  Subscription: {
    notices: {
      subscribe: async (_p, args, ctx) => {
        const viewer = requireViewer(ctx);
        return openNoticeStream(
          ctx.deps.bus,
          viewer.userId,
          args.after,
        ) as unknown as AsyncIterable<AnyNotice>;
      },
      resolve: (n: unknown) => toModel(n as StoredNotice) as AnyNotice,
    },
  },
  Notice: {
    __resolveType: (n) => (n as unknown as NoticeModel).__typename as never,
  },
  FriendRequestReceived: {
    request: async (n, _a, ctx) => {
      return findRequestFor(ctx.deps.db, requireViewer(ctx).userId, n.requestId);
    },
  },
  MessageReceived: {
    message: async (n, _a, ctx) => {
      return findMessageFor(ctx.deps.db, requireViewer(ctx).userId, n.messageId, ctx.deps.clock.now());
    },
  },
};
