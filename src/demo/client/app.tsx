// The demo's screens. Each browser window is one demo user (`/demo?as=bob`) and shows only what
// that user may know: their contacts, conversations, groups and their own notices. Every notice
// makes the open views read again; nothing else does (a peer's silent deletion, R2, sends none).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { DEMO_CAST, DEMO_OPERATOR, type DemoUser, demoUser } from '../cast.js';
import {
  check,
  DemoError,
  formatCountdown,
  formatInstant,
  onClockSync,
  Session,
  serverNow,
  syncServerClock,
  type TokenAnswer,
  type UserError,
} from './api.js';
import { type NoticeEntry, NoticeStream, type StreamState } from './notices.js';

// --- Operations ------------------------------------------------------------------------------------

const CONTACTS = `query DemoContacts {
  contacts(first: 50) { edges { node { user { id name } state conversation { id } } } }
  incoming: friendRequests(direction: INCOMING, first: 20) { edges { node { id from { id } greeting status } } }
  outgoing: friendRequests(direction: OUTGOING, first: 20) { edges { node { id to { id } status } } }
}`;
const CONVERSATION = `query DemoConversation($c: ID!) {
  retentionStatus(conversationId: $c) { state reason purgeAt purgedAt restorable restorableUntil visibleMessages }
  messages(conversationId: $c, first: 50) { edges { node { id sender { id } body sentAt } } }
}`;
const PREVIEW = `query DemoPreview($userId: ID!, $action: ContactAction!) {
  deletionPreview(userId: $userId, action: $action) {
    action allowed refusal stateBefore stateAfter retentionStateAfter purgeAt restorable messagesPurged reason }
}`;
const ERRORS = 'userErrors { code message field }';
const RETENTION_OUT = 'retention { state purgeAt }';
const DELETE = `mutation DemoDelete($input: DeleteContactInput!) { deleteContact(input: $input) { contact { state } ${RETENTION_OUT} ${ERRORS} } }`;
const BLOCK = `mutation DemoBlock($input: BlockContactInput!) { blockContact(input: $input) { contact { state } ${RETENTION_OUT} ${ERRORS} } }`;
const UNBLOCK = `mutation DemoUnblock($input: UnblockContactInput!) { unblockContact(input: $input) { contact { state } ${ERRORS} } }`;
const REQUEST = `mutation DemoRequest($input: SendFriendRequestInput!) { sendFriendRequest(input: $input) { request { id status } contact { state } ${ERRORS} } }`;
const RESPOND = `mutation DemoRespond($input: RespondToFriendRequestInput!) { respondToFriendRequest(input: $input) { contact { state } ${ERRORS} } }`;
const SEND = `mutation DemoSend($input: SendMessageInput!) { sendMessage(input: $input) { message { id } ${ERRORS} } }`;
const GROUPS = `query DemoGroups { groups(first: 20) { edges { node { id name memberCount viewerRole dissolution { status } } } } }`;
const GROUP = `query DemoGroup($id: ID!) { group(id: $id) {
  id name kind viewerRole memberCount owner { id } conversation { id }
  members(first: 50) { edges { node { user { id } role } } }
  dissolution { id status keepHistory effectiveAt undoUntil finalizedAt endedAt } } }`;
const CREATE_GROUP = `mutation DemoCreateGroup($input: CreateGroupInput!) { createGroup(input: $input) { group { id } ${ERRORS} } }`;
const DISSOLUTION_PREVIEW = `query DemoDissolutionPreview($id: ID!, $keep: Boolean!) { dissolutionPreview(groupId: $id, keepHistory: $keep) {
  status effectiveAt undoUntil purgeAt messagesToPurge filesToDelete paymentsLeaving refusals { code message }
  stepUpRequired stepUpReasons needsGuardian } }`;
const REQUEST_CODE = `mutation DemoRequestCode($input: RequestVerificationCodeInput!) { requestVerificationCode(input: $input) { expiresAt ${ERRORS} } }`;
const DISSOLVE = `mutation DemoDissolve($input: DissolveGroupInput!) { dissolveGroup(input: $input) { dissolution { status } ${ERRORS} } }`;
const RESTORE = `mutation DemoRestore($input: RestoreGroupInput!) { restoreGroup(input: $input) { dissolution { status } ${ERRORS} } }`;
const CANCEL_DISSOLUTION = `mutation DemoCancelDissolution($input: CancelDissolutionInput!) { cancelDissolution(input: $input) { dissolution { status } ${ERRORS} } }`;
const ADVANCE = `mutation DemoAdvance($input: AdvanceClockInput!) { advanceClock(input: $input) { now ${ERRORS} } }`;
const SWEEP = `mutation DemoSweep { runRetentionSweep { run { purgedConversations purgedMessages dissolutionsFinalized } ${ERRORS} } }`;

