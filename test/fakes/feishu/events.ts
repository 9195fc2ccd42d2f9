// Pure builders of what Feishu pushes (schema 2.0 envelopes) and readers of what a bot sends (content → what a person sees).
//
// Shapes follow `code-gen/events-template.ts` of the SDK and the open platform's event pages (notes §1.6, §5):
// `im.message.receive_v1` with sender/message, mentions keyed `@_user_N`, threads with root_id/thread_id, and
// `card.action.trigger` for a pressed button. No I/O here: the fake stores and pushes what these return.

export interface FakeUser {
  openId: string;
  unionId: string;
  userId: string;
  name: string;
}

/** Another app in a chat, or the bot itself seen as a sender. */
export interface FakeApp {
  appId: string;
  openId: string;
  name: string;
}

export type FakeChatMode = 'p2p' | 'group' | 'topic';

export interface FakeChat {
  chatId: string;
  mode: FakeChatMode;
  name: string;
}

export type Sender = FakeUser | FakeApp;

export function isApp(sender: Sender): sender is FakeApp {
  return 'appId' in sender;
}

export interface Envelope {
  schema: '2.0';
  header: { event_id: string; event_type: string; create_time: string; token: string; app_id: string; tenant_key: string };
  event: Record<string, unknown>;
}

export interface EnvelopeContext {
  appId: string;
  tenantKey: string;
  eventId: string;
  /** Milliseconds since the epoch; Feishu sends it as a string. */
  createTime: number;
}

export function envelope(ctx: EnvelopeContext, eventType: string, event: Record<string, unknown>): Envelope {
  return {
    schema: '2.0',
    header: { event_id: ctx.eventId, event_type: eventType, create_time: String(ctx.createTime), token: 'fake-verification-token', app_id: ctx.appId, tenant_key: ctx.tenantKey },
    event,
  };
}

export function senderOf(sender: Sender, tenantKey: string): Record<string, unknown> {
  // What an app sender's ids look like in events is not documented; the open id is what a bridge compares.
  if (isApp(sender)) return { sender_id: { open_id: sender.openId, union_id: '', user_id: '' }, sender_type: 'app', tenant_key: tenantKey };
  return { sender_id: { open_id: sender.openId, union_id: sender.unionId, user_id: sender.userId }, sender_type: 'user', tenant_key: tenantKey };
}

export interface Mention {
  key: string;
  id: { open_id: string; union_id: string; user_id: string };
  name: string;
  tenant_key: string;
}

/** Mentions in order, keyed `@_user_1`, `@_user_2`, … as Feishu numbers them. */
export function mentionsOf(who: Sender[], tenantKey: string): Mention[] {
  return who.map((w, i) => ({
    key: `@_user_${i + 1}`,
    id: isApp(w) ? { open_id: w.openId, union_id: '', user_id: '' } : { open_id: w.openId, union_id: w.unionId, user_id: w.userId },
    name: w.name,
    tenant_key: tenantKey,
  }));
}

/** Text content as the client writes it: the mention placeholders lead the text unless the test placed them itself. */
export function textContent(text: string, mentions: Mention[]): string {
  const placed = mentions.every((m) => text.includes(m.key));
  const body = placed || mentions.length === 0 ? text : `${mentions.map((m) => m.key).join(' ')} ${text}`;
  return JSON.stringify({ text: body });
}

/** Post content as received: `at` elements carry the open id (openclaw reads them when `mentions` is empty). */
export function postContent(text: string, mentioned: Sender[], title = ''): string {
  const ats = mentioned.map((m) => ({ tag: 'at', user_id: m.openId, user_name: m.name }));
  const lines = text.split('\n');
  const content = lines.map((line, i) => [...(i === 0 ? ats : []), { tag: 'text', text: i === 0 && ats.length > 0 ? ` ${line}` : line }]);
  return JSON.stringify({ title, content });
}

let nextKey = 1;
const fakeKey = (prefix: string) => `${prefix}${(nextKey++).toString(16).padStart(8, '0')}fake`;

/** Default content of each non-text type, as a phone sends it (keys are made up but shaped like production's). */
export const NON_TEXT_CONTENT: Record<string, () => Record<string, unknown>> = {
  image: () => ({ image_key: fakeKey('img_v3_') }),
  file: () => ({ file_key: fakeKey('file_v3_'), file_name: 'report.pdf' }),
  audio: () => ({ file_key: fakeKey('file_v3_'), duration: 3000 }),
  media: () => ({ file_key: fakeKey('file_v3_'), image_key: fakeKey('img_v3_'), file_name: 'clip.mp4', duration: 5000 }),
  sticker: () => ({ file_key: fakeKey('file_v3_') }),
  share_chat: () => ({ chat_id: fakeKey('oc_') }),
  share_user: () => ({ user_id: fakeKey('ou_') }),
  location: () => ({ name: 'Somewhere', longitude: '116.40', latitude: '39.90' }),
};

