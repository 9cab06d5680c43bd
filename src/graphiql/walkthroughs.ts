// The README's walk-throughs, written once. The README shows each operation in a ```graphql block with
// its variables in a ```json block beside it; the GraphiQL page (client.tsx) preloads them as tabs, one
// per walk-through and person; test/walkthroughs runs every step in order against a real server and
// checks that the README's blocks are exactly these operations.
//
// Rules: one named operation per snippet; every id is a variable, never pasted into the query text;
// every mutation asks for `userErrors { code message }`; an operation name means one text everywhere.
// No imports: this file is bundled for the browser and compiled for Node alike.

/** Who runs a step: the token's subject, whether it is an operator's, its device id, how to get it. */
export interface Person {
  userId: string;
  operator?: boolean;
  deviceId?: string;
}

export const PEOPLE = {
  alice: { userId: 'alice' },
  bob: { userId: 'bob' },
  olga: { userId: 'olga', operator: true },
  ann: { userId: 'ann' },
  ben: { userId: 'ben' },
  cat: { userId: 'cat' },
  dan: { userId: 'dan' },
  /** cat on a named device: G7 asks for a code the first time a device dissolves, never again from it. */
  catPhone: { userId: 'cat', deviceId: 'phone' },
  gus: { userId: 'gus' },
} as const satisfies Record<string, Person>;

export type PersonKey = keyof typeof PEOPLE;

/** The command that prints a token for `who` (README "Tokens and GraphiQL"). */
export function tokenCommand(who: PersonKey): string {
  const p: Person = PEOPLE[who];
  return [
    `npm run token -- ${p.userId}`,
    p.operator ? ' --operator' : '',
    p.deviceId ? ` --device ${p.deviceId}` : '',
  ].join('');
}

/**
 * Where a variable's value comes from when it is not written out:
 * - `step` + `path`: the answer of an earlier step (of this or an earlier walk-through), at a dotted
 *   path under `data` (`respondToFriendRequest.contact.conversation.id`, list indexes as numbers);
 * - `verificationCode`: the newest G7 code sent to `who` for the group of `groupFrom`, read from
 *   `DATA_DIR/verification-codes.log` in development (README "Safeguards").
 */
export type From =
  | { step: string; path: string; walkthrough?: string }
  | { verificationCode: PersonKey; groupFrom: { step: string; path: string; walkthrough?: string } };

export type Variable =
  | string
  | number
  | boolean
  | null
  | { from: From }
  | readonly Variable[]
  | { readonly [field: string]: Variable };

/** A value that must be present (not null), whatever it is. */
export const PRESENT = '<present>';

export interface Step {
  /** Unique within its walk-through; `from` refers to it. */
  id: string;
  /** What the step shows, as the README says it (short). */
  title: string;
  as: PersonKey;
  /** Exactly one named operation. */
  operation: string;
  variables?: Record<string, Variable>;
  /**
   * What the answer must hold: a dotted path under `data` → the value (compared deeply; `PRESENT`
   * for any non-null value). A subscription step instead lists the notice types it must have seen
   * by the end of its walk-through.
   */
  expect?: Record<string, unknown>;
  notices?: string[];
}

export interface Walkthrough {
  id: string;
  /** The README section heading it belongs to (without the leading #'s). */
  section: string;
  /** Tab names start with it. */
  title: string;
  /** The operator may move the clock: the server must run with TIME_TRAVEL=1. */
  timeTravel?: boolean;
  steps: Step[];
}

// --- operations ---------------------------------------------------------------------------------

const ERRORS = 'userErrors { code message }';

