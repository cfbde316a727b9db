import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Button, Result, Spin } from 'antd';
import { ArrowDownOutlined } from '@ant-design/icons';
import { Virtuoso, type VirtuosoHandle } from 'react-virtuoso';
import { useTranslation } from 'react-i18next';
import { useAppDispatch, useAppSelector } from '../../app/hooks';
import type { Message } from '../../app/apiTypes';
import { useErrorText } from '../../components/useErrorText';
import { buildChatItems, type ChatItem } from './chatItems';
import { selectStream } from './chatSlice';
import { MessageItem } from './MessageItem';
import { useGetMessagesInfiniteQuery } from './messagesApi';
import { retryStream } from './streamRunner';
import styles from './chat.module.css';

const START_INDEX = 1_000_000;

export interface MessageListProps {
  conversationId: string;
  onRegenerate: (message: Message) => void;
}

/**
 * The virtualised chat window: only visible rows are in the DOM, older pages
 * load when the top is reached (?before=cursor), and it follows the answer
 * while the reader is at the bottom.
 */
export function MessageList({ conversationId, onRegenerate }: MessageListProps) {
  const { t } = useTranslation();
  const dispatch = useAppDispatch();
  const errorText = useErrorText();
  const query = useGetMessagesInfiniteQuery(conversationId);
  const stream = useAppSelector((s) => selectStream(s, conversationId));
  const { items, olderCount } = useMemo(() => buildChatItems(query.data?.pages, stream), [query.data, stream]);
  const virtuoso = useRef<VirtuosoHandle>(null);
  const [atBottom, setAtBottom] = useState(true);
  const busy = stream?.phase === 'streaming';

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = query;
  const loadOlder = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  // A new question always brings the bottom into view.
  const startedAt = stream?.startedAt;
  useEffect(() => {
    if (startedAt) virtuoso.current?.scrollToIndex({ index: 'LAST', align: 'end' });
  }, [startedAt]);

  const onRetry = useCallback(() => void dispatch(retryStream(conversationId)), [dispatch, conversationId]);
  const itemContent = useCallback(
    (_: number, item: ChatItem) => (
      <MessageItem item={item} busy={busy} onRegenerate={onRegenerate} onRetry={onRetry} />
    ),
    [busy, onRegenerate, onRetry],
  );

  if (query.isLoading) {
    return (
      <div className={styles.listState}>
        <Spin />
      </div>
    );
  }
  if (query.isError && !query.data) {
    return (
      <div className={styles.listState}>
        <Result
          status={query.error && 'status' in query.error && query.error.status === 404 ? '404' : 'warning'}
          subTitle={errorText(query.error)}
          extra={<Button onClick={() => query.refetch()}>{t('common.retry')}</Button>}
        />
      </div>
    );
  }

  return (
    <div className={styles.listWrap}>
      <Virtuoso
        key={conversationId}
        ref={virtuoso}
        className={styles.list}
        data={items}
        firstItemIndex={START_INDEX - olderCount}
        initialTopMostItemIndex={{ index: 'LAST', align: 'end' }}
        computeItemKey={(_, item) => item.key}
        itemContent={itemContent}
        startReached={loadOlder}
        followOutput={(bottom) => (bottom ? 'auto' : false)}
        atBottomStateChange={setAtBottom}
        atBottomThreshold={80}
        increaseViewportBy={{ top: 600, bottom: 300 }}
        components={{
          Header: () => (
            <div className={styles.listHeader}>{isFetchingNextPage ? <Spin size="small" /> : null}</div>
          ),
          Footer: () => <div className={styles.listFooter} />,
        }}
      />
      {!atBottom && (
        <Button
          className={styles.toBottom}
          shape="circle"
          icon={<ArrowDownOutlined />}
          aria-label={t('chat.scrollToBottom')}
          onClick={() => virtuoso.current?.scrollToIndex({ index: 'LAST', align: 'end', behavior: 'smooth' })}
        />
      )}
    </div>
  );
}
