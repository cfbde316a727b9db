import { useCallback, useEffect, useState } from 'react';
import { App, Button, Result, Tooltip } from 'antd';
import { BulbOutlined, CodeOutlined, EditOutlined, InfoCircleOutlined } from '@ant-design/icons';
import Prompts from '@ant-design/x/es/prompts';
import Welcome from '@ant-design/x/es/welcome';
import { skipToken } from '@reduxjs/toolkit/query';
import { useTranslation } from 'react-i18next';
import { useNavigate, useParams } from 'react-router';
import { useAppDispatch, useAppSelector } from '../../app/hooks';
import type { Attachment, ChatParameters, Message } from '../../app/apiTypes';
import { Logo } from '../../components/Logo';
import { TopBar } from '../../components/TopBar';
import { useErrorText } from '../../components/useErrorText';
import { isApiError } from '../../lib/apiError';
import { useCreateConversationMutation, useGetConversationQuery, useUpdateConversationMutation } from '../conversations/conversationsApi';
import { chatModels, pickModel, thinkingAvailable, useListModelsQuery } from '../models/modelsApi';
import { modelChosen } from '../settings/prefsSlice';
import { selectIsStreaming } from './chatSlice';
import { Composer } from './Composer';
import { draftChanged, draftCleared, NEW_CHAT_DRAFT } from './draftsSlice';
import { MessageList } from './MessageList';
import { startStream, stopStream } from './streamRunner';
import { UsageWarning } from '../usage/UsageWarning';
import styles from './chat.module.css';

function NewChatWelcome({ onPick }: { onPick: (text: string) => void }) {
  const { t } = useTranslation();
  const examples = [
    { key: 'explain', icon: <BulbOutlined />, label: t('chat.exampleExplainTitle'), description: t('chat.exampleExplain') },
    { key: 'code', icon: <CodeOutlined />, label: t('chat.exampleCodeTitle'), description: t('chat.exampleCode') },
    { key: 'write', icon: <EditOutlined />, label: t('chat.exampleWriteTitle'), description: t('chat.exampleWrite') },
  ];
  return (
    <div className={styles.welcome}>
      <Welcome
        variant="borderless"
        icon={<Logo size={48} />}
        title={t('chat.welcomeTitle')}
        description={t('chat.welcomeBody')}
      />
      <Prompts
        className={styles.prompts}
        title={t('chat.tryAsking')}
        items={examples}
        wrap
        onItemClick={({ data }) => onPick(String(data.description ?? ''))}
      />
    </div>
  );
}

export function ChatPage() {
  const { t } = useTranslation();
  const { conversationId } = useParams();
  const navigate = useNavigate();
  const dispatch = useAppDispatch();
  const { message } = App.useApp();
  const errorText = useErrorText();

  const conversation = useGetConversationQuery(conversationId ?? skipToken);
  const models = useListModelsQuery();
  const preferredModel = useAppSelector((s) => s.prefs.model);
  const thinking = useAppSelector((s) => s.prefs.thinking);
  const streaming = useAppSelector((s) => selectIsStreaming(s, conversationId));
  const [createConversation, { isLoading: creating }] = useCreateConversationMutation();
  const [updateConversation] = useUpdateConversationMutation();
  const [sending, setSending] = useState(false);

  const available = chatModels(models.data);
  const fallbackModel = pickModel(available, preferredModel) ?? preferredModel ?? undefined;
  const model = (conversationId ? conversation.data?.model : null) || fallbackModel;
  const draftKey = conversationId ?? NEW_CHAT_DRAFT;

  // Only models that can reason accept enable_thinking (the hub refuses it for the others).
  const canThink = thinkingAvailable(models.data, model);
  const wantThinking = thinking && canThink;
  const parameters = useCallback(
    (): ChatParameters | undefined => (wantThinking ? { enable_thinking: true } : undefined),
    [wantThinking],
  );

  const onModelChange = (next: string) => {
    dispatch(modelChosen(next));
    if (conversationId) {
      updateConversation({ id: conversationId, patch: { model: next } })
        .unwrap()
        .catch((e: unknown) => message.error(errorText(e)));
    }
  };

  // Pictures need a vision model: the composer offers the first one when another is chosen.
  const visionModel = available.find((m) => m.kind === 'vision')?.id;
  const acceptsImages = available.some((m) => m.id === model && m.kind === 'vision');

  const onSend = async (text: string, attachments: Attachment[] = []) => {
    const content = text.trim();
    if (!content && !attachments.length) return;
    const request = {
      kind: 'send' as const,
      content,
      ...(attachments.length ? { attachments } : {}),
      ...(model ? { model } : {}),
      ...(parameters() ? { parameters: parameters() } : {}),
    };
    if (conversationId) {
      dispatch(draftCleared(conversationId));
      void dispatch(startStream(conversationId, request));
      return;
    }
    setSending(true);
    try {
      const created = await createConversation(model ? { model } : {}).unwrap();
      dispatch(draftCleared(NEW_CHAT_DRAFT));
      navigate(`/c/${created.id}`);
      void dispatch(startStream(created.id, request));
    } catch (e) {
      message.error(errorText(e));
    } finally {
      setSending(false);
    }
  };

  const onStop = useCallback(() => {
    if (conversationId) stopStream(conversationId);
  }, [conversationId]);

  const onRegenerate = useCallback(
    (m: Message) => {
      if (!conversationId) return;
      const p = wantThinking ? { enable_thinking: true } : undefined;
      void dispatch(
        startStream(conversationId, {
          kind: 'regenerate',
          messageId: m.id,
          ...(model ? { model } : {}),
          ...(p ? { parameters: p } : {}),
        }),
      );
    },
    [conversationId, dispatch, model, wantThinking],
  );

  // Esc stops the answer from anywhere on the page.
  useEffect(() => {
    if (!streaming) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !e.defaultPrevented && !document.querySelector('.ant-modal-wrap')) onStop();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [streaming, onStop]);

  const notFound =
    !!conversationId && conversation.isError && isApiError(conversation.error) && conversation.error.status === 404;
  const title = conversationId ? conversation.data?.title || t('chat.untitled') : t('chat.newChat');

  return (
    <div className={styles.page}>
      <TopBar
        title={title}
        extra={
          conversationId && !notFound ? (
            <Tooltip title={t('conversations.details')}>
              <Button
                type="text"
                icon={<InfoCircleOutlined />}
                aria-label={t('conversations.details')}
                onClick={() => navigate(`/c/${conversationId}/details`)}
              />
            </Tooltip>
          ) : undefined
        }
      />
      {notFound ? (
        <div className={styles.listState}>
          <Result
            status="404"
            title={t('conversations.notFound')}
            extra={
              <Button type="primary" onClick={() => navigate('/')}>
                {t('chat.newChat')}
              </Button>
            }
          />
        </div>
      ) : (
        <>
          {conversationId ? (
            <MessageList conversationId={conversationId} onRegenerate={onRegenerate} />
          ) : (
            <NewChatWelcome onPick={(text) => dispatch(draftChanged({ key: NEW_CHAT_DRAFT, text }))} />
          )}
          <UsageWarning />
          <Composer
            draftKey={draftKey}
            model={model}
            canThink={canThink}
            onModelChange={onModelChange}
            streaming={streaming}
            sending={sending || creating}
            onSend={(text, attachments) => void onSend(text, attachments)}
            onStop={onStop}
            acceptsImages={acceptsImages}
            visionModel={visionModel}
          />
        </>
      )}
    </div>
  );
}
