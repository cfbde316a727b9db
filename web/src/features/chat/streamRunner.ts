import { api, API_BASE } from '../../app/api';
import type { Attachment, ChatStreamDelta, Message } from '../../app/apiTypes';
import { authorizedFetch } from '../../app/authorizedFetch';
import type { AppDispatch, AppThunk, RootState } from '../../app/store';
import { apiErrorFromResponse, networkError, toApiError, type ApiError } from '../../lib/apiError';
import { readSse } from '../../lib/sse';
import {
  deltaReceived,
  storedAnswerFound,
  streamCompleted,
  streamFailed,
  streamStarted,
  streamStopped,
  userMessageStored,
  type StreamRequest,
} from './chatSlice';
import { messagesApi, upsertMessages } from './messagesApi';

/** One AbortController per conversation with an answer in flight. */
const controllers = new Map<string, AbortController>();

export function stopStream(conversationId: string): void {
  controllers.get(conversationId)?.abort();
}

export function stopAllStreams(): void {
  for (const c of controllers.values()) c.abort();
}

/**
 * Collects deltas and hands them on at most once per `intervalMs`, so a fast
 * stream costs one render per frame-ish rather than one per token.
 */
export function createDeltaBatcher(
  emit: (delta: ChatStreamDelta) => void,
  intervalMs = 32,
) {
  let content = '';
  let reasoning = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (!content && !reasoning) return;
    const delta: ChatStreamDelta = {};
    if (content) delta.content = content;
    if (reasoning) delta.reasoning = reasoning;
    content = '';
    reasoning = '';
    emit(delta);
  };
  return {
    push(delta: { content?: unknown; reasoning?: unknown }) {
      if (typeof delta.content === 'string') content += delta.content;
      if (typeof delta.reasoning === 'string') reasoning += delta.reasoning;
      timer ??= setTimeout(flush, intervalMs);
    },
    flush,
  };
}

function parseJson(data: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(data) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function messageOf(payload: Record<string, unknown> | null): Message | null {
  const m = payload?.message ?? payload;
  return m && typeof m === 'object' && typeof (m as Message).id === 'string' ? (m as Message) : null;
}

function localUserMessage(conversationId: string, content: string, now: number, attachments: Attachment[] = []): Message {
  return {
    id: `local-${now}`,
    conversation_id: conversationId,
    role: 'user',
    content,
    attachments,
    reasoning: null,
    model: null,
    status: 'complete',
    error_code: null,
    input_tokens: 0,
    output_tokens: 0,
    parent_id: null,
    created_at: new Date(now).toISOString(),
  };
}

/** Streams an answer (a new message or a regeneration) into the store. */
export function startStream(conversationId: string, request: StreamRequest): AppThunk<Promise<void>> {
  return async (dispatch, getState) => {
    controllers.get(conversationId)?.abort();
    const controller = new AbortController();
    controllers.set(conversationId, controller);
    const now = Date.now();
    dispatch(
      streamStarted({
        conversationId,
        request,
        startedAt: now,
        ...(request.kind === 'send'
          ? { localUser: localUserMessage(conversationId, request.content, now, request.attachments) }
          : {}),
      }),
    );

    const base = `${API_BASE}/conversations/${encodeURIComponent(conversationId)}/messages`;
    const url = request.kind === 'send' ? base : `${base}/${encodeURIComponent(request.messageId)}/regenerate`;
    const body: Record<string, unknown> = { stream: true };
    if (request.kind === 'send') body.content = request.content;
    if (request.kind === 'send' && request.attachments?.length) body.attachments = request.attachments.map((a) => a.id);
    if (request.model) body.model = request.model;
    if (request.parameters && Object.keys(request.parameters).length) body.parameters = request.parameters;

    const batcher = createDeltaBatcher((delta) => dispatch(deltaReceived({ conversationId, ...delta })));
    const fail = (error: ApiError) => {
      batcher.flush();
      dispatch(streamFailed({ conversationId, error }));
    };
    let finished = false;

    try {
      const res = await authorizedFetch(
        url,
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
          body: JSON.stringify(body),
          signal: controller.signal,
        },
        dispatch as AppDispatch,
        getState as () => RootState,
      );
      if (!res.ok) {
        fail(await apiErrorFromResponse(res));
        finished = true;
        return;
      }
      if (!res.body) {
        fail({ status: res.status, code: 'bad_response', message: '' });
        finished = true;
        return;
      }
      for await (const ev of readSse(res.body)) {
        const payload = parseJson(ev.data);
        if (ev.event === 'user_message') {
          const msg = messageOf(payload);
          if (msg) {
            dispatch(userMessageStored({ conversationId, message: msg }));
            upsertMessages(dispatch, getState, conversationId, [msg]);
          }
        } else if (ev.event === 'delta') {
          if (payload) batcher.push(payload);
        } else if (ev.event === 'done') {
          batcher.flush();
          const msg = messageOf(payload);
          if (msg) {
            upsertMessages(
              dispatch,
              getState,
              conversationId,
              [msg],
              request.kind === 'regenerate' ? request.messageId : undefined,
            );
          } else {
            dispatch(api.util.invalidateTags([{ type: 'Messages', id: conversationId }]));
          }
          dispatch(streamCompleted({ conversationId }));
          // Title, totals and order in the list may have changed; so has the usage.
          dispatch(
            api.util.invalidateTags([
              { type: 'Conversation', id: conversationId },
              { type: 'ConversationList', id: 'LIST' },
              'Usage',
            ]),
          );
          finished = true;
          break;
        } else if (ev.event === 'error') {
          fail(toApiError(0, payload, null));
          finished = true;
          break;
        }
      }
      if (!finished) {
        fail({ status: 0, code: 'stream_interrupted', message: '' });
        finished = true;
      }
    } catch (e) {
      batcher.flush();
      if (controller.signal.aborted) {
        dispatch(streamStopped({ conversationId }));
      } else {
        fail(networkError(e instanceof Error ? e.message : ''));
      }
      finished = true;
    } finally {
      if (controllers.get(conversationId) === controller) controllers.delete(conversationId);
      const s = getState().chat.streams[conversationId];
      if (finished && s && s.phase !== 'streaming') {
        void dispatch(findStoredAnswer(conversationId));
        // What was stored may still have changed the title, totals or order.
        dispatch(
          api.util.invalidateTags([
            { type: 'Conversation', id: conversationId },
            { type: 'ConversationList', id: 'LIST' },
          ]),
        );
      }
    }
  };
}

