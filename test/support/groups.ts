// The group operations of the API, one method per mutation or query, for the group tests. Every
// call goes over HTTP as a real client's would.
import type { Api, UserError } from './client.js';

export type { UserError };

export const GROUP =
  'id name kind owner { id } guardian { id } viewerRole memberCount dissolutionProtection createdAt conversation { id kind }';
export const TRANSFER = 'id groupId from { id } to { id } status createdAt settledAt';
const ERRORS = 'userErrors { code message field }';

export interface Group {
  id: string;
  name: string;
  kind: string;
  owner: { id: string };
  guardian: { id: string } | null;
  viewerRole: string;
  memberCount: number;
  dissolutionProtection: boolean;
  createdAt: string;
  conversation: { id: string; kind: string };
}
/** The device the group tests' owners dissolve from (G7: the first time from it needs a code). */
export const OWNER_DEVICE = 'owner-phone';

export const DISSOLUTION =
  'id groupId group { id } confirmBy endReason status keepHistory requestedBy { id } requestedAt memberCount effectiveAt undoUntil finalizedAt paymentsVisibleUntil endedAt';
export interface Dissolution {
  id: string;
  groupId: string;
  group: { id: string } | null;
  confirmBy: string | null;
  endReason: string | null;
  status: string;
  keepHistory: boolean;
  requestedBy: { id: string };
  requestedAt: string;
  memberCount: number;
  effectiveAt: string;
  undoUntil: string;
  finalizedAt: string | null;
  paymentsVisibleUntil: string;
  endedAt: string | null;
}
export const PREVIEW =
  'groupId keepHistory status memberCount effectiveAt undoUntil purgeAt messagesToPurge filesToDelete paymentsLeaving paymentsVisibleUntil refusals { code message field } stepUpRequired stepUpReasons needsGuardian';
export interface Preview {
  groupId: string;
  keepHistory: boolean;
  status: string;
  memberCount: number;
  effectiveAt: string;
  undoUntil: string;
  purgeAt: string | null;
  messagesToPurge: number;
  filesToDelete: number;
  paymentsLeaving: number;
  paymentsVisibleUntil: string;
  refusals: UserError[];
  stepUpRequired: boolean;
  stepUpReasons: string[];
  needsGuardian: boolean;
}
export interface Transfer {
  id: string;
  groupId: string;
  from: { id: string };
  to: { id: string };
  status: string;
  createdAt: string;
  settledAt: string | null;
}
export interface Member {
  user: { id: string };
  role: string;
  joinedAt: string;
}
/** Any mutation payload: its result fields and `userErrors`. */
export type Payload<T> = T & { userErrors: UserError[] };

