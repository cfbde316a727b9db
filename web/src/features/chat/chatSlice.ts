import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import type { Attachment, ChatParameters, ChatStreamDelta, Message } from '../../app/apiTypes';
import type { ApiError } from '../../lib/apiError';

/**
 * In-flight answers. Stored messages live in the RTK Query cache; this slice
 * only holds what is streaming (or just failed / was stopped) per conversation.
 */
export type StreamRequest =
  | { kind: 'send'; content: string; attachments?: Attachment[]; model?: string; parameters?: ChatParameters }
  | { kind: 'regenerate'; messageId: string; model?: string; parameters?: ChatParameters };

export type StreamPhase = 'streaming' | 'failed' | 'stopped';

export interface StreamState {
  phase: StreamPhase;
  request: StreamRequest;
  /** Shown at once when sending, until the server's stored copy arrives. */
  localUser?: Message;
  /** The stored user message this answer belongs to. */
  userMessageId?: string;
  /** The stored assistant message for a stopped/failed answer, once known. */
  assistantMessageId?: string;
  content: string;
  reasoning: string;
  error?: ApiError;
  startedAt: number;
}

export interface ChatState {
  streams: Record<string, StreamState>;
}

const initialState: ChatState = { streams: {} };

type WithId<T = object> = PayloadAction<{ conversationId: string } & T>;

const chatSlice = createSlice({
  name: 'chat',
  initialState,
  reducers: {
    streamStarted(
      state,
      action: WithId<{ request: StreamRequest; localUser?: Message; startedAt: number }>,
    ) {
      const { conversationId, request, localUser, startedAt } = action.payload;
      const stream: StreamState = { phase: 'streaming', request, content: '', reasoning: '', startedAt };
      if (localUser) stream.localUser = localUser;
      state.streams[conversationId] = stream;
    },
    userMessageStored(state, action: WithId<{ message: Message }>) {
      const s = state.streams[action.payload.conversationId];
      if (!s) return;
      s.userMessageId = action.payload.message.id;
      delete s.localUser;
    },
    deltaReceived(state, action: WithId<ChatStreamDelta>) {
      const s = state.streams[action.payload.conversationId];
      if (!s || s.phase !== 'streaming') return;
      if (action.payload.content) s.content += action.payload.content;
      if (action.payload.reasoning) s.reasoning += action.payload.reasoning;
    },
    streamCompleted(state, action: WithId) {
      delete state.streams[action.payload.conversationId];
    },
    streamFailed(state, action: WithId<{ error: ApiError }>) {
      const s = state.streams[action.payload.conversationId];
      if (!s) return;
      s.phase = 'failed';
      s.error = action.payload.error;
    },
    streamStopped(state, action: WithId) {
      const s = state.streams[action.payload.conversationId];
      if (!s || s.phase !== 'streaming') return;
      s.phase = 'stopped';
    },
    storedAnswerFound(state, action: WithId<{ messageId: string }>) {
      const s = state.streams[action.payload.conversationId];
      if (s && s.phase !== 'streaming') s.assistantMessageId = action.payload.messageId;
    },
    streamDismissed(state, action: WithId) {
      delete state.streams[action.payload.conversationId];
    },
  },
});

export const {
  streamStarted,
  userMessageStored,
  deltaReceived,
  streamCompleted,
  streamFailed,
  streamStopped,
  storedAnswerFound,
  streamDismissed,
} = chatSlice.actions;
export const chatReducer = chatSlice.reducer;

export const selectStream = (state: { chat: ChatState }, conversationId: string | undefined) =>
  conversationId ? state.chat.streams[conversationId] : undefined;

export const selectIsStreaming = (state: { chat: ChatState }, conversationId: string | undefined) =>
  selectStream(state, conversationId)?.phase === 'streaming';