type Edges<T> = { edges: { node: T }[] };
type ContactState = 'FRIEND' | 'DELETED_BY_ME' | 'MUTUALLY_DELETED' | 'BLOCKED_BY_ME';
interface Contact {
  user: { id: string; name: string };
  state: ContactState;
  conversation: { id: string };
}
interface ContactsData {
  contacts: Edges<Contact>;
  incoming: Edges<{ id: string; from: { id: string }; greeting: string | null; status: string }>;
  outgoing: Edges<{ id: string; to: { id: string }; status: string }>;
}
interface Retention {
  state: string;
  reason: string;
  purgeAt: string | null;
  purgedAt: string | null;
  restorable: boolean;
  restorableUntil: string | null;
  visibleMessages: number;
}
interface Message {
  id: string;
  sender: { id: string };
  body: string;
  sentAt: string;
}
interface Dissolution {
  id: string;
  status: string;
  keepHistory: boolean;
  effectiveAt: string;
  undoUntil: string;
  finalizedAt: string | null;
  endedAt: string | null;
}
interface Group {
  id: string;
  name: string;
  kind: string;
  viewerRole: string;
  memberCount: number;
  owner: { id: string };
  conversation: { id: string };
  members: Edges<{ user: { id: string }; role: string }>;
  dissolution: Dissolution | null;
}

type Selection = { kind: 'contact'; peerId: string } | { kind: 'group'; groupId: string } | null;
type Run = (what: () => Promise<unknown>, done?: string) => Promise<boolean>;

const nameOf = (id: string) => demoUser(id)?.name ?? id;

// --- Hooks ---------------------------------------------------------------------------------------

/**
 * Runs `query` as the session's user whenever `version` or the variables change; keeps the last
 * answer while a new one is on its way (no flicker). `variables` null: nothing to ask.
 */
function useQuery<T>(
  session: Session,
  query: string,
  variables: Record<string, unknown> | null,
  version: number,
): { data: T | undefined; error: string } {
  const key = JSON.stringify(variables);
  const [state, setState] = useState<{ key: string; data: T | undefined; error: string }>({
    key,
    data: undefined,
    error: '',
  });
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for `variables`; `version` asks again
  useEffect(() => {
    if (variables === null) return;
    let live = true;
    session.gql<T>(query, variables).then(
      (data) => {
        if (live) setState({ key, data, error: '' });
      },
      (err: unknown) => {
        if (live)
          setState((s) => ({
            key,
            data: s.key === key ? s.data : undefined,
            error: err instanceof Error ? err.message : String(err),
          }));
      },
    );
    return () => {
      live = false;
    };
  }, [session, query, key, version]);
  return state.key === key ? state : { data: undefined, error: '' };
}

/** The server clock, re-rendered every second (only where a countdown is shown). */
function useServerClock(): number {
  const [now, setNow] = useState(serverNow);
  useEffect(() => {
    const tick = setInterval(() => setNow(serverNow()), 1000);
    const off = onClockSync(() => setNow(serverNow()));
    return () => {
      clearInterval(tick);
      off();
    };
  }, []);
  return now;
}

function Countdown({ to, testid }: { to: string; testid: string }) {
  const now = useServerClock();
  return (
    <span className="countdown" data-testid={testid}>
      {formatCountdown(to, now)}
    </span>
  );
}

function When({ iso, testid }: { iso: string | null | undefined; testid?: string }) {
  return (
    <time dateTime={iso ?? undefined} data-testid={testid} data-iso={iso ?? ''}>
      {formatInstant(iso)}
    </time>
  );
}

// --- The app -------------------------------------------------------------------------------------

export function App() {
  const as = new URLSearchParams(location.search).get('as');
  const user = demoUser(as);
  if (!user) return <Picker unknown={as} />;
  return <Demo user={user} />;
}

function Picker({ unknown }: { unknown: string | null }) {
  return (
    <main className="picker">
      <h1>ties · live demo</h1>
      {unknown ? <p className="flash">There is no demo user “{unknown}”.</p> : null}
      <p>
        Pick who you are. Open a second window as someone else to see both sides: each window shows only what
        its user may know.
      </p>
      <ul>
        {DEMO_CAST.map((u) => (
          <li key={u.id}>
            <a href={`/demo?as=${u.id}`} data-testid={`pick-${u.id}`}>
              {u.name}
            </a>
          </li>
        ))}
      </ul>
      <p className="muted">
        Development only: the page asks the server for a short-lived token for the user you pick (POST
        /demo/token). It is off in production.
      </p>
    </main>
  );
}

function selectionFromUrl(): Selection {
  const p = new URLSearchParams(location.search);
  const chat = p.get('chat');
  const group = p.get('group');
  if (chat) return { kind: 'contact', peerId: chat };
  if (group) return { kind: 'group', groupId: group };
  return null;
}