const op = {
  me: `query Me {
  me { id name }
}`,
  watchNotices: `subscription WatchNotices {
  notices {
    cursor
    at
    __typename
    ... on FriendRequestReceived { requestId fromUserId greeting }
    ... on FriendRequestAccepted { byUserId conversationId }
    ... on ContactRemovedYou { byUserId }
    ... on ContactChanged { peerId state }
    ... on MessageReceived { conversationId message { body } }
    ... on ConversationPurged { conversationId reason purgedMessages }
    ... on GroupMemberChanged { groupId change userIds byUserId role }
    ... on OwnershipTransferChanged { groupId toUserId transferStatus: status }
    ... on GroupDissolutionChanged { groupId status effectiveAt undoUntil byOwnerId endReason }
    ... on DissolutionReviewDecided { reviewId reviewStatus: status dissolvedGroupIds refusedGroupIds }
  }
}`,
  sendFriendRequest: `mutation SendFriendRequest($userId: ID!, $greeting: String) {
  sendFriendRequest(input: { userId: $userId, greeting: $greeting }) {
    request { id status }
    contact { state }
    ${ERRORS}
  }
}`,
  incomingRequests: `query IncomingRequests {
  friendRequests(direction: INCOMING) {
    edges { node { id from { id } greeting status } }
  }
}`,
  respondToFriendRequest: `mutation RespondToFriendRequest($requestId: ID!, $accept: Boolean!) {
  respondToFriendRequest(input: { requestId: $requestId, accept: $accept }) {
    contact { state conversation { id } }
    ${ERRORS}
  }
}`,
  sendMessage: `mutation SendMessage($conversationId: ID!, $body: String!) {
  sendMessage(input: { conversationId: $conversationId, body: $body }) {
    message { id body sentAt }
    ${ERRORS}
  }
}`,
  deletionPreview: `query DeletionPreview($userId: ID!, $action: ContactAction!) {
  deletionPreview(userId: $userId, action: $action) {
    allowed
    stateAfter
    retentionStateAfter
    purgeAt
    restorable
    messagesPurged
    reason
  }
}`,
  deleteContact: `mutation DeleteContact($userId: ID!) {
  deleteContact(input: { userId: $userId }) {
    contact { state }
    retention { state purgeAt restorableUntil reason }
    ${ERRORS}
  }
}`,
  contact: `query Contact($userId: ID!) {
  contact(userId: $userId) { state conversation { id } }
}`,
  requestDeletionProof: `mutation RequestDeletionProof($userId: ID!) {
  requestDeletionProof(input: { userId: $userId }) {
    proof
    ${ERRORS}
  }
}`,
  deletionProofKey: `query DeletionProofKey {
  deletionProofKey { kty crv x y kid alg }
}`,
  messages: `query Messages($conversationId: ID!) {
  messages(conversationId: $conversationId, first: 20) {
    edges { node { id body sender { id } starred } }
  }
}`,
  advanceClock: `mutation AdvanceClock($seconds: Int!) {
  advanceClock(input: { seconds: $seconds }) {
    now
    ${ERRORS}
  }
}`,
  runRetentionSweep: `mutation RunRetentionSweep {
  runRetentionSweep {
    run {
      purgedConversations
      purgedMessages
      purgedFiles
      dissolutionsFinalized
      paymentsDetached
      heldBack
    }
    ${ERRORS}
  }
}`,
  retentionStatus: `query RetentionStatus($conversationId: ID!) {
  retentionStatus(conversationId: $conversationId) {
    state
    period
    purgeAt
    purgedAt
    restorable
    restorableUntil
    reason
    visibleMessages
    holds { id reason placedAt }
  }
}`,
  blockContact: `mutation BlockContact($userId: ID!, $deleteHistory: Boolean!) {
  blockContact(input: { userId: $userId, deleteHistory: $deleteHistory }) {
    contact { state }
    retention { state reason visibleMessages }
    ${ERRORS}
  }
}`,
  unblockContact: `mutation UnblockContact($userId: ID!) {
  unblockContact(input: { userId: $userId }) {
    contact { state }
    ${ERRORS}
  }
}`,
  createGroup: `mutation CreateGroup($name: String!, $kind: GroupKind!, $memberIds: [ID!]!, $guardianId: ID) {
  createGroup(input: { name: $name, kind: $kind, memberIds: $memberIds, guardianId: $guardianId }) {
    group { id name memberCount conversation { id } }
    userErrors { code message field }
  }
}`,
  inviteToGroup: `mutation InviteToGroup($groupId: ID!, $userIds: [ID!]!) {
  inviteToGroup(input: { groupId: $groupId, userIds: $userIds }) {
    group { memberCount }
    userErrors { code message field }
  }
}`,
  setMemberRole: `mutation SetMemberRole($groupId: ID!, $userId: ID!, $role: AssignableGroupRole!) {
  setMemberRole(input: { groupId: $groupId, userId: $userId, role: $role }) {
    member { user { id } role }
    ${ERRORS}
  }
}`,
  removeFromGroup: `mutation RemoveFromGroup($groupId: ID!, $userId: ID!) {
  removeFromGroup(input: { groupId: $groupId, userId: $userId }) {
    group { memberCount }
    userErrors { code message field }
  }
}`,
  leaveGroup: `mutation LeaveGroup($groupId: ID!) {
  leaveGroup(input: { groupId: $groupId }) {
    groupId
    ${ERRORS}
  }
}`,
  transferOwnership: `mutation TransferOwnership($groupId: ID!, $toUserId: ID!) {
  transferOwnership(input: { groupId: $groupId, toUserId: $toUserId }) {
    transfer { id status }
    ${ERRORS}
  }
}`,
  respondToOwnershipTransfer: `mutation RespondToOwnershipTransfer($transferId: ID!, $accept: Boolean!) {
  respondToOwnershipTransfer(input: { transferId: $transferId, accept: $accept }) {
    group { owner { id } viewerRole }
    ${ERRORS}
  }
}`,
  sendFileAndPayment: `mutation SendFileAndPayment($conversationId: ID!, $body: String!, $attachment: AttachmentInput, $payment: PaymentInput) {
  sendMessage(input: { conversationId: $conversationId, body: $body, attachment: $attachment, payment: $payment }) {
    message {
      attachment { name size sha256 url }
      payment { amountCents currency to { id } }
    }
    userErrors { code message field }
  }
}`,
  payments: `query Payments {
  payments(first: 20) {
    edges { node { amountCents currency from { id } to { id } } }
  }
}`,
  commonGroups: `query CommonGroups($userId: ID!) {
  commonGroups(userId: $userId) {
    edges { node { name } }
  }
}`,
  dissolutionPreview: `query DissolutionPreview($groupId: ID!, $keepHistory: Boolean!) {
  dissolutionPreview(groupId: $groupId, keepHistory: $keepHistory) {
    status
    effectiveAt
    undoUntil
    purgeAt
    messagesToPurge
    filesToDelete
    paymentsLeaving
    paymentsVisibleUntil
    stepUpRequired
    stepUpReasons
    needsGuardian
    refusals { code message }
  }
}`,
  requestVerificationCode: `mutation RequestVerificationCode($groupId: ID!) {
  requestVerificationCode(input: { groupId: $groupId }) {
    expiresAt
    ${ERRORS}
  }
}`,
  dissolveGroup: `mutation DissolveGroup($groupId: ID!, $keepHistory: Boolean!, $verificationCode: String) {
  dissolveGroup(input: { groupId: $groupId, keepHistory: $keepHistory, verificationCode: $verificationCode }) {
    dissolution { id status effectiveAt undoUntil confirmBy paymentsVisibleUntil }
    ${ERRORS}
  }
}`,
  restoreGroup: `mutation RestoreGroup($groupId: ID!) {
  restoreGroup(input: { groupId: $groupId }) {
    group { memberCount }
    dissolution { status endedAt }
    ${ERRORS}
  }
}`,
  groupDissolution: `query GroupDissolution($groupId: ID!) {
  group(id: $groupId) {
    name
    dissolution { status keepHistory effectiveAt undoUntil finalizedAt }
  }
}`,
  confirmDissolution: `mutation ConfirmDissolution($dissolutionId: ID!, $confirm: Boolean!) {
  confirmDissolution(input: { dissolutionId: $dissolutionId, confirm: $confirm }) {
    dissolution { status effectiveAt undoUntil endReason }
    ${ERRORS}
  }
}`,
  dissolveGroups: `mutation DissolveGroups($groupIds: [ID!]!, $keepHistory: Boolean!) {
  dissolveGroups(input: { groupIds: $groupIds, keepHistory: $keepHistory }) {
    review { id status items { groupId error message } }
    ${ERRORS}
  }
}`,
  reviewQueue: `query ReviewQueue {
  reviewQueue(first: 20) {
    edges { node { id requestedBy { id } keepHistory status items { groupId error } } }
  }
}`,
  reviewDissolution: `mutation ReviewDissolution($reviewId: ID!, $approve: Boolean!) {
  reviewDissolution(input: { reviewId: $reviewId, approve: $approve }) {
    review { status decidedBy items { groupId error dissolutionId } }
    ${ERRORS}
  }
}`,
  setRetentionPolicy: `mutation SetRetentionPolicy($conversationId: ID, $period: RetentionPeriod!, $days: Int) {
  setRetentionPolicy(input: { conversationId: $conversationId, period: $period, days: $days }) {
    policy { conversationId period days }
    status { period nextExpiryAt visibleMessages }
    userErrors { code message field }
  }
}`,
  starMessage: `mutation StarMessage($messageId: ID!, $starred: Boolean!) {
  starMessage(input: { messageId: $messageId, starred: $starred }) {
    message { id starred }
    ${ERRORS}
  }
}`,
  placeLegalHold: `mutation PlaceLegalHold($conversationId: ID!, $reason: String!) {
  placeLegalHold(input: { conversationId: $conversationId, reason: $reason }) {
    hold { id active placedAt }
    userErrors { code message field }
  }
}`,
  releaseLegalHold: `mutation ReleaseLegalHold($holdId: ID!) {
  releaseLegalHold(input: { holdId: $holdId }) {
    hold { active releasedAt }
    ${ERRORS}
  }
}`,
  legalHolds: `query LegalHolds {
  legalHolds(first: 20) {
    edges { node { id reason active conversationId } }
  }
}`,
} as const;

