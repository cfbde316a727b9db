// API objects for tests, typed by the generated contract (a field the document adds or
// renames shows up here as a type error).
import type { Message, Model, User } from '../app/apiTypes';

export const testUser: User = {
  id: 'u',
  username: 'alice',
  email: 'a@x.io',
  display_name: '',
  role: 'user',
  status: 'active',
  settings: {},
  mfa_enabled: false,
  quota: { rpm: null, tpm: null, daily_tokens: null, monthly_tokens: null, daily_cost_cny: null, monthly_cost_cny: null },
  created_at: '',
  updated_at: '',
};

export function testMessage(over: Partial<Message> = {}): Message {
  return {
    id: 'm1',
    conversation_id: 'c1',
    role: 'assistant',
    content: '',
    reasoning: null,
    model: null,
    status: 'complete',
    error_code: null,
    input_tokens: 0,
    output_tokens: 0,
    parent_id: null,
    created_at: '',
    ...over,
  };
}

export function testModel(over: Partial<Model> = {}): Model {
  return {
    id: 'qwen-plus',
    kind: 'chat',
    context_window: null,
    max_input_tokens: null,
    max_output_tokens: null,
    prices: {},
    thinking: false,
    enabled: true,
    image: null,
    default: false,
    ...over,
  };
}