/**
 * After a stop or a failure the server keeps what was produced (status
 * interrupted/error). Look it up so a retry regenerates that message and the
 * list does not show it twice.
 */
function findStoredAnswer(conversationId: string): AppThunk<Promise<void>> {
  return async (dispatch, getState) => {
    const s = getState().chat.streams[conversationId];
    if (!s) return;
    const anchor = s.request.kind === 'regenerate' ? undefined : s.userMessageId;
    if (s.request.kind === 'send' && !anchor) return; // nothing was stored
    try {
      const res = await authorizedFetch(
        `${API_BASE}/conversations/${encodeURIComponent(conversationId)}/messages?limit=10`,
        { headers: { Accept: 'application/json' } },
        dispatch as AppDispatch,
        getState as () => RootState,
      );
      if (!res.ok) return;
      const page = (await res.json()) as { items?: Message[] };
      const items = page.items ?? [];
      const answer = [...items]
        .reverse()
        .find(
          (m) =>
            m.role === 'assistant' &&
            (anchor ? m.parent_id === anchor : Date.parse(m.created_at) >= s.startedAt - 60_000),
        );
      if (!answer) return;
      const current = getState().chat.streams[conversationId];
      if (!current || current.phase === 'streaming' || current.startedAt !== s.startedAt) return;
      dispatch(storedAnswerFound({ conversationId, messageId: answer.id }));
      const cached = messagesApi.endpoints.getMessages.select(conversationId)(getState());
      if (cached.data) {
        upsertMessages(
          dispatch,
          getState,
          conversationId,
          [answer],
          s.request.kind === 'regenerate' ? s.request.messageId : undefined,
        );
      }
    } catch {
      /* best effort */
    }
  };
}

/** Retry after a failure or a stop: regenerate the stored answer when there is one, else resend. */
export function retryStream(conversationId: string): AppThunk<Promise<void>> {
  return async (dispatch, getState) => {
    const s = getState().chat.streams[conversationId];
    if (!s || s.phase === 'streaming') return;
    const { model, parameters } = s.request;
    const extra = { ...(model ? { model } : {}), ...(parameters ? { parameters } : {}) };
    if (s.assistantMessageId) {
      await dispatch(startStream(conversationId, { kind: 'regenerate', messageId: s.assistantMessageId, ...extra }));
    } else if (s.request.kind === 'regenerate') {
      await dispatch(startStream(conversationId, s.request));
    } else if (!s.userMessageId) {
      await dispatch(startStream(conversationId, s.request));
    } else {
      // The question is stored but no answer was: regenerate from the question.
      await dispatch(startStream(conversationId, { kind: 'regenerate', messageId: s.userMessageId, ...extra }));
    }
  };
}
