// The open-platform calls the bridge makes, each read for both error shapes and retried once with a fresh token when the token was refused.
import type { Logger } from '../../lib/log.js';
import { FeishuApiError, TOKEN_CODES, errorOfAnswer, errorOfThrown } from './failures.js';
import type { RestClient } from './sdk.js';

export type ReceiveIdType = 'chat_id' | 'open_id';

export interface BotInfo {
  openId: string;
  name: string;
}

export interface FeishuApi {
  botInfo(): Promise<BotInfo>;
  create(receiveIdType: ReceiveIdType, receiveId: string, msgType: string, content: string, uuid: string): Promise<string>;
  reply(messageId: string, msgType: string, content: string, inThread: boolean, uuid: string): Promise<string>;
  /** Replaces a card's content (the card must have been sent with update_multi). */
  patchCard(messageId: string, content: string): Promise<void>;
  addReaction(messageId: string, emojiType: string): Promise<string>;
  removeReaction(messageId: string, reactionId: string): Promise<void>;
  /** Calls made so far, by name (docs/feishu.md counts what a turn costs). */
  readonly counts: Readonly<Record<string, number>>;
}

interface Answer {
  code?: number;
  msg?: string;
  data?: { message_id?: string; reaction_id?: string };
  bot?: { open_id?: string; app_name?: string };
}

export function createFeishuApi(rest: RestClient, logger: Logger): FeishuApi {
  const { client } = rest;
  const counts: Record<string, number> = {};

  /**
   * One call: a resolved `{code != 0}` and a thrown error are the same FeishuApiError. A refused
   * tenant token is dropped and the call made once more (the SDK neither refreshes nor retries).
   */
  async function call(name: string, fn: () => Promise<Answer | undefined>): Promise<Answer> {
    for (let attempt = 0; ; attempt++) {
      counts[name] = (counts[name] ?? 0) + 1;
      let error: FeishuApiError;
      try {
        const answer = (await fn()) ?? {};
        if (answer.code === undefined || answer.code === 0) return answer;
        error = errorOfAnswer(name, answer);
      } catch (err) {
        error = errorOfThrown(name, err);
      }
      if (attempt === 0 && error.feishuCode !== undefined && TOKEN_CODES.has(error.feishuCode)) {
        logger.info('tenant token refused; fetching a new one and trying again', { call: name, code: error.feishuCode });
        await rest.dropToken();
        continue;
      }
      throw error;
    }
  }

  const messageIdOf = (name: string, a: Answer): string => {
    const id = a.data?.message_id;
    if (!id) throw new FeishuApiError(name, undefined, 200, 'answer without message_id');
    return id;
  };

  return {
    counts,
    async botInfo() {
      const a = await call('bot.info', () => client.request({ url: '/open-apis/bot/v3/info', method: 'GET' }) as Promise<Answer>);
      const openId = a.bot?.open_id;
      if (!openId) throw new FeishuApiError('bot.info', undefined, 200, 'answer without bot.open_id (is the Bot feature enabled for the app?)');
      return { openId, name: a.bot?.app_name ?? '' };
    },
    async create(receiveIdType, receiveId, msgType, content, uuid) {
      const a = await call('message.create', () => client.im.v1.message.create({ params: { receive_id_type: receiveIdType }, data: { receive_id: receiveId, msg_type: msgType, content, uuid } }) as Promise<Answer>);
      return messageIdOf('message.create', a);
    },
    async reply(messageId, msgType, content, inThread, uuid) {
      const a = await call('message.reply', () => client.im.v1.message.reply({ path: { message_id: messageId }, data: { msg_type: msgType, content, uuid, ...(inThread ? { reply_in_thread: true } : {}) } }) as Promise<Answer>);
      return messageIdOf('message.reply', a);
    },
    async patchCard(messageId, content) {
      await call('message.patch', () => client.im.v1.message.patch({ path: { message_id: messageId }, data: { content } }) as Promise<Answer>);
    },
    async addReaction(messageId, emojiType) {
      const a = await call('reaction.create', () => client.im.v1.messageReaction.create({ path: { message_id: messageId }, data: { reaction_type: { emoji_type: emojiType } } }) as Promise<Answer>);
      const id = a.data?.reaction_id;
      if (!id) throw new FeishuApiError('reaction.create', undefined, 200, 'answer without reaction_id');
      return id;
    },
    async removeReaction(messageId, reactionId) {
      await call('reaction.delete', () => client.im.v1.messageReaction.delete({ path: { message_id: messageId, reaction_id: reactionId } }) as Promise<Answer>);
    },
  };
}