export function groupClient(api: Api) {
  const mutate = async <T>(
    who: string,
    name: string,
    inputType: string,
    fields: string,
    input: object,
    deviceId?: string,
  ) =>
    (
      await api.gqlAs<Record<string, Payload<T>>>(
        who,
        deviceId ? { deviceId } : {},
        `mutation($input: ${inputType}!) { ${name}(input: $input) { ${fields} ${ERRORS} } }`,
        { input },
      )
    )[name]!;

  const g = {
    create: (
      who: string,
      input: { name: string; kind?: string; memberIds?: string[]; guardianId?: string },
    ) =>
      mutate<{ group: Group | null }>(who, 'createGroup', 'CreateGroupInput', `group { ${GROUP} }`, {
        kind: 'STANDARD',
        memberIds: [],
        ...input,
      }),
    /** Creates a group (users made known first) and fails on a refusal; returns it. */
    async make(owner: string, members: string[], kind = 'STANDARD', guardianId?: string): Promise<Group> {
      for (const u of [owner, ...members, ...(guardianId ? [guardianId] : [])]) await api.token(u);
      const r = await g.create(owner, {
        name: `g-${owner}`,
        kind,
        memberIds: members,
        ...(guardianId ? { guardianId } : {}),
      });
      if (!r.group) throw new Error(`createGroup refused: ${JSON.stringify(r.userErrors)}`);
      return r.group;
    },
    invite: (who: string, groupId: string, userIds: string[]) =>
      mutate<{ group: Group | null }>(who, 'inviteToGroup', 'InviteToGroupInput', `group { ${GROUP} }`, {
        groupId,
        userIds,
      }),
    remove: (who: string, groupId: string, userId: string) =>
      mutate<{ group: Group | null }>(who, 'removeFromGroup', 'RemoveFromGroupInput', `group { ${GROUP} }`, {
        groupId,
        userId,
      }),
    leave: (who: string, groupId: string) =>
      mutate<{ groupId: string | null }>(who, 'leaveGroup', 'LeaveGroupInput', 'groupId', { groupId }),
    setRole: (who: string, groupId: string, userId: string, role: 'ADMIN' | 'MEMBER') =>
      mutate<{ member: Member | null }>(
        who,
        'setMemberRole',
        'SetMemberRoleInput',
        'member { user { id } role joinedAt }',
        { groupId, userId, role },
      ),
    transfer: (who: string, groupId: string, toUserId: string) =>
      mutate<{ transfer: Transfer | null }>(
        who,
        'transferOwnership',
        'TransferOwnershipInput',
        `transfer { ${TRANSFER} }`,
        {
          groupId,
          toUserId,
        },
      ),
    respond: (who: string, transferId: string, accept: boolean) =>
      mutate<{ group: Group | null; transfer: Transfer | null }>(
        who,
        'respondToOwnershipTransfer',
        'RespondToOwnershipTransferInput',
        `group { ${GROUP} } transfer { ${TRANSFER} }`,
        { transferId, accept },
      ),
    cancel: (who: string, transferId: string) =>
      mutate<{ transfer: Transfer | null }>(
        who,
        'cancelOwnershipTransfer',
        'CancelOwnershipTransferInput',
        `transfer { ${TRANSFER} }`,
        { transferId },
      ),
    protect: (who: string, groupId: string, enabled: boolean) =>
      mutate<{ group: Group | null }>(
        who,
        'setDissolutionProtection',
        'SetDissolutionProtectionInput',
        `group { ${GROUP} }`,
        { groupId, enabled },
      ),
    /**
     * `dissolveGroup` as an owner's app does it, from the device `OWNER_DEVICE`: when G7 asks for a
     * step-up (STEP_UP_REQUIRED), it requests a code, reads it from the development sender's file
     * and asks again with it.
     */
    async dissolve(who: string, groupId: string, keepHistory: boolean) {
      const first = await g.dissolveWith(who, { groupId, keepHistory }, OWNER_DEVICE);
      if (first.userErrors[0]?.code !== 'STEP_UP_REQUIRED') return first;
      const asked = await g.requestCode(who, groupId, OWNER_DEVICE);
      if (asked.userErrors.length) return { dissolution: null, userErrors: asked.userErrors };
      const verificationCode = api.latestCode(who, groupId);
      return g.dissolveWith(who, { groupId, keepHistory, verificationCode }, OWNER_DEVICE);
    },
    /** `dissolveGroup` exactly as given (no step-up help), from `deviceId` (none: a token without one). */
    dissolveWith: (
      who: string,
      input: { groupId: string; keepHistory: boolean; verificationCode?: string },
      deviceId?: string,
    ) =>
      mutate<{ dissolution: Dissolution | null }>(
        who,
        'dissolveGroup',
        'DissolveGroupInput',
        `dissolution { ${DISSOLUTION} }`,
        input,
        deviceId,
      ),
    requestCode: (who: string, groupId: string, deviceId?: string) =>
      mutate<{ expiresAt: string | null }>(
        who,
        'requestVerificationCode',
        'RequestVerificationCodeInput',
        'expiresAt',
        { groupId },
        deviceId,
      ),
    cancelDissolution: (who: string, groupId: string) =>
      mutate<{ group: Group | null; dissolution: Dissolution | null }>(
        who,
        'cancelDissolution',
        'CancelDissolutionInput',
        `group { ${GROUP} } dissolution { ${DISSOLUTION} }`,
        { groupId },
      ),
    restore: (who: string, groupId: string) =>
      mutate<{ group: Group | null; dissolution: Dissolution | null }>(
        who,
        'restoreGroup',
        'RestoreGroupInput',
        `group { ${GROUP} } dissolution { ${DISSOLUTION} }`,
        { groupId },
      ),
    /** `Group.dissolution` as `who` sees it (undefined: `who` does not see the group). */
    async dissolution(who: string, id: string): Promise<Dissolution | null | undefined> {
      const r = await api.gql<{ group: { dissolution: Dissolution | null } | null }>(
        who,
        `query($id: ID!) { group(id: $id) { dissolution { ${DISSOLUTION} } } }`,
        { id },
      );
      return r.group ? r.group.dissolution : undefined;
    },
    async preview(who: string, groupId: string, keepHistory: boolean): Promise<Preview> {
      const r = await api.gql<{ dissolutionPreview: Preview }>(
        who,
        `query($g: ID!, $k: Boolean!) { dissolutionPreview(groupId: $g, keepHistory: $k) { ${PREVIEW} } }`,
        { g: groupId, k: keepHistory },
      );
      return r.dissolutionPreview;
    },
    async get(who: string, id: string): Promise<Group | null> {
      return (
        await api.gql<{ group: Group | null }>(who, `query($id: ID!) { group(id: $id) { ${GROUP} } }`, { id })
      ).group;
    },
    async members(who: string, id: string): Promise<Member[]> {
      const r = await api.gql<{ group: { members: { edges: { node: Member }[] } } | null }>(
        who,
        'query($id: ID!) { group(id: $id) { members(first: 100) { edges { node { user { id } role joinedAt } } } } }',
        { id },
      );
      return r.group?.members.edges.map((e) => e.node) ?? [];
    },
    async list(who: string): Promise<string[]> {
      const r = await api.gql<{ groups: { edges: { node: { id: string } }[] } }>(
        who,
        '{ groups(first: 100) { edges { node { id } } } }',
      );
      return r.groups.edges.map((e) => e.node.id);
    },
    async common(who: string, userId: string): Promise<string[]> {
      const r = await api.gql<{ commonGroups: { edges: { node: { id: string } }[] } }>(
        who,
        'query($u: ID!) { commonGroups(userId: $u, first: 100) { edges { node { id } } } }',
        { u: userId },
      );
      return r.commonGroups.edges.map((e) => e.node.id);
    },
  };
  return g;
}

export type GroupApi = ReturnType<typeof groupClient>;