export const OPERATIONS: Readonly<Record<string, string>> = op;

const none = { userErrors: [] };
const refused = (code: string) => ({ 'userErrors.0.code': code });
/** `expect` under a root field: `under('x', { a: 1 })` → `{ 'x.a': 1 }`. */
function under(root: string, e: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [`${root}.${k}`, v]));
}
const from = (step: string, path: string, walkthrough?: string): { from: From } => ({
  from: walkthrough ? { step, path, walkthrough } : { step, path },
});

const DAY = 24 * 3600;

// --- the walk-throughs --------------------------------------------------------------------------

const conversation = from('accept', 'respondToFriendRequest.contact.conversation.id');

export const RELATIONSHIPS: Walkthrough = {
  id: 'relationships',
  section: 'Relationship lifecycle — a walk-through',
  title: 'Relationships',
  timeTravel: true,
  steps: [
    {
      id: 'watch',
      title: "Watch bob's notices",
      as: 'bob',
      operation: op.watchNotices,
      notices: ['FriendRequestReceived', 'MessageReceived', 'ContactChanged', 'ConversationPurged'],
    },
    {
      id: 'me-alice',
      title: 'Make alice known',
      as: 'alice',
      operation: op.me,
      expect: { 'me.id': 'alice' },
    },
    { id: 'me-bob', title: 'Make bob known', as: 'bob', operation: op.me, expect: { 'me.id': 'bob' } },
    {
      id: 'request',
      title: 'Befriend: alice asks bob',
      as: 'alice',
      operation: op.sendFriendRequest,
      variables: { userId: 'bob', greeting: 'hi!' },
      expect: under('sendFriendRequest', { 'request.status': 'PENDING', ...none }),
    },
    {
      id: 'incoming',
      title: "bob finds alice's request",
      as: 'bob',
      operation: op.incomingRequests,
      expect: {
        'friendRequests.edges.0.node.from.id': 'alice',
        'friendRequests.edges.0.node.status': 'PENDING',
      },
    },
    {
      id: 'accept',
      title: 'bob accepts',
      as: 'bob',
      operation: op.respondToFriendRequest,
      variables: { requestId: from('incoming', 'friendRequests.edges.0.node.id'), accept: true },
      expect: under('respondToFriendRequest', { 'contact.state': 'FRIEND', ...none }),
    },
    {
      id: 'send',
      title: 'Talk: alice writes',
      as: 'alice',
      operation: op.sendMessage,
      variables: { conversationId: conversation, body: 'hello' },
      expect: under('sendMessage', { 'message.body': 'hello', ...none }),
    },
    {
      id: 'preview',
      title: 'alice previews deleting bob',
      as: 'alice',
      operation: op.deletionPreview,
      variables: { userId: 'bob', action: 'DELETE' },
      expect: under('deletionPreview', {
        allowed: true,
        stateAfter: 'DELETED_BY_ME',
        retentionStateAfter: 'ONE_WAY_DELETED',
        restorable: true,
      }),
    },
    {
      id: 'delete-alice',
      title: 'alice deletes bob (one-way)',
      as: 'alice',
      operation: op.deleteContact,
      variables: { userId: 'bob' },
      expect: under('deleteContact', {
        'contact.state': 'DELETED_BY_ME',
        'retention.state': 'ONE_WAY_DELETED',
        ...none,
      }),
    },
    {
      id: 'bob-sees-friend',
      title: 'bob still sees a friend',
      as: 'bob',
      operation: op.contact,
      variables: { userId: 'alice' },
      expect: { 'contact.state': 'FRIEND' },
    },
    {
      id: 'bob-send',
      title: "bob's message is refused",
      as: 'bob',
      operation: op.sendMessage,
      variables: { conversationId: conversation, body: 'still there?' },
      expect: under('sendMessage', { message: null, ...refused('VERIFICATION_REQUIRED') }),
    },
    {
      id: 'delete-bob',
      title: 'Mutual delete: bob deletes alice',
      as: 'bob',
      operation: op.deleteContact,
      variables: { userId: 'alice' },
      expect: under('deleteContact', {
        'contact.state': 'MUTUALLY_DELETED',
        'retention.state': 'BUFFERED',
        'retention.reason': 'R3',
        'retention.purgeAt': PRESENT,
        ...none,
      }),
    },
    {
      id: 'proof',
      title: 'bob gets a signed deletion proof',
      as: 'bob',
      operation: op.requestDeletionProof,
      variables: { userId: 'alice' },
      expect: under('requestDeletionProof', { proof: PRESENT, ...none }),
    },
    {
      id: 'proof-key',
      title: 'The key that verifies it',
      as: 'bob',
      operation: op.deletionProofKey,
      expect: { 'deletionProofKey.crv': 'P-256', 'deletionProofKey.alg': 'ES256' },
    },
    {
      id: 'request-again',
      title: 'Restore: alice asks again',
      as: 'alice',
      operation: op.sendFriendRequest,
      variables: { userId: 'bob', greeting: 'sorry!' },
      expect: under('sendFriendRequest', { 'request.status': 'PENDING', ...none }),
    },
    {
      id: 'incoming-again',
      title: 'bob finds the new request',
      as: 'bob',
      operation: op.incomingRequests,
      expect: { 'friendRequests.edges.0.node.greeting': 'sorry!' },
    },
    {
      id: 'accept-again',
      title: 'bob accepts again',
      as: 'bob',
      operation: op.respondToFriendRequest,
      variables: { requestId: from('incoming-again', 'friendRequests.edges.0.node.id'), accept: true },
      expect: under('respondToFriendRequest', { 'contact.state': 'FRIEND', ...none }),
    },
    {
      id: 'history-back',
      title: 'The history is back',
      as: 'bob',
      operation: op.messages,
      variables: { conversationId: conversation },
      expect: { 'messages.edges.0.node.body': 'hello' },
    },
    {
      id: 'delete-alice-2',
      title: 'Delete both ways again (alice)',
      as: 'alice',
      operation: op.deleteContact,
      variables: { userId: 'bob' },
      expect: under('deleteContact', { 'contact.state': 'DELETED_BY_ME', ...none }),
    },
    {
      id: 'delete-bob-2',
      title: 'Delete both ways again (bob)',
      as: 'bob',
      operation: op.deleteContact,
      variables: { userId: 'alice' },
      expect: under('deleteContact', { 'retention.state': 'BUFFERED', ...none }),
    },
    {
      id: 'advance-30d',
      title: 'olga moves the clock 30 days on',
      as: 'olga',
      operation: op.advanceClock,
      variables: { seconds: 30 * DAY },
      expect: under('advanceClock', { now: PRESENT, ...none }),
    },
    {
      id: 'sweep',
      title: 'olga runs the sweep',
      as: 'olga',
      operation: op.runRetentionSweep,
      expect: under('runRetentionSweep', { 'run.purgedConversations': 1, 'run.purgedMessages': 1, ...none }),
    },
    {
      id: 'purged',
      title: 'The conversation reads PURGED',
      as: 'alice',
      operation: op.retentionStatus,
      variables: { conversationId: conversation },
      expect: under('retentionStatus', { state: 'PURGED', reason: 'R3', visibleMessages: 0, holds: null }),
    },
    {
      id: 'readd',
      title: 'A re-add: alice asks',
      as: 'alice',
      operation: op.sendFriendRequest,
      variables: { userId: 'bob', greeting: 'fresh start' },
      expect: under('sendFriendRequest', { 'request.status': 'PENDING', ...none }),
    },
    {
      id: 'incoming-readd',
      title: 'bob finds the re-add request',
      as: 'bob',
      operation: op.incomingRequests,
      expect: { 'friendRequests.edges.0.node.greeting': 'fresh start' },
    },
    {
      id: 'accept-readd',
      title: 'bob accepts: an empty conversation with the same id',
      as: 'bob',
      operation: op.respondToFriendRequest,
      variables: { requestId: from('incoming-readd', 'friendRequests.edges.0.node.id'), accept: true },
      expect: under('respondToFriendRequest', { 'contact.state': 'FRIEND', ...none }),
    },
    {
      id: 'send-again',
      title: 'alice writes in it',
      as: 'alice',
      operation: op.sendMessage,
      variables: { conversationId: conversation, body: 'hello again' },
      expect: under('sendMessage', { 'message.body': 'hello again', ...none }),
    },
    {
      id: 'block-delete',
      title: 'Block and delete: alice blocks bob and purges the history',
      as: 'alice',
      operation: op.blockContact,
      variables: { userId: 'bob', deleteHistory: true },
      expect: under('blockContact', {
        'contact.state': 'BLOCKED_BY_ME',
        'retention.state': 'PURGED',
        'retention.reason': 'R4',
        'retention.visibleMessages': 0,
        ...none,
      }),
    },
    {
      id: 'bob-after-block',
      title: 'bob still sees a friend',
      as: 'bob',
      operation: op.contact,
      variables: { userId: 'alice' },
      expect: { 'contact.state': 'FRIEND' },
    },
    {
      id: 'unblock',
      title: 'alice unblocks: her side reads DELETED_BY_ME',
      as: 'alice',
      operation: op.unblockContact,
      variables: { userId: 'bob' },
      expect: under('unblockContact', { 'contact.state': 'DELETED_BY_ME', ...none }),
    },
    {
      id: 'send-after-unblock',
      title: 'alice cannot write yet',
      as: 'alice',
      operation: op.sendMessage,
      variables: { conversationId: conversation, body: 'are we ok?' },
      expect: under('sendMessage', { message: null, ...refused('NOT_FRIENDS') }),
    },
    {
      id: 'request-after-unblock',
      title: 'A friend request makes them friends again at once',
      as: 'alice',
      operation: op.sendFriendRequest,
      variables: { userId: 'bob', greeting: 'back' },
      expect: under('sendFriendRequest', {
        'request.status': 'ACCEPTED',
        'contact.state': 'FRIEND',
        ...none,
      }),
    },
    {
      id: 'send-last',
      title: 'alice writes again',
      as: 'alice',
      operation: op.sendMessage,
      variables: { conversationId: conversation, body: 'hello once more' },
      expect: under('sendMessage', { 'message.body': 'hello once more', ...none }),
    },
  ],
};

