import { memo, type ReactNode } from 'react';
import { Alert, Button, Space, Tag, Tooltip, Typography } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import Bubble from '@ant-design/x/es/bubble';
import Think from '@ant-design/x/es/think';
import { useTranslation } from 'react-i18next';
import type { Message } from '../../app/apiTypes';
import { CopyButton } from '../../components/CopyButton';
import { Markdown } from '../../components/markdown/Markdown';
import { useErrorText } from '../../components/useErrorText';
import type { ApiError } from '../../lib/apiError';
import { useCountdown } from '../../lib/useCountdown';
import type { ChatItem } from './chatItems';
import { MessageImages } from './MessageImages';
import styles from './chat.module.css';

function Reasoning({ text, streaming }: { text: string; streaming: boolean }) {
  const { t } = useTranslation();
  if (!text) return null;
  return (
    <Think
      className={styles.think}
      title={streaming ? t('chat.thinking') : t('chat.thoughts')}
      loading={streaming}
      defaultExpanded={streaming}
      blink={streaming}
    >
      <div className={styles.reasoning}>{text}</div>
    </Think>
  );
}

function AnswerBody({ content, reasoning, thinking }: { content: string; reasoning: string; thinking: boolean }) {
  return (
    <div className={styles.answer}>
      <Reasoning text={reasoning} streaming={thinking} />
      {content ? <Markdown>{content}</Markdown> : null}
    </div>
  );
}

function InlineError({ error, onRetry }: { error: ApiError; onRetry?: () => void }) {
  const { t } = useTranslation();
  const errorText = useErrorText();
  const left = useCountdown(error.retryAfter, error);
  const text = error.code === 'rate_limited' && left > 0 ? t('errors.rate_limited_wait', { seconds: left }) : errorText(error);
  return (
    <Alert
      className={styles.inlineError}
      type={error.code === 'content_filtered' ? 'warning' : 'error'}
      showIcon
      role="alert"
      title={text}
      action={
        onRetry ? (
          <Button size="small" icon={<ReloadOutlined />} onClick={onRetry} disabled={left > 0}>
            {t('common.retry')}
          </Button>
        ) : undefined
      }
    />
  );
}

function Meta({ message }: { message: Message }) {
  const { t } = useTranslation();
  const parts: string[] = [];
  if (message.model) parts.push(message.model);
  if (message.output_tokens) parts.push(t('chat.tokens', { count: message.output_tokens }));
  if (!parts.length) return null;
  return (
    <Typography.Text type="secondary" className={styles.meta}>
      {parts.join(' · ')}
    </Typography.Text>
  );
}

export interface MessageItemProps {
  item: ChatItem;
  busy: boolean;
  onRegenerate: (message: Message) => void;
  onRetry: () => void;
}

/** One row of the chat window. */
export const MessageItem = memo(function MessageItem({ item, busy, onRegenerate, onRetry }: MessageItemProps) {
  const { t } = useTranslation();

  if (item.type === 'message' || item.type === 'pending-user') {
    const m = item.message;
    if (m.role === 'user') {
      return (
        <div className={styles.row}>
          <Bubble
            placement="end"
            shape="corner"
            className={styles.userBubble}
            content={
              <>
                <MessageImages attachments={m.attachments} />
                {m.content ? <div className={styles.userText}>{m.content}</div> : null}
              </>
            }
            footer={item.type === 'message' && m.content ? <CopyButton text={m.content} size="small" /> : undefined}
            footerPlacement="outer-end"
          />
        </div>
      );
    }
    const canRegenerate = item.type === 'message' && item.last && !busy;
    const failed = m.status === 'error' || m.status === 'interrupted';
    let notice: ReactNode = null;
    if (m.status === 'error') {
      notice = (
        <InlineError
          error={{ status: 0, code: m.error_code || 'generic', message: '' }}
          onRetry={canRegenerate ? () => onRegenerate(m) : undefined}
        />
      );
    }
    return (
      <div className={styles.row}>
        <Bubble
          placement="start"
          variant="borderless"
          className={styles.aiBubble}
          content={
            <>
              <AnswerBody content={m.content} reasoning={m.reasoning ?? ''} thinking={false} />
              {notice}
            </>
          }
          footer={
            <Space size={2} wrap>
              <CopyButton text={m.content} size="small" />
              {canRegenerate && (
                <Tooltip title={t('chat.regenerate')}>
                  <Button
                    type="text"
                    size="small"
                    icon={<ReloadOutlined />}
                    aria-label={t('chat.regenerate')}
                    onClick={() => onRegenerate(m)}
                  />
                </Tooltip>
              )}
              {m.status === 'interrupted' && <Tag>{t('chat.stopped')}</Tag>}
              {!failed && <Meta message={m} />}
            </Space>
          }
        />
      </div>
    );
  }

  const s = item.stream;
  const streaming = s.phase === 'streaming';
  const waiting = streaming && !s.content && !s.reasoning;
  return (
    <div className={styles.row} aria-live={streaming ? 'polite' : undefined} aria-busy={streaming}>
      <Bubble
        placement="start"
        variant="borderless"
        className={styles.aiBubble}
        loading={waiting}
        content={
          <>
            <AnswerBody
              content={s.content}
              reasoning={s.reasoning}
              thinking={streaming && !s.content}
            />
            {s.phase === 'failed' && s.error && <InlineError error={s.error} onRetry={onRetry} />}
          </>
        }
        footer={
          s.phase === 'stopped' ? (
            <Space size={2} wrap>
              {s.content && <CopyButton text={s.content} size="small" />}
              <Tooltip title={t('chat.regenerate')}>
                <Button
                  type="text"
                  size="small"
                  icon={<ReloadOutlined />}
                  aria-label={t('chat.regenerate')}
                  onClick={onRetry}
                />
              </Tooltip>
              <Tag>{t('chat.stopped')}</Tag>
            </Space>
          ) : undefined
        }
      />
    </div>
  );
});
