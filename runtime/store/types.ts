// The runtime's records as the API shows them: the wire shapes live in lib/api-types, shared with clients.
export type { Thread, ThreadWithTurns, TurnStatus, Turn, EventType, RuntimeEvent, ApprovalStatus, ApprovalDecision, Approval } from '../../lib/api-types.js';
export { FINISHED_STATUSES, TURN_STATUSES } from '../../lib/api-types.js';