const group = from('create', 'createGroup.group.id', 'groups');
const groupConversation = from('create', 'createGroup.group.conversation.id', 'groups');

export const GROUPS: Walkthrough = {
  id: 'groups',
  section: 'Groups — a walk-through',
  title: 'Groups',
  steps: [
    { id: 'me-ann', title: 'Make ann known', as: 'ann', operation: op.me, expect: { 'me.id': 'ann' } },
    { id: 'me-ben', title: 'Make ben known', as: 'ben', operation: op.me, expect: { 'me.id': 'ben' } },
    { id: 'me-cat', title: 'Make cat known', as: 'cat', operation: op.me, expect: { 'me.id': 'cat' } },
    { id: 'me-dan', title: 'Make dan known', as: 'dan', operation: op.me, expect: { 'me.id': 'dan' } },
    {
      id: 'create',
      title: 'Create (ann)',
      as: 'ann',
      operation: op.createGroup,
      variables: { name: 'Climbing', kind: 'STANDARD', memberIds: ['ben', 'cat'], guardianId: null },
      expect: under('createGroup', { 'group.memberCount': 3, ...none }),
    },
    {
      id: 'invite',
      title: 'Invite (ben)',
      as: 'ben',
      operation: op.inviteToGroup,
      variables: { groupId: group, userIds: ['dan'] },
      expect: under('inviteToGroup', { 'group.memberCount': 4, ...none }),
    },
    {
      id: 'talk',
      title: 'Talk (ben)',
      as: 'ben',
      operation: op.sendMessage,
      variables: { conversationId: groupConversation, body: 'Saturday?' },
      expect: under('sendMessage', { 'message.body': 'Saturday?', ...none }),
    },
    {
      id: 'role',
      title: 'ann makes ben an admin',
      as: 'ann',
      operation: op.setMemberRole,
      variables: { groupId: group, userId: 'ben', role: 'ADMIN' },
      expect: under('setMemberRole', { 'member.role': 'ADMIN', ...none }),
    },
    {
      id: 'remove-as-member',
      title: 'cat (a member) may not remove dan',
      as: 'cat',
      operation: op.removeFromGroup,
      variables: { groupId: group, userId: 'dan' },
      expect: under('removeFromGroup', { group: null, ...refused('FORBIDDEN') }),
    },
    {
      id: 'remove',
      title: 'ben (an admin) removes dan',
      as: 'ben',
      operation: op.removeFromGroup,
      variables: { groupId: group, userId: 'dan' },
      expect: under('removeFromGroup', { 'group.memberCount': 3, ...none }),
    },
    {
      id: 'remove-as-outsider',
      title: 'dan, no longer in the group, gets NOT_FOUND',
      as: 'dan',
      operation: op.removeFromGroup,
      variables: { groupId: group, userId: 'cat' },
      expect: under('removeFromGroup', { group: null, ...refused('NOT_FOUND') }),
    },
    {
      id: 'owner-leaves',
      title: 'The owner cannot leave',
      as: 'ann',
      operation: op.leaveGroup,
      variables: { groupId: group },
      expect: under('leaveGroup', { groupId: null, ...refused('FORBIDDEN') }),
    },
    {
      id: 'transfer',
      title: 'ann offers the group to cat',
      as: 'ann',
      operation: op.transferOwnership,
      variables: { groupId: group, toUserId: 'cat' },
      expect: under('transferOwnership', { 'transfer.status': 'PENDING', ...none }),
    },
    {
      id: 'accept-transfer',
      title: 'cat accepts',
      as: 'cat',
      operation: op.respondToOwnershipTransfer,
      variables: { transferId: from('transfer', 'transferOwnership.transfer.id'), accept: true },
      expect: under('respondToOwnershipTransfer', {
        'group.owner.id': 'cat',
        'group.viewerRole': 'OWNER',
        ...none,
      }),
    },
    {
      id: 'file-and-payment',
      title: 'A file and a payment (cat)',
      as: 'cat',
      operation: op.sendFileAndPayment,
      variables: {
        conversationId: groupConversation,
        body: 'tickets',
        attachment: { name: 'hello.txt', bytes: 'aGVsbG8=' },
        payment: { amountCents: 1250, currency: 'EUR', toUserId: 'ben' },
      },
      expect: under('sendMessage', {
        'message.attachment.size': 5,
        'message.payment.amountCents': 1250,
        'message.payment.to.id': 'ben',
        ...none,
      }),
    },
    {
      id: 'ledger',
      title: "ben's ledger",
      as: 'ben',
      operation: op.payments,
      expect: { 'payments.edges.0.node.amountCents': 1250, 'payments.edges.0.node.from.id': 'cat' },
    },
    {
      id: 'common',
      title: 'Common groups (ann and ben)',
      as: 'ann',
      operation: op.commonGroups,
      variables: { userId: 'ben' },
      expect: { 'commonGroups.edges.0.node.name': 'Climbing' },
    },
  ],
};

