// Feishu's send budget, through the core's own pacing functions: the reply never waits for the typing reaction, and no second holds more than Feishu allows.
import { describe, expect, it } from 'vitest';
import type { ConversationRef } from '../../../bridges/core/adapter.js';
import { createPacingState, sendWait, trySend } from '../../../bridges/core/pacing.js';
import { FEISHU_LIMITS } from '../../../bridges/feishu/adapter.js';

const chats: ConversationRef[] = [
  { platform: 'feishu', chatId: 'oc_p2p', kind: 'private' },
  { platform: 'feishu', chatId: 'oc_group', kind: 'group' },
];

describe('the Feishu send budget', () => {
  it.each(chats)('in a $kind chat the reply goes at once after the typing reaction took its token', (ref) => {
    const state = createPacingState();
    expect(trySend(state, FEISHU_LIMITS, ref, 1_000, 'best_effort')).toBe(true);
    expect(sendWait(state, FEISHU_LIMITS, ref, 1_000)).toBe(0);
  });

  it.each(chats)('a $kind chat never gets more than 4 budgeted calls in any second (5 with the reaction removal)', (ref) => {
    const state = createPacingState();
    const sent: number[] = [];
    for (let t = 0; t <= 10_000; t += 10) while (trySend(state, FEISHU_LIMITS, ref, t)) sent.push(t);
    for (const t of sent) expect(sent.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(4);
    expect(sent.length).toBeGreaterThanOrEqual(20);
  });
});
