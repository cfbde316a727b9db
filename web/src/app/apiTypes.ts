/**
 * Shapes of the hub's JSON API (base /api/v1), generated from docs/openapi.yaml into
 * openapi.gen.ts by `npm run build` (scripts/openapi.mjs). Dates are ISO-8601 strings.
 */
import type { components } from './openapi.gen';

type Schemas = components['schemas'];

export type User = Schemas['User'];
export type Role = User['role'];
export type TokenResponse = Schemas['TokenPair'];

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type Conversation = Schemas['Conversation'];
export type Message = Schemas['Message'];
export type MessageRole = Message['role'];
export type MessageStatus = Message['status'];
export type ChatParameters = Schemas['ChatParameters'];
export type Model = Schemas['Model'];
export type AuthSession = Schemas['Session'];
