import { Card, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { MessageImages } from '../chat/MessageImages';
import { flattenMessages, useGetMessagesInfiniteQuery } from '../chat/messagesApi';

/** Every picture sent in the conversation (the loaded pages), opening the viewer on click. */
export function ConversationImages({ conversationId }: { conversationId: string }) {
  const { t } = useTranslation();
  const { data, isLoading } = useGetMessagesInfiniteQuery(conversationId);
  const attachments = flattenMessages(data).flatMap((m) => m.attachments ?? []);
  return (
    <Card title={t('details.images')} loading={isLoading} data-testid="conversation-images">
      {attachments.length ? (
        <MessageImages attachments={attachments} size={88} align="start" />
      ) : (
        <Typography.Text type="secondary">{t('details.noImages')}</Typography.Text>
      )}
    </Card>
  );
}