function Demo({ user }: { user: DemoUser }) {
  const session = useMemo(() => new Session(user.id), [user.id]);
  const operator = useMemo(
    () => (user.id === DEMO_OPERATOR ? session : new Session(DEMO_OPERATOR)),
    [session, user.id],
  );
  const [info, setInfo] = useState<TokenAnswer | null>(null);
  const [fatal, setFatal] = useState('');
  const [version, setVersion] = useState(0);
  const [log, setLog] = useState<{ entries: NoticeEntry[]; state: StreamState; error: string }>({
    entries: [],
    state: 'connecting',
    error: '',
  });
  const [selection, setSelection] = useState<Selection>(selectionFromUrl);
  const [flash, setFlash] = useState<{ text: string; error: boolean } | null>(null);
  const bumpTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  /** Reads every open view again (soon: a burst of notices makes one read). */
  const bump = useCallback(() => {
    clearTimeout(bumpTimer.current);
    bumpTimer.current = setTimeout(() => setVersion((v) => v + 1), 50);
  }, []);

  useEffect(() => {
    document.title = `${user.name} · ties demo`;
    session
      .token()
      .then(setInfo, (err: unknown) => setFatal(err instanceof Error ? err.message : String(err)));
    return undefined;
  }, [session, user.name]);

  useEffect(() => {
    const stream = new NoticeStream(
      session,
      (entries, state, error) => setLog({ entries: [...entries], state, error }),
      () => bump(),
    );
    stream.start();
    return () => stream.stop();
  }, [session, bump]);

  useEffect(() => {
    const sync = () => void syncServerClock().catch(() => undefined);
    sync();
    const timer = setInterval(sync, 10_000);
    return () => clearInterval(timer);
  }, []);

  const select = useCallback((s: Selection) => {
    setSelection(s);
    const p = new URLSearchParams(location.search);
    p.delete('chat');
    p.delete('group');
    if (s?.kind === 'contact') p.set('chat', s.peerId);
    if (s?.kind === 'group') p.set('group', s.groupId);
    history.replaceState(null, '', `${location.pathname}?${p}`);
  }, []);

  const run: Run = useCallback(
    async (what, done) => {
      try {
        await what();
        setFlash(done ? { text: done, error: false } : null);
        bump();
        return true;
      } catch (err) {
        const text = err instanceof DemoError ? `${err.code}: ${err.message}` : String(err);
        setFlash({ text, error: true });
        return false;
      }
    },
    [bump],
  );

  const contacts = useQuery<ContactsData>(session, CONTACTS, {}, version);

  if (fatal) return <p className="flash error">The demo cannot start: {fatal}</p>;
  const contactList = contacts.data?.contacts.edges.map((e) => e.node) ?? [];
  const selectedContact =
    selection?.kind === 'contact' ? contactList.find((c) => c.user.id === selection.peerId) : undefined;

  return (
    <div className="demo">
      <header>
        <h1>
          ties · live demo — you are <strong data-testid="whoami">{user.name}</strong>
        </h1>
        <nav>
          Open as:{' '}
          {DEMO_CAST.filter((u) => u.id !== user.id).map((u) => (
            <a key={u.id} href={`/demo?as=${u.id}`} target="_blank" rel="noreferrer">
              {u.name}
            </a>
          ))}
        </nav>
        <span
          className={`conn conn-${log.state}`}
          data-testid="conn-status"
          data-state={log.state}
          title={log.error}
        >
          notices: {log.state}
        </span>
        {flash ? (
          <p className={`flash${flash.error ? ' error' : ''}`} data-testid="flash" aria-live="polite">
            {flash.text}
          </p>
        ) : null}
      </header>
      <div className="columns">
        <div className="column">
          <ContactsPanel
            me={user}
            session={session}
            data={contacts.data}
            error={contacts.error}
            selection={selection}
            select={select}
            run={run}
          />
          <GroupsPanel
            me={user}
            session={session}
            version={version}
            selection={selection}
            select={select}
            run={run}
          />
        </div>
        <div className="column wide">
          {selection?.kind === 'contact' ? (
            <ChatPanel
              key={selection.peerId}
              session={session}
              peerId={selection.peerId}
              contact={selectedContact}
              version={version}
              run={run}
            />
          ) : selection?.kind === 'group' ? (
            <GroupPanel
              key={selection.groupId}
              session={session}
              me={user}
              groupId={selection.groupId}
              version={version}
              run={run}
              verificationCodes={info?.verificationCodes ?? false}
            />
          ) : (
            <section className="panel" data-testid="chat">
              <h2>Chat</h2>
              <p className="muted">Pick a contact or a group.</p>
            </section>
          )}
        </div>
        <div className="column">
          <NoticeLog entries={log.entries} />
          {info?.timeTravel ? <ClockPanel operator={operator} run={run} /> : null}
        </div>
      </div>
    </div>
  );
}

// --- Contacts and friend requests ----------------------------------------------------------------------