export const DISSOLVING: Walkthrough = {
  id: 'dissolving',
  section: 'Dissolving, undoing, finalizing (G3–G6) — with time travel',
  title: 'Dissolving',
  timeTravel: true,
  steps: [
    {
      id: 'watch',
      title: "Watch ben's notices",
      as: 'ben',
      operation: op.watchNotices,
      notices: ['GroupDissolutionChanged'],
    },
    {
      id: 'preview-member',
      title: 'Look first (ben, a member)',
      as: 'ben',
      operation: op.dissolutionPreview,
      variables: { groupId: group, keepHistory: false },
      expect: { 'dissolutionPreview.refusals.0.code': 'FORBIDDEN' },
    },
    {
      id: 'preview',
      title: 'Look first (cat, the owner, from her phone)',
      as: 'catPhone',
      operation: op.dissolutionPreview,
      variables: { groupId: group, keepHistory: false },
      expect: under('dissolutionPreview', {
        refusals: [],
        status: 'EFFECTIVE',
        stepUpRequired: true,
        stepUpReasons: ['NEW_DEVICE'],
        filesToDelete: 1,
      }),
    },
    {
      id: 'dissolve-without-code',
      title: 'Dissolve: a first dissolution from a device needs a code',
      as: 'catPhone',
      operation: op.dissolveGroup,
      variables: { groupId: group, keepHistory: false, verificationCode: null },
      expect: under('dissolveGroup', { dissolution: null, ...refused('STEP_UP_REQUIRED') }),
    },
    {
      id: 'code',
      title: 'cat asks for a code',
      as: 'catPhone',
      operation: op.requestVerificationCode,
      variables: { groupId: group },
      expect: under('requestVerificationCode', { expiresAt: PRESENT, ...none }),
    },
    {
      id: 'dissolve',
      title: 'Dissolve with the code',
      as: 'catPhone',
      operation: op.dissolveGroup,
      variables: {
        groupId: group,
        keepHistory: false,
        verificationCode: { from: { verificationCode: 'catPhone', groupFrom: group.from } },
      },
      expect: under('dissolveGroup', { 'dissolution.status': 'EFFECTIVE', ...none }),
    },
    {
      id: 'read-only',
      title: 'The group is read-only',
      as: 'ben',
      operation: op.sendMessage,
      variables: { conversationId: groupConversation, body: 'wait!' },
      expect: under('sendMessage', { message: null, ...refused('GROUP_DISSOLVED') }),
    },
    {
      id: 'status-dissolved',
      title: 'Its conversation reads DISSOLVED',
      as: 'ben',
      operation: op.retentionStatus,
      variables: { conversationId: groupConversation },
      expect: under('retentionStatus', { state: 'DISSOLVED', restorable: true, restorableUntil: PRESENT }),
    },
    {
      id: 'restore',
      title: 'Undo (cat)',
      as: 'catPhone',
      operation: op.restoreGroup,
      variables: { groupId: group },
      expect: under('restoreGroup', { 'group.memberCount': 3, 'dissolution.status': 'RESTORED', ...none }),
    },
    {
      id: 'dissolve-again',
      title: 'Dissolve again: from the same device no code is asked',
      as: 'catPhone',
      operation: op.dissolveGroup,
      variables: { groupId: group, keepHistory: false, verificationCode: null },
      expect: under('dissolveGroup', { 'dissolution.status': 'EFFECTIVE', ...none }),
    },
    {
      id: 'advance-48h',
      title: 'olga moves the clock past the undo window',
      as: 'olga',
      operation: op.advanceClock,
      variables: { seconds: 2 * DAY },
      expect: under('advanceClock', { now: PRESENT, ...none }),
    },
    {
      id: 'finalized-before-sweep',
      title: 'FINALIZED already before the sweep',
      as: 'catPhone',
      operation: op.groupDissolution,
      variables: { groupId: group },
      expect: { 'group.dissolution.status': 'FINALIZED', 'group.dissolution.finalizedAt': PRESENT },
    },
    {
      id: 'sweep',
      title: 'olga runs the sweep',
      as: 'olga',
      operation: op.runRetentionSweep,
      expect: under('runRetentionSweep', {
        'run.dissolutionsFinalized': 1,
        'run.purgedFiles': 1,
        'run.purgedMessages': 2,
        ...none,
      }),
    },
    {
      id: 'restore-too-late',
      title: 'Undo is too late now',
      as: 'catPhone',
      operation: op.restoreGroup,
      variables: { groupId: group },
      expect: under('restoreGroup', { group: null, ...refused('WINDOW_CLOSED') }),
    },
  ],
};

