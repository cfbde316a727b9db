/** Shapes of the hub's JSON API (base /api/v1). Dates are ISO-8601 strings. */

export type Role = 'user' | 'admin' | 'auditor' | string;

export interface User {
  id: string;
  username: string;
  email: string;
  display_name: string | null;
  role: Role;
  status: 'active' | 'disabled' | string;
  settings: Record<string, unknown>;
  created_at: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer' | string;
  /** Seconds. */
  expires_in: number;
  refresh_token?: string;
  user: User;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Conversation {
  id: string;
  title: string | null;
  model: string | null;
  system_prompt: string | null;
  pinned: boolean;
  archived: boolean;
  created_at: string;
  updated_at: string;
  message_count?: number;
  input_tokens?: number;
  output_tokens?: number;
}

export type MessageRole = 'system' | 'user' | 'assistant';
export type MessageStatus = 'complete' | 'streaming' | 'interrupted' | 'error';

export interface Message {
  id: string;
  conversation_id: string;
  role: MessageRole;
  content: string;
  reasoning?: string | null;
  model: string | null;
  status: MessageStatus;
  error_code?: string | null;
  input_tokens: number;
  output_tokens: number;
  parent_id: string | null;
  created_at: string;
}

export interface ChatParameters {
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  enable_search?: boolean;
  enable_thinking?: boolean;
}

export interface Model {
  id: string;
  kind: 'chat' | 'image' | 'vision' | string;
  context_window?: number | null;
  prices?: Record<string, unknown> | null;
  enabled: boolean;
  /** The hub's default model (used when a request names none). */
  default?: boolean;
  /** Can reason before answering (enable_thinking, or always). */
  thinking?: boolean;
}

export interface AuthSession {
  id: string;
  user_agent?: string | null;
  ip?: string | null;
  created_at: string;
  expires_at?: string | null;
  last_used_at?: string | null;
  current?: boolean;
}
