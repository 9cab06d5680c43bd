/* eslint-disable */
import * as types from './graphql.js';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment NoticeFields on Notice {\n    __typename\n    cursor\n    at\n    ... on MessageReceived {\n      conversationId\n      messageId\n      senderId\n    }\n    ... on FriendRequestReceived {\n      requestId\n      fromUserId\n      greeting\n    }\n    ... on FriendRequestAccepted {\n      requestId\n      byUserId\n      conversationId\n    }\n    ... on ContactRemovedYou {\n      byUserId\n    }\n    ... on ContactChanged {\n      peerId\n      state\n      deviceId\n    }\n    ... on ConversationPurged {\n      conversationId\n      reason\n      purgedMessages\n    }\n    ... on GroupMemberChanged {\n      groupId\n      change\n      userIds\n    }\n  }\n": typeof types.NoticeFieldsFragmentDoc,
    "\n  subscription Notices($after: String) {\n    notices(after: $after) {\n      ...NoticeFields\n    }\n  }\n": typeof types.NoticesDocument,
    "\n  query NoticeFrontier($after: String) {\n    notices(after: $after, first: 100) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.NoticeFrontierDocument,
    "\n  mutation SendMessage($input: SendMessageInput!) {\n    sendMessage(input: $input) {\n      message {\n        id\n        conversationId\n        body\n        sentAt\n        sender {\n          id\n        }\n      }\n      userErrors {\n        code\n        message\n        field\n        retryAfterSeconds\n      }\n    }\n  }\n": typeof types.SendMessageDocument,
};
const documents: Documents = {
    "\n  fragment NoticeFields on Notice {\n    __typename\n    cursor\n    at\n    ... on MessageReceived {\n      conversationId\n      messageId\n      senderId\n    }\n    ... on FriendRequestReceived {\n      requestId\n      fromUserId\n      greeting\n    }\n    ... on FriendRequestAccepted {\n      requestId\n      byUserId\n      conversationId\n    }\n    ... on ContactRemovedYou {\n      byUserId\n    }\n    ... on ContactChanged {\n      peerId\n      state\n      deviceId\n    }\n    ... on ConversationPurged {\n      conversationId\n      reason\n      purgedMessages\n    }\n    ... on GroupMemberChanged {\n      groupId\n      change\n      userIds\n    }\n  }\n": types.NoticeFieldsFragmentDoc,
    "\n  subscription Notices($after: String) {\n    notices(after: $after) {\n      ...NoticeFields\n    }\n  }\n": types.NoticesDocument,
    "\n  query NoticeFrontier($after: String) {\n    notices(after: $after, first: 100) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.NoticeFrontierDocument,
    "\n  mutation SendMessage($input: SendMessageInput!) {\n    sendMessage(input: $input) {\n      message {\n        id\n        conversationId\n        body\n        sentAt\n        sender {\n          id\n        }\n      }\n      userErrors {\n        code\n        message\n        field\n        retryAfterSeconds\n      }\n    }\n  }\n": types.SendMessageDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment NoticeFields on Notice {\n    __typename\n    cursor\n    at\n    ... on MessageReceived {\n      conversationId\n      messageId\n      senderId\n    }\n    ... on FriendRequestReceived {\n      requestId\n      fromUserId\n      greeting\n    }\n    ... on FriendRequestAccepted {\n      requestId\n      byUserId\n      conversationId\n    }\n    ... on ContactRemovedYou {\n      byUserId\n    }\n    ... on ContactChanged {\n      peerId\n      state\n      deviceId\n    }\n    ... on ConversationPurged {\n      conversationId\n      reason\n      purgedMessages\n    }\n    ... on GroupMemberChanged {\n      groupId\n      change\n      userIds\n    }\n  }\n"): typeof import('./graphql.js').NoticeFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription Notices($after: String) {\n    notices(after: $after) {\n      ...NoticeFields\n    }\n  }\n"): typeof import('./graphql.js').NoticesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query NoticeFrontier($after: String) {\n    notices(after: $after, first: 100) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): typeof import('./graphql.js').NoticeFrontierDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SendMessage($input: SendMessageInput!) {\n    sendMessage(input: $input) {\n      message {\n        id\n        conversationId\n        body\n        sentAt\n        sender {\n          id\n        }\n      }\n      userErrors {\n        code\n        message\n        field\n        retryAfterSeconds\n      }\n    }\n  }\n"): typeof import('./graphql.js').SendMessageDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