const eduGroup = from('create-edu', 'createGroup.group.id');

export const SAFEGUARDS: Walkthrough = {
  id: 'safeguards',
  section: 'Safeguards: step-up codes, guardians, batch review (G7–G9)',
  title: 'Safeguards',
  steps: [
    {
      id: 'me-gus',
      title: 'Make gus (the guardian) known',
      as: 'gus',
      operation: op.me,
      expect: { 'me.id': 'gus' },
    },
    {
      id: 'create-edu',
      title: 'ann creates the class (EDUCATION, guardian gus)',
      as: 'ann',
      operation: op.createGroup,
      variables: { name: 'Class 4b', kind: 'EDUCATION', memberIds: ['ben'], guardianId: 'gus' },
      expect: under('createGroup', { 'group.memberCount': 2, ...none }),
    },
    {
      id: 'preview',
      title: 'Step-up: the preview says a code is needed',
      as: 'ann',
      operation: op.dissolutionPreview,
      variables: { groupId: eduGroup, keepHistory: true },
      expect: under('dissolutionPreview', {
        refusals: [],
        stepUpRequired: true,
        needsGuardian: true,
        status: 'PENDING_CONFIRMATION',
      }),
    },
    {
      id: 'code',
      title: 'ann asks for a code',
      as: 'ann',
      operation: op.requestVerificationCode,
      variables: { groupId: eduGroup },
      expect: under('requestVerificationCode', { expiresAt: PRESENT, ...none }),
    },
    {
      id: 'dissolve',
      title: 'ann dissolves with the code: it waits for the guardian',
      as: 'ann',
      operation: op.dissolveGroup,
      variables: {
        groupId: eduGroup,
        keepHistory: true,
        verificationCode: { from: { verificationCode: 'ann', groupFrom: eduGroup.from } },
      },
      expect: under('dissolveGroup', {
        'dissolution.status': 'PENDING_CONFIRMATION',
        'dissolution.confirmBy': PRESENT,
        ...none,
      }),
    },
    {
      id: 'confirm',
      title: 'Guardian: gus confirms',
      as: 'gus',
      operation: op.confirmDissolution,
      variables: { dissolutionId: from('dissolve', 'dissolveGroup.dissolution.id'), confirm: true },
      expect: under('confirmDissolution', { 'dissolution.status': 'EFFECTIVE', ...none }),
    },
    {
      id: 'create-batch',
      title: 'ann creates the book club',
      as: 'ann',
      operation: op.createGroup,
      variables: { name: 'Book club', kind: 'STANDARD', memberIds: ['cat'], guardianId: null },
      expect: under('createGroup', { 'group.memberCount': 2, ...none }),
    },
    {
      id: 'batch',
      title: 'ann asks for both to be dissolved: a review is filed',
      as: 'ann',
      operation: op.dissolveGroups,
      variables: {
        groupIds: [from('create-batch', 'createGroup.group.id'), eduGroup],
        keepHistory: true,
      },
      expect: under('dissolveGroups', {
        'review.status': 'PENDING_REVIEW',
        ...none,
      }),
    },
    {
      id: 'queue',
      title: 'olga lists the review queue',
      as: 'olga',
      operation: op.reviewQueue,
      expect: {
        'reviewQueue.edges.0.node.requestedBy.id': 'ann',
        'reviewQueue.edges.0.node.status': 'PENDING_REVIEW',
      },
    },
    {
      id: 'approve',
      title: 'olga approves',
      as: 'olga',
      operation: op.reviewDissolution,
      variables: { reviewId: from('queue', 'reviewQueue.edges.0.node.id'), approve: true },
      expect: under('reviewDissolution', {
        'review.status': 'APPROVED',
        ...none,
      }),
    },
  ],
};

