/**
 * Prints the viewer's notices as they arrive, resuming after every dropped connection.
 *
 *   npm run -w examples/client start -- http://localhost:4000/graphql <token> [cursor-file]
 *
 * With a cursor file, a restart resumes where the last run stopped (Ctrl-C, a crash, a reboot);
 * without one, each run starts from now.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { type CursorStore, memoryCursorStore, type Notice, openNoticeStream } from './notices.js';

/** The cursor in a file, replaced atomically (write, then rename) so a crash never leaves half of one. */
export function fileCursorStore(path: string): CursorStore {
  return {
    async load() {
      try {
        return (await readFile(path, 'utf8')).trim() || null;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    async save(cursor) {
      await writeFile(`${path}.tmp`, cursor);
      await rename(`${path}.tmp`, path);
    },
  };
}

/** One line per notice; the switch narrows each kind to its own fields. */
function describe(n: Notice): string {
  switch (n.__typename) {
    case 'MessageReceived':
      return `message ${n.messageId} from ${n.senderId} in ${n.conversationId}`;
    case 'FriendRequestReceived':
      return `friend request ${n.requestId} from ${n.fromUserId}${n.greeting ? `: ${n.greeting}` : ''}`;
    case 'FriendRequestAccepted':
      return `${n.byUserId} accepted request ${n.requestId} (conversation ${n.conversationId})`;
    case 'ContactRemovedYou':
      return `${n.byUserId} removed you`;
    case 'ContactChanged':
      return `your contact ${n.peerId} is now ${n.state ?? 'gone'}${n.deviceId ? ` (from device ${n.deviceId})` : ''}`;
    case 'ConversationPurged':
      return `conversation ${n.conversationId} purged (${n.reason}, ${n.purgedMessages} messages)`;
    case 'GroupMemberChanged':
      return `group ${n.groupId}: ${n.change} ${n.userIds.join(', ')}`;
    default:
      return '(see the schema for this kind)';
  }
}

async function main(): Promise<number> {
  const [url, token, cursorFile] = process.argv.slice(2);
  if (!url || !token) {
    console.error(
      'usage: npm run -w examples/client start -- <http://host:4000/graphql> <token> [cursor-file]',
    );
    return 2;
  }
  const stream = openNoticeStream({
    url: url.replace(/^http/, 'ws'),
    token,
    store: cursorFile ? fileCursorStore(cursorFile) : memoryCursorStore(),
    onStatus: (s) => console.error(`[${s}]`),
    onResync: (reason) => {
      // A real app reloads what it shows (contacts, conversations) from queries here.
      console.error(`[resync: ${reason}; notices continue from now]`);
    },
    onNotice: (n) => {
      console.log(`${n.at}  ${n.__typename.padEnd(22)} ${describe(n)}`);
    },
  });
  process.once('SIGINT', () => void stream.close());
  process.once('SIGTERM', () => void stream.close());
  try {
    await stream.done;
    return 0;
  } catch (err) {
    console.error(String(err));
    return 1;
  }
}

process.exitCode = await main();
