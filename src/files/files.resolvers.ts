import type { Resolvers } from '../generated/graphql.js';

/** Where `GET /files/:id` serves a file, relative to the server. */
export const fileUrl = (id: string): string => `/files/${id}`;

export const fileResolvers: Resolvers = {
  Attachment: {
    url: (f) => fileUrl(f.id),
  },
};
