import { useEffect, useState } from 'react';
import { App, Input, Modal } from 'antd';
import { useTranslation } from 'react-i18next';
import type { Conversation } from '../../app/apiTypes';
import { useErrorText } from '../../components/useErrorText';
import { useUpdateConversationMutation } from './conversationsApi';

export const TITLE_MAX = 200;

export function RenameDialog({ conversation, onClose }: { conversation: Conversation | null; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const [title, setTitle] = useState('');
  const [update, { isLoading }] = useUpdateConversationMutation();

  useEffect(() => {
    if (conversation) setTitle(conversation.title ?? '');
  }, [conversation]);

  const save = async () => {
    if (!conversation) return;
    try {
      await update({ id: conversation.id, patch: { title: title.trim() } }).unwrap();
      onClose();
    } catch (e) {
      message.error(errorText(e));
    }
  };

  return (
    <Modal
      open={!!conversation}
      title={t('conversations.rename')}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      onOk={save}
      onCancel={onClose}
      confirmLoading={isLoading}
      okButtonProps={{ disabled: !title.trim() }}
      destroyOnHidden
    >
      <Input
        autoFocus
        aria-label={t('conversations.titleLabel')}
        value={title}
        maxLength={TITLE_MAX}
        onChange={(e) => setTitle(e.target.value)}
        onPressEnter={() => title.trim() && void save()}
      />
    </Modal>
  );
}