const retentionConversation = from(
  'accept',
  'respondToFriendRequest.contact.conversation.id',
  'relationships',
);

export const RETENTION: Walkthrough = {
  id: 'retention',
  section: 'Retention — your own period, stars, legal holds (T1–T5)',
  title: 'Retention',
  timeTravel: true,
  steps: [
    {
      id: 'default-period',
      title: 'Periods: alice keeps 30 days by default',
      as: 'alice',
      operation: op.setRetentionPolicy,
      variables: { conversationId: null, period: 'DAYS', days: 30 },
      expect: under('setRetentionPolicy', { 'policy.period': 'DAYS', 'policy.days': 30, ...none }),
    },
    {
      id: 'conversation-period',
      title: 'Periods: but this conversation forever',
      as: 'alice',
      operation: op.setRetentionPolicy,
      variables: { conversationId: retentionConversation, period: 'FOREVER', days: null },
      expect: under('setRetentionPolicy', { 'status.period': 'FOREVER', ...none }),
    },
    {
      id: 'star',
      title: 'Stars: alice stars her last message',
      as: 'alice',
      operation: op.starMessage,
      variables: { messageId: from('send-last', 'sendMessage.message.id', 'relationships'), starred: true },
      expect: under('starMessage', { 'message.starred': true, ...none }),
    },
    {
      id: 'status',
      title: 'Status: what alice sees of the conversation, and why',
      as: 'alice',
      operation: op.retentionStatus,
      variables: { conversationId: retentionConversation },
      expect: under('retentionStatus', {
        state: 'ACTIVE',
        period: 'FOREVER',
        visibleMessages: 1,
        holds: null,
      }),
    },
    {
      id: 'hold',
      title: 'Legal hold: olga places one on the conversation',
      as: 'olga',
      operation: op.placeLegalHold,
      variables: { conversationId: retentionConversation, reason: 'case 42' },
      expect: under('placeLegalHold', { 'hold.active': true, ...none }),
    },
    {
      id: 'delete-alice',
      title: 'alice and bob delete each other…',
      as: 'alice',
      operation: op.deleteContact,
      variables: { userId: 'bob' },
      expect: under('deleteContact', { 'contact.state': 'DELETED_BY_ME', ...none }),
    },
    {
      id: 'delete-bob',
      title: '… both ways',
      as: 'bob',
      operation: op.deleteContact,
      variables: { userId: 'alice' },
      expect: under('deleteContact', { 'retention.state': 'BUFFERED', ...none }),
    },
    {
      id: 'advance',
      title: 'olga moves the clock past the buffer',
      as: 'olga',
      operation: op.advanceClock,
      variables: { seconds: 30 * DAY },
      expect: under('advanceClock', { now: PRESENT, ...none }),
    },
    {
      id: 'sweep-held',
      title: 'The sweep holds the rows back',
      as: 'olga',
      operation: op.runRetentionSweep,
      expect: under('runRetentionSweep', { 'run.purgedMessages': 0, 'run.heldBack': PRESENT, ...none }),
    },
    {
      id: 'status-operator',
      title: 'olga sees the hold',
      as: 'olga',
      operation: op.retentionStatus,
      variables: { conversationId: retentionConversation },
      expect: { 'retentionStatus.holds.0.reason': 'case 42' },
    },
    {
      id: 'status-party',
      title: 'alice reads PURGED and 0 messages',
      as: 'alice',
      operation: op.retentionStatus,
      variables: { conversationId: retentionConversation },
      expect: under('retentionStatus', { state: 'PURGED', visibleMessages: 0, holds: null }),
    },
    {
      id: 'release',
      title: 'olga releases the hold',
      as: 'olga',
      operation: op.releaseLegalHold,
      variables: { holdId: from('hold', 'placeLegalHold.hold.id') },
      expect: under('releaseLegalHold', { 'hold.active': false, 'hold.releasedAt': PRESENT, ...none }),
    },
    {
      id: 'sweep-released',
      title: 'The next sweep deletes the rows',
      as: 'olga',
      operation: op.runRetentionSweep,
      expect: under('runRetentionSweep', { 'run.purgedMessages': 1, ...none }),
    },
    {
      id: 'holds',
      title: 'Every hold',
      as: 'olga',
      operation: op.legalHolds,
      expect: { 'legalHolds.edges.0.node.reason': 'case 42', 'legalHolds.edges.0.node.active': false },
    },
  ],
};

