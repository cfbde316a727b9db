import { Button, Progress, Tooltip } from 'antd';
import { CloseOutlined, ExclamationCircleOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import type { Upload } from '../../app/apiTypes';
import styles from './chat.module.css';

/** A picture chosen for the next message: its local preview and how its upload goes. */
export interface PendingPicture {
  key: string;
  name: string;
  preview: string; // object URL of the chosen file
  progress: number; // 0..100
  upload?: Upload; // once stored
  error?: string; // why it could not be uploaded
}

/** Thumbnails above the message box, each with its progress and a remove button. */
export function AttachmentBar({ items, onRemove }: { items: readonly PendingPicture[]; onRemove: (key: string) => void }) {
  const { t } = useTranslation();
  if (!items.length) return null;
  return (
    <ul className={styles.attachments} aria-label={t('chat.attachments')}>
      {items.map((p) => (
        <li key={p.key} className={styles.attachment} data-testid="pending-attachment">
          <img src={p.preview} alt={p.name} className={styles.attachmentThumb} />
          {!p.upload && !p.error && (
            <div className={styles.attachmentOverlay}>
              <Progress type="circle" percent={p.progress} size={32} aria-label={t('chat.uploading', { name: p.name })} />
            </div>
          )}
          {p.error && (
            <Tooltip title={p.error}>
              <div className={styles.attachmentOverlay} role="alert" aria-label={p.error}>
                <ExclamationCircleOutlined className={styles.attachmentError} />
              </div>
            </Tooltip>
          )}
          <Button
            size="small"
            shape="circle"
            className={styles.attachmentRemove}
            icon={<CloseOutlined />}
            aria-label={t('chat.removeAttachment', { name: p.name })}
            onClick={() => onRemove(p.key)}
          />
        </li>
      ))}
    </ul>
  );
}