function ContactsPanel(props: {
  me: DemoUser;
  session: Session;
  data: ContactsData | undefined;
  error: string;
  selection: Selection;
  select: (s: Selection) => void;
  run: Run;
}) {
  const { me, session, data, selection, select, run } = props;
  const others = DEMO_CAST.filter((u) => u.id !== me.id);
  const [to, setTo] = useState(others[0]?.id ?? '');
  const [greeting, setGreeting] = useState('');
  const contacts = data?.contacts.edges.map((e) => e.node) ?? [];
  const incoming = data?.incoming.edges.map((e) => e.node).filter((r) => r.status === 'PENDING') ?? [];
  const outgoing = data?.outgoing.edges.map((e) => e.node).filter((r) => r.status === 'PENDING') ?? [];

  const send = (e: { preventDefault(): void }) => {
    e.preventDefault();
    void run(
      async () => {
        const r = check(
          (
            await session.gql<{
              sendFriendRequest: { request: { status: string } | null; userErrors: UserError[] };
            }>(REQUEST, { input: { userId: to, ...(greeting.trim() ? { greeting } : {}) } })
          ).sendFriendRequest,
        );
        setGreeting('');
        if (r.request?.status === 'ACCEPTED') select({ kind: 'contact', peerId: to });
      },
      `Friend request to ${nameOf(to)} sent.`,
    );
  };
  const respond = (requestId: string, accept: boolean) =>
    void run(
      async () =>
        check(
          (
            await session.gql<{ respondToFriendRequest: { userErrors: UserError[] } }>(RESPOND, {
              input: { requestId, accept },
            })
          ).respondToFriendRequest,
        ),
      accept ? 'Accepted.' : 'Declined.',
    );

  return (
    <section className="panel" data-testid="contacts">
      <h2>Contacts</h2>
      {contacts.length === 0 ? <p className="muted">No contacts yet.</p> : null}
      <ul className="contacts">
        {contacts.map((c) => (
          <li key={c.user.id} data-testid="contact" data-user={c.user.id} data-state={c.state}>
            <button
              type="button"
              className={selection?.kind === 'contact' && selection.peerId === c.user.id ? 'selected' : ''}
              onClick={() => select({ kind: 'contact', peerId: c.user.id })}
              data-testid={`open-chat-${c.user.id}`}
            >
              {c.user.name}
            </button>{' '}
            <span className={`badge state-${c.state}`}>{c.state}</span>
          </li>
        ))}
      </ul>
      {incoming.length > 0 ? (
        <>
          <h3>Requests to you</h3>
          <ul>
            {incoming.map((r) => (
              <li key={r.id} data-testid="incoming-request" data-from={r.from.id}>
                {nameOf(r.from.id)}
                {r.greeting ? ` — “${r.greeting}”` : ''}{' '}
                <button type="button" onClick={() => respond(r.id, true)} data-testid={`accept-${r.from.id}`}>
                  Accept
                </button>{' '}
                <button
                  type="button"
                  onClick={() => respond(r.id, false)}
                  data-testid={`decline-${r.from.id}`}
                >
                  Decline
                </button>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {outgoing.length > 0 ? (
        <>
          <h3>Your pending requests</h3>
          <ul>
            {outgoing.map((r) => (
              <li key={r.id} data-testid="outgoing-request" data-to={r.to.id}>
                to {nameOf(r.to.id)}: {r.status}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <form className="row" onSubmit={send}>
        <select value={to} onChange={(e) => setTo(e.target.value)} data-testid="request-to" aria-label="Ask">
          {others.map((u) => (
            <option key={u.id} value={u.id}>
              {u.name}
            </option>
          ))}
        </select>
        <input
          value={greeting}
          onChange={(e) => setGreeting(e.target.value)}
          placeholder="greeting (optional)"
          maxLength={500}
          aria-label="Greeting"
        />
        <button type="submit" data-testid="request-send">
          Send friend request
        </button>
      </form>
    </section>
  );
}

// --- A conversation: retention, messages, sending ---------------------------------------------------------

function RetentionBox({ r }: { r: Retention | undefined }) {
  if (!r)
    return (
      <div className="retention" data-testid="retention">
        …
      </div>
    );
  return (
    <div className="retention" data-testid="retention">
      History: <strong data-testid="retention-state">{r.state}</strong> (rule{' '}
      <span data-testid="retention-reason">{r.reason}</span>) · {r.visibleMessages} message
      {r.visibleMessages === 1 ? '' : 's'} you can read
      {r.purgeAt ? (
        <div>
          Purged at <When iso={r.purgeAt} testid="retention-purge-at" /> — in{' '}
          <Countdown to={r.purgeAt} testid="retention-countdown" />
        </div>
      ) : null}
      {r.purgedAt ? (
        <div>
          Purged at <When iso={r.purgedAt} testid="retention-purged-at" />
        </div>
      ) : null}
      <div>
        {r.restorable
          ? r.restorableUntil
            ? 'Restorable until '
            : 'Restorable (re-add to bring it back)'
          : 'Not restorable'}
        {r.restorable && r.restorableUntil ? <When iso={r.restorableUntil} /> : null}
      </div>
    </div>
  );
}

function Conversation(props: { session: Session; conversationId: string; version: number; run: Run }) {
  const { session, conversationId, version, run } = props;
  const q = useQuery<{ retentionStatus: Retention; messages: Edges<Message> }>(
    session,
    CONVERSATION,
    { c: conversationId },
    version,
  );
  const [body, setBody] = useState('');
  const messages = [...(q.data?.messages.edges.map((e) => e.node) ?? [])].reverse(); // oldest first
  const send = (e: { preventDefault(): void }) => {
    e.preventDefault();
    if (!body.trim()) return;
    void run(async () => {
      check(
        (
          await session.gql<{ sendMessage: { userErrors: UserError[] } }>(SEND, {
            input: { conversationId, body, idempotencyKey: crypto.randomUUID() },
          })
        ).sendMessage,
      );
      setBody('');
    });
  };
  return (
    <>
      <RetentionBox r={q.data?.retentionStatus} />
      {q.error ? <p className="flash error">{q.error}</p> : null}
      <ol className="messages" data-testid="messages">
        {messages.map((m) => (
          <li key={m.id} data-testid="message" data-id={m.id}>
            <strong>{nameOf(m.sender.id)}</strong>: {m.body} <When iso={m.sentAt} />
          </li>
        ))}
      </ol>
      {q.data && messages.length === 0 ? <p className="muted">No messages you can read.</p> : null}
      <form className="row" onSubmit={send}>
        <input
          value={body}
          onChange={(e) => setBody(e.target.value)}
          placeholder="Write a message"
          maxLength={10_000}
          data-testid="message-input"
          aria-label="Message"
        />
        <button type="submit" data-testid="message-send">
          Send
        </button>
      </form>
    </>
  );
}

type Action = 'DELETE' | 'BLOCK' | 'BLOCK_AND_DELETE';
interface Preview {
  action: Action;
  allowed: boolean;
  refusal: string | null;
  stateBefore: string | null;
  stateAfter: string | null;
  retentionStateAfter: string;
  purgeAt: string | null;
  restorable: boolean;
  messagesPurged: number;
  reason: string;
}
const ACTION_LABEL: Record<Action, string> = {
  DELETE: 'Delete',
  BLOCK: 'Block',
  BLOCK_AND_DELETE: 'Block and delete history',
};

function ChatPanel(props: {
  session: Session;
  peerId: string;
  contact: Contact | undefined;
  version: number;
  run: Run;
}) {
  const { session, peerId, contact, version, run } = props;
  const [preview, setPreview] = useState<{ p: Preview; notify: boolean } | null>(null);
  const peer = nameOf(peerId);

  const ask = (action: Action, notify = false) =>
    void run(async () => {
      const r = await session.gql<{ deletionPreview: Preview }>(PREVIEW, { userId: peerId, action });
      setPreview({ p: r.deletionPreview, notify });
    });
  const confirm = () => {
    if (!preview) return;
    const { p, notify } = preview;
    void run(async () => {
      if (p.action === 'DELETE') {
        const r = await session.gql<{ deleteContact: { userErrors: UserError[] } }>(DELETE, {
          input: { userId: peerId, notice: notify ? 'NOTIFY' : 'SILENT' },
        });
        check(r.deleteContact);
      } else {
        const r = await session.gql<{ blockContact: { userErrors: UserError[] } }>(BLOCK, {
          input: { userId: peerId, deleteHistory: p.action === 'BLOCK_AND_DELETE' },
        });
        check(r.blockContact);
      }
      setPreview(null);
    }, `${ACTION_LABEL[p.action]}: done.`);
  };
  const readd = () =>
    void run(async () => {
      const r = await session.gql<{
        sendFriendRequest: { request: { status: string } | null; userErrors: UserError[] };
      }>(REQUEST, { input: { userId: peerId } });
      check(r.sendFriendRequest);
    }, `Re-added ${peer}: a friend request went out (or the friendship came back at once).`);
  const unblock = () =>
    void run(async () => {
      const r = await session.gql<{ unblockContact: { userErrors: UserError[] } }>(UNBLOCK, {
        input: { userId: peerId },
      });
      check(r.unblockContact);
    }, `Unblocked ${peer}.`);

  const state = contact?.state;
  return (
    <section className="panel" data-testid="chat">
      <h2>
        Chat with <span data-testid="chat-peer">{peer}</span>{' '}
        {state ? (
          <span className={`badge state-${state}`} data-testid="chat-state">
            {state}
          </span>
        ) : null}
      </h2>
      {!contact ? (
        <p className="muted">{peer} is not among your contacts.</p>
      ) : (
        <>
          <div className="row actions" data-testid="actions">
            {state === 'FRIEND' ? (
              <>
                <button type="button" onClick={() => ask('DELETE')} data-testid="action-delete">
                  Delete (silent)
                </button>
                <button type="button" onClick={() => ask('DELETE', true)} data-testid="action-delete-notify">
                  Delete and tell {peer}
                </button>
              </>
            ) : null}
            {state === 'DELETED_BY_ME' || state === 'MUTUALLY_DELETED' ? (
              <button type="button" onClick={readd} data-testid="action-readd">
                Re-add
              </button>
            ) : null}
            {state === 'BLOCKED_BY_ME' ? (
              <button type="button" onClick={unblock} data-testid="action-unblock">
                Unblock
              </button>
            ) : (
              <button type="button" onClick={() => ask('BLOCK')} data-testid="action-block">
                Block
              </button>
            )}
            <button
              type="button"
              onClick={() => ask('BLOCK_AND_DELETE')}
              data-testid="action-block-and-delete"
            >
              Block and delete history
            </button>
          </div>
          {preview ? (
            <div className="preview" data-testid="preview" data-action={preview.p.action}>
              <h3>
                Preview: {ACTION_LABEL[preview.p.action]} {peer}
                {preview.p.action === 'DELETE' ? (preview.notify ? ' (they are told)' : ' (silently)') : ''} —
                nothing has changed yet
              </h3>
              {!preview.p.allowed ? <p className="flash error">Refused: {preview.p.refusal}</p> : null}
              <ul>
                <li>
                  Your view of {peer}: {preview.p.stateBefore ?? 'none'} → {preview.p.stateAfter ?? 'none'}
                </li>
                <li>
                  History afterwards: {preview.p.retentionStateAfter}
                  {preview.p.purgeAt ? (
                    <>
                      , purged at <When iso={preview.p.purgeAt} />
                    </>
                  ) : null}
                </li>
                <li>{preview.p.restorable ? 'Restorable by re-adding' : 'Not restorable'}</li>
                <li>Messages purged at once: {preview.p.messagesPurged}</li>
                {preview.p.action === 'DELETE' ? (
                  <li>
                    {preview.notify
                      ? `${peer} is told at once (ContactRemovedYou, R6).`
                      : `${peer} is told nothing and still sees you as a friend (R2).`}
                  </li>
                ) : null}
                <li>Rule: {preview.p.reason}</li>
              </ul>
              <div className="row">
                <button
                  type="button"
                  className="danger"
                  onClick={confirm}
                  disabled={!preview.p.allowed}
                  data-testid="preview-confirm"
                >
                  Confirm: {ACTION_LABEL[preview.p.action]}
                </button>
                <button type="button" onClick={() => setPreview(null)} data-testid="preview-cancel">
                  Cancel
                </button>
              </div>
            </div>
          ) : null}
          <Conversation
            session={session}
            conversationId={contact.conversation.id}
            version={version}
            run={run}
          />
        </>
      )}
    </section>
  );
}

// --- Groups --------------------------------------------------------------------------------------------

function GroupsPanel(props: {
  me: DemoUser;
  session: Session;
  version: number;
  selection: Selection;
  select: (s: Selection) => void;
  run: Run;
}) {
  const { me, session, version, selection, select, run } = props;
  const q = useQuery<{
    groups: Edges<{
      id: string;
      name: string;
      memberCount: number;
      viewerRole: string;
      dissolution: { status: string } | null;
    }>;
  }>(session, GROUPS, {}, version);
  const [name, setName] = useState('');
  const [members, setMembers] = useState<string[]>([]);
  const others = DEMO_CAST.filter((u) => u.id !== me.id);
  const groups = q.data?.groups.edges.map((e) => e.node) ?? [];
  const create = (e: { preventDefault(): void }) => {
    e.preventDefault();
    void run(async () => {
      const r = check(
        (
          await session.gql<{ createGroup: { group: { id: string } | null; userErrors: UserError[] } }>(
            CREATE_GROUP,
            {
              input: { name, kind: 'STANDARD', memberIds: members },
            },
          )
        ).createGroup,
      );
      setName('');
      setMembers([]);
      if (r.group) select({ kind: 'group', groupId: r.group.id });
    }, 'Group created.');
  };
  return (
    <section className="panel" data-testid="groups">
      <h2>Groups</h2>
      {groups.length === 0 ? <p className="muted">No groups yet.</p> : null}
      <ul className="contacts">
        {groups.map((g) => (
          <li key={g.id} data-testid="group" data-group={g.id}>
            <button
              type="button"
              className={selection?.kind === 'group' && selection.groupId === g.id ? 'selected' : ''}
              onClick={() => select({ kind: 'group', groupId: g.id })}
            >
              {g.name}
            </button>{' '}
            <span className="muted">
              {g.memberCount} members · {g.viewerRole}
              {g.dissolution && g.dissolution.status !== 'RESTORED' && g.dissolution.status !== 'CANCELLED'
                ? ` · ${g.dissolution.status}`
                : ''}
            </span>
          </li>
        ))}
      </ul>
      <form onSubmit={create}>
        <div className="row">
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="New group's name"
            maxLength={100}
            data-testid="group-name"
            aria-label="Group name"
          />
          <button type="submit" data-testid="group-create" disabled={!name.trim()}>
            Create group
          </button>
        </div>
        <div className="row">
          with:
          {others.map((u) => (
            <label key={u.id}>
              <input
                type="checkbox"
                checked={members.includes(u.id)}
                onChange={(e) =>
                  setMembers((m) => (e.target.checked ? [...m, u.id] : m.filter((id) => id !== u.id)))
                }
                data-testid={`group-member-${u.id}`}
              />
              {u.name}
            </label>
          ))}
        </div>
      </form>
    </section>
  );
}

interface DissolutionPreview {
  status: string;
  effectiveAt: string;
  undoUntil: string;
  purgeAt: string | null;
  messagesToPurge: number;
  filesToDelete: number;
  paymentsLeaving: number;
  refusals: UserError[];
  stepUpRequired: boolean;
  stepUpReasons: string[];
  needsGuardian: boolean;
}

function GroupPanel(props: {
  session: Session;
  me: DemoUser;
  groupId: string;
  version: number;
  run: Run;
  verificationCodes: boolean;
}) {
  const { session, me, groupId, version, run, verificationCodes } = props;
  const q = useQuery<{ group: Group | null }>(session, GROUP, { id: groupId }, version);
  const [keepHistory, setKeepHistory] = useState(false);
  const [preview, setPreview] = useState<DissolutionPreview | null>(null);
  const [code, setCode] = useState('');
  const g = q.data?.group;
  if (!q.data)
    return (
      <section className="panel" data-testid="chat">
        <h2>Group</h2>
        <p className="muted">{q.error || '…'}</p>
      </section>
    );
  if (!g)
    return (
      <section className="panel" data-testid="chat">
        <h2>Group</h2>
        <p className="muted">You are not a member of this group (any more).</p>
      </section>
    );
  const owner = g.viewerRole === 'OWNER';
  const d = g.dissolution;
  const inForce =
    d && (d.status === 'EFFECTIVE' || d.status === 'SCHEDULED' || d.status === 'PENDING_CONFIRMATION');
  const input = { groupId };

  const ask = () =>
    void run(async () => {
      const r = await session.gql<{ dissolutionPreview: DissolutionPreview }>(DISSOLUTION_PREVIEW, {
        id: groupId,
        keep: keepHistory,
      });
      setPreview(r.dissolutionPreview);
    });
  const requestCode = () =>
    void run(
      async () => {
        const r = await session.gql<{ requestVerificationCode: { userErrors: UserError[] } }>(REQUEST_CODE, {
          input,
        });
        check(r.requestVerificationCode);
      },
      verificationCodes ? 'Code sent to the development log: read it below.' : 'Code sent.',
    );
  const readCode = () =>
    void run(async () => {
      setCode(await session.verificationCode(groupId));
    });
  const dissolve = () =>
    void run(async () => {
      const r = await session.gql<{ dissolveGroup: { userErrors: UserError[] } }>(DISSOLVE, {
        input: { groupId, keepHistory, ...(code.trim() ? { verificationCode: code.trim() } : {}) },
      });
      check(r.dissolveGroup);
      setPreview(null);
      setCode('');
    }, 'Dissolved.');
  const restore = () =>
    void run(async () => {
      const r = await session.gql<{ restoreGroup: { userErrors: UserError[] } }>(RESTORE, { input });
      check(r.restoreGroup);
    }, 'Restored: the group is exactly as it was.');
  const cancel = () =>
    void run(async () => {
      const r = await session.gql<{ cancelDissolution: { userErrors: UserError[] } }>(CANCEL_DISSOLUTION, {
        input,
      });
      check(r.cancelDissolution);
    }, 'Dissolution cancelled.');

  return (
    <section className="panel" data-testid="chat">
      <h2>
        Group <span data-testid="group-title">{g.name}</span> <span className="badge">{g.viewerRole}</span>
      </h2>
      <p data-testid="group-members">
        Members ({g.memberCount}):{' '}
        {g.members.edges.map((e) => `${nameOf(e.node.user.id)} (${e.node.role.toLowerCase()})`).join(', ')}
      </p>
      <div className="dissolution" data-testid="dissolution">
        {d ? (
          <p>
            {inForce ? 'Dissolution' : 'Last dissolution'}:{' '}
            <strong data-testid="dissolution-status">{d.status}</strong>
            {d.endedAt ? (
              <>
                {' '}
                at <When iso={d.endedAt} />
              </>
            ) : inForce || d.status === 'FINALIZED' ? (
              d.keepHistory ? (
                ' (history kept)'
              ) : (
                ' (history purged when final)'
              )
            ) : null}
          </p>
        ) : null}
        {d?.status === 'SCHEDULED' ? (
          <p>
            Takes effect at <When iso={d.effectiveAt} /> — in{' '}
            <Countdown to={d.effectiveAt} testid="effective-countdown" />
            {owner ? (
              <button type="button" onClick={cancel} data-testid="group-cancel-dissolution">
                Cancel it
              </button>
            ) : null}
          </p>
        ) : null}
        {d?.status === 'EFFECTIVE' ? (
          <p>
            Read-only now. The undo window closes at <When iso={d.undoUntil} testid="undo-until" /> — in{' '}
            <Countdown to={d.undoUntil} testid="undo-countdown" />{' '}
            {owner ? (
              <button type="button" onClick={restore} data-testid="group-restore">
                Restore the group
              </button>
            ) : null}
          </p>
        ) : null}
        {d?.status === 'FINALIZED' ? (
          <p>
            Final since <When iso={d.finalizedAt} />.
          </p>
        ) : null}
        {owner && !inForce && d?.status !== 'FINALIZED' ? (
          <div className="row">
            <label>
              <input
                type="checkbox"
                checked={keepHistory}
                onChange={(e) => {
                  setKeepHistory(e.target.checked);
                  setPreview(null);
                }}
                data-testid="dissolve-keep-history"
              />
              keep history
            </label>
            <button type="button" onClick={ask} data-testid="dissolve-preview">
              Dissolve… (preview first)
            </button>
          </div>
        ) : null}
        {preview && !inForce ? (
          <div className="preview" data-testid="dissolution-preview">
            <h3>Preview: dissolve {g.name} — nothing has changed yet</h3>
            <ul>
              <li>
                Would be {preview.status}, effective <When iso={preview.effectiveAt} />
              </li>
              <li>
                Undo (restore) possible until <When iso={preview.undoUntil} />
              </li>
              <li>
                {preview.purgeAt ? (
                  <>
                    {preview.messagesToPurge} messages purged at <When iso={preview.purgeAt} />
                  </>
                ) : (
                  'History kept for the members'
                )}
              </li>
              <li>
                Files deleted: {preview.filesToDelete} · payments leaving the group: {preview.paymentsLeaving}
              </li>
              {preview.refusals.map((r) => (
                <li key={r.code} className="error">
                  Refused: {r.code} — {r.message}
                </li>
              ))}
              {preview.stepUpRequired ? (
                <li>Needs a verification code (G7: {preview.stepUpReasons.join(', ')})</li>
              ) : null}
            </ul>
            {preview.stepUpRequired ? (
              <div className="row">
                <button type="button" onClick={requestCode} data-testid="dissolve-request-code">
                  Send me a code
                </button>
                {verificationCodes ? (
                  <button type="button" onClick={readCode} data-testid="dissolve-read-code">
                    Read it from the development log
                  </button>
                ) : null}
                <input
                  value={code}
                  onChange={(e) => setCode(e.target.value)}
                  placeholder="6-digit code"
                  maxLength={6}
                  data-testid="dissolve-code"
                  aria-label="Verification code"
                />
              </div>
            ) : null}
            <div className="row">
              <button
                type="button"
                className="danger"
                onClick={dissolve}
                disabled={preview.refusals.length > 0 || (preview.stepUpRequired && !code.trim())}
                data-testid="dissolve-confirm"
              >
                Confirm: dissolve
              </button>
              <button type="button" onClick={() => setPreview(null)}>
                Cancel
              </button>
            </div>
          </div>
        ) : null}
      </div>
      <Conversation session={session} conversationId={g.conversation.id} version={version} run={run} />
      {g.owner.id === me.id ? null : <p className="muted">Owner: {nameOf(g.owner.id)}</p>}
    </section>
  );
}

// --- Notices and the clock ----------------------------------------------------------------------------

function NoticeLog({ entries }: { entries: NoticeEntry[] }) {
  return (
    <section className="panel" data-testid="notice-log">
      <h2>Your notices ({entries.length})</h2>
      {entries.length === 0 ? <p className="muted">None yet: they arrive live, here.</p> : null}
      <ul className="notices">
        {[...entries].reverse().map((e) => (
          <li key={e.cursor} data-testid="notice" data-cursor={e.cursor} data-kind={e.kind}>
            <When iso={e.at} /> <strong>{e.kind}</strong> {e.text}
          </li>
        ))}
      </ul>
    </section>
  );
}

function ClockPanel({ operator, run }: { operator: Session; run: Run }) {
  const now = useServerClock();
  const advance = (seconds: number, label: string) =>
    void run(
      async () => {
        const r = await operator.gql<{ advanceClock: { userErrors: UserError[] } }>(ADVANCE, {
          input: { seconds },
        });
        check(r.advanceClock);
        await syncServerClock();
      },
      `Clock advanced by ${label} (as ${nameOf(DEMO_OPERATOR)}).`,
    );
  const sweep = () =>
    void run(async () => {
      const r = await operator.gql<{
        runRetentionSweep: {
          run: { purgedConversations: number; purgedMessages: number; dissolutionsFinalized: number } | null;
          userErrors: UserError[];
        };
      }>(SWEEP);
      check(r.runRetentionSweep);
    }, 'Retention sweep ran.');
  return (
    <section className="panel" data-testid="clock">
      <h2>Time travel</h2>
      <p>
        Server clock: <span data-testid="server-now">{formatInstant(new Date(now).toISOString())}</span>
      </p>
      <p className="muted">
        The server runs with TIME_TRAVEL=1; these act as the operator {nameOf(DEMO_OPERATOR)}.
      </p>
      <div className="row">
        <button type="button" onClick={() => advance(3600, '1 hour')} data-testid="advance-hour">
          +1 hour
        </button>
        <button type="button" onClick={() => advance(86_400, '1 day')} data-testid="advance-day">
          +1 day
        </button>
        <button type="button" onClick={() => advance(2 * 86_400, '2 days')} data-testid="advance-2days">
          +2 days
        </button>
        <button type="button" onClick={() => advance(30 * 86_400, '30 days')} data-testid="advance-30days">
          +30 days
        </button>
        <button type="button" onClick={sweep} data-testid="run-sweep">
          Run retention sweep
        </button>
      </div>
    </section>
  );
}