/** In the order they run: later ones use ids and people from earlier ones. */
export const WALKTHROUGHS: readonly Walkthrough[] = [
  RELATIONSHIPS,
  GROUPS,
  DISSOLVING,
  SAFEGUARDS,
  RETENTION,
];

// --- shown as text (README, GraphiQL) -----------------------------------------------------------

/** The name of a document's one operation. */
export function operationName(operation: string): string {
  const m = /^(?:query|mutation|subscription)\s+([A-Za-z_][A-Za-z0-9_]*)/m.exec(operation);
  if (!m?.[1]) throw new Error(`not a named operation: ${operation.slice(0, 60)}`);
  return m[1];
}

/** A `from` as the reader sees it, in walk-through `w`: a placeholder naming where to copy the value from. */
export function placeholder(
  f: From,
  w: Walkthrough,
  walkthroughs: readonly Walkthrough[] = WALKTHROUGHS,
): string {
  if ('verificationCode' in f) {
    return `<the code in data/verification-codes.log (${PEOPLE[f.verificationCode].userId})>`;
  }
  const source = walkthroughs.find((x) => x.id === (f.walkthrough ?? w.id));
  const step = source?.steps.find((s) => s.id === f.step);
  if (!step) throw new Error(`unknown step ${f.walkthrough ?? w.id}/${f.step}`);
  // The path without its root field: the operation's name says which it is; the step's title too
  // when that person runs that operation more than once.
  const runs = source!.steps.filter((s) => s.operation === step.operation && s.as === step.as).length;
  const which = `(${runs > 1 ? step.title : PEOPLE[step.as].userId})`;
  return `<${f.path.split('.').slice(1).join('.')} from ${operationName(step.operation)} ${which}>`;
}

const isFrom = (v: unknown): v is { from: From } =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && 'from' in v && Object.keys(v).length === 1;

/** A step of `w`'s variables as the reader sees them: literal values, and placeholders for copied ones. */
export function shownVariables(step: Step, w: Walkthrough): Record<string, unknown> | undefined {
  if (!step.variables) return undefined;
  const show = (v: unknown): unknown =>
    isFrom(v) ? placeholder(v.from, w) : Array.isArray(v) ? v.map(show) : v;
  return Object.fromEntries(Object.entries(step.variables).map(([k, v]) => [k, show(v)]));
}

/** The JSON in a tab's variables editor (GraphiQL). */
export const variablesJson = (vars: Record<string, unknown>): string => JSON.stringify(vars, null, 2);

/** The JSON shown beside an operation in the README: one line (`{ "a": 1, "b": ["x"] }`) when it fits. */
export function readmeJson(vars: Record<string, unknown>): string {
  const line = (v: unknown): string =>
    Array.isArray(v)
      ? `[${v.map(line).join(', ')}]`
      : v !== null && typeof v === 'object'
        ? `{ ${Object.entries(v)
            .map(([k, x]) => `${JSON.stringify(k)}: ${line(x)}`)
            .join(', ')} }`
        : JSON.stringify(v);
  const one = line(vars);
  return one.length <= 100 ? one : variablesJson(vars);
}

/** Whether `v` is a `{ from }` reference (the test resolves them). */
export { isFrom };

export interface Tab {
  /** Shown as the tab's name: the document's first operation name. */
  name: string;
  who: PersonKey;
  query: string;
  variables: string;
}

/**
 * One GraphiQL tab per walk-through and person: that person's operations in order (each once), a
 * comment saying which token goes in the Headers, and the variables of their first use. Ctrl/Cmd-Enter
 * runs the operation under the cursor.
 */
export function tabs(walkthroughs: readonly Walkthrough[] = WALKTHROUGHS): Tab[] {
  const out: Tab[] = [];
  for (const w of walkthroughs) {
    const people: PersonKey[] = [];
    for (const s of w.steps) if (!people.includes(s.as)) people.push(s.as);
    for (const who of people) {
      const p: Person = PEOPLE[who];
      const name = `${w.title}As${who[0]!.toUpperCase()}${who.slice(1)}`;
      const lines = [
        `# ${w.title} — as ${p.userId}${p.operator ? ' (an operator)' : ''}${p.deviceId ? ` on device "${p.deviceId}"` : ''}. README: "${w.section}".`,
        `# Token: ${tokenCommand(who)}  → Headers: {"Authorization": "Bearer <token>"}`,
        '# (headers are kept per tab until this browser window is closed, never longer).',
        '# Put the cursor in an operation and press Ctrl/Cmd-Enter; ids like "<… from …>" come from another step\'s answer.',
        ...(w.timeTravel ? ['# Needs the server started with TIME_TRAVEL=1.'] : []),
        '',
        `query ${name} { me { id } }`,
      ];
      const seen = new Set<string>();
      const vars: Record<string, unknown> = {};
      w.steps.forEach((s, i) => {
        if (s.as !== who) return;
        const shown = shownVariables(s, w) ?? {};
        for (const [k, v] of Object.entries(shown)) if (!(k in vars)) vars[k] = v;
        const opName = operationName(s.operation);
        lines.push('', `# Step ${i + 1}: ${s.title}`);
        if (seen.has(opName)) {
          lines.push(`#   run ${opName} again with ${JSON.stringify(shown)}`);
          return;
        }
        seen.add(opName);
        lines.push(s.operation);
      });
      out.push({ name, who, query: `${lines.join('\n')}\n`, variables: variablesJson(vars) });
    }
  }
  return out;
}
