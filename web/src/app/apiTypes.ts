/**
 * Shapes of the hub's JSON API (base /api/v1), generated from docs/openapi.yaml into
 * openapi.gen.ts by `npm run build` (scripts/openapi.mjs). Dates are ISO-8601 strings.
 * Feature code takes API shapes from here (or from the generated types), never by hand.
 */
import type { components, operations } from './openapi.gen';

export type Schemas = components['schemas'];

/** The JSON request body of an operation (by operationId). */
export type RequestBody<Op extends keyof operations> = operations[Op] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;

/** The JSON body of an operation's answer with the given status. */
export type JsonResponse<Op extends keyof operations, Status extends number = 200> = operations[Op] extends {
  responses: { [S in Status]: { content: { 'application/json': infer B } } };
}
  ? B
  : never;

export type User = Schemas['User'];
export type Role = User['role'];
export type TokenResponse = Schemas['TokenPair'];

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type Conversation = Schemas['Conversation'];
export type Message = Schemas['Message'];
export type Attachment = Schemas['Attachment'];
export type Upload = Schemas['Upload'];
export type MessageRole = Message['role'];
export type MessageStatus = Message['status'];
export type ChatParameters = Schemas['ChatParameters'];
export type Model = Schemas['Model'];
export type AuthSession = Schemas['Session'];

/** The `data` of each event of a chat answer's stream (POST …/messages, …/regenerate). */
export type ChatStreamUserMessage = Schemas['ChatStreamEventUserMessage'];
export type ChatStreamDelta = Schemas['ChatStreamEventDelta'];
export type ChatStreamDone = Schemas['ChatStreamEventDone'];
export type ChatStreamError = Schemas['ChatStreamEventError'];