export interface CardActionInput {
  operator: FakeUser;
  messageId: string;
  chatId: string;
  value: unknown;
  tag: string;
  name?: string;
}

export function cardActionEvent(input: CardActionInput, tenantKey: string, token: string): Record<string, unknown> {
  return {
    operator: { tenant_key: tenantKey, open_id: input.operator.openId, union_id: input.operator.unionId, user_id: input.operator.userId },
    token,
    action: { value: input.value, tag: input.tag, ...(input.name !== undefined ? { name: input.name } : {}) },
    host: 'im_message',
    context: { open_message_id: input.messageId, open_chat_id: input.chatId },
  };
}

// ---------- reading what a bot sent

const AT_TAG = /<at\s+(?:user_id|id|open_id)="([^"]*)"\s*>([^<]*)<\/at>/g;

/** `<at user_id="ou_x">Tom</at>` shows as `@Tom`, `<at user_id="all"></at>` as `@all`. */
function renderAtTags(text: string): string {
  return text.replace(AT_TAG, (_m, id: string, name: string) => `@${name || (id === 'all' ? 'all' : id)}`);
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' ? v : '');

function postText(body: Json): string {
  // A sent post is keyed by locale ({zh_cn: {...}}); a received one is not.
  const post = Array.isArray(body.content) ? body : (Object.values(body).find(isObject) ?? {});
  const lines = (Array.isArray(post.content) ? post.content : []).map((line: unknown) =>
    (Array.isArray(line) ? line : [])
      .map((el: unknown) => {
        if (!isObject(el)) return '';
        if (el.tag === 'at') return `@${str(el.user_name) || str(el.user_id)}`;
        if (el.tag === 'img') return '[image]';
        return str(el.text);
      })
      .join(''),
  );
  const title = str(post.title);
  return [...(title ? [title] : []), ...lines].join('\n');
}

/** Every text a person sees on a card (1.0 or 2.0): header title, div/markdown/plain texts, buttons as `[Label]`. */
function cardText(card: Json): string {
  const out: string[] = [];
  const header = isObject(card.header) ? card.header : undefined;
  if (header && isObject(header.title)) out.push(str(header.title.content));
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!isObject(node)) return;
    if (node.tag === 'button' && isObject(node.text)) {
      out.push(`[${str(node.text.content)}]`);
      return;
    }
    if (node.tag === 'markdown' || node.tag === 'lark_md' || node.tag === 'plain_text') {
      if (typeof node.content === 'string') out.push(node.content);
      return;
    }
    for (const [k, v] of Object.entries(node)) if (k !== 'header' && k !== 'config' && k !== 'value' && k !== 'behaviors') walk(v);
  };
  walk(isObject(card.body) ? card.body : card.elements);
  return out.filter((t) => t !== '').join('\n');
}

const VISIBLE_TEXT: Record<string, (body: Json) => string> = {
  text: (b) => renderAtTags(str(b.text)),
  post: (b) => renderAtTags(postText(b)),
  interactive: (b) => cardText(b),
  image: () => '[image]',
  file: (b) => (str(b.file_name) ? `[file ${str(b.file_name)}]` : '[file]'),
  audio: () => '[audio]',
  media: () => '[video]',
  sticker: () => '[sticker]',
};

/** What a person sees for a message of `msgType` whose content JSON is `content`. */
export function visibleText(msgType: string, content: string): string {
  let body: unknown;
  try {
    body = JSON.parse(content);
  } catch {
    return content;
  }
  const read = VISIBLE_TEXT[msgType];
  return read && isObject(body) ? read(body) : `[${msgType}]`;
}

/** The buttons of a card with their callback values, for a simulated press by label. */
export function cardButtons(content: string): { label: string; value: unknown; name?: string }[] {
  let card: unknown;
  try {
    card = JSON.parse(content);
  } catch {
    return [];
  }
  const found: { label: string; value: unknown; name?: string }[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!isObject(node)) return;
    if (node.tag === 'button' && isObject(node.text)) {
      // Card 1.0 puts the value on the button; 2.0 in a callback behaviour.
      const behaviour = Array.isArray(node.behaviors) ? node.behaviors.find((b) => isObject(b) && b.type === 'callback') : undefined;
      const value = node.value ?? (isObject(behaviour) ? behaviour.value : undefined);
      found.push({ label: str(node.text.content), value, ...(typeof node.name === 'string' ? { name: node.name } : {}) });
      return;
    }
    Object.values(node).forEach(walk);
  };
  walk(card);
  return found;
}
