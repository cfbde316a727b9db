import { Image, Skeleton } from 'antd';
import { PictureOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import type { Attachment } from '../../app/apiTypes';
import { useAuthedImage } from './uploads';
import styles from './chat.module.css';

function Picture({ attachment, index, size }: { attachment: Attachment; index: number; size: number }) {
  const { t } = useTranslation();
  const { src, failed } = useAuthedImage(attachment.url);
  const alt = t('chat.imageAlt', { n: index + 1 });
  if (failed) {
    return (
      <div className={styles.imageMissing} style={{ width: size, height: size }} role="img" aria-label={t('chat.imageMissing')}>
        <PictureOutlined />
      </div>
    );
  }
  if (!src) return <Skeleton.Image active style={{ width: size, height: size }} />;
  return <Image src={src} alt={alt} width={size} height={size} className={styles.messageImage} data-testid="message-image" />;
}

/** The pictures of a message; a click opens the viewer (zoom, rotate, next/previous). */
export function MessageImages({
  attachments,
  size = 96,
  align = 'end',
}: {
  attachments: readonly Attachment[] | undefined;
  size?: number;
  align?: 'start' | 'end';
}) {
  if (!attachments?.length) return null;
  return (
    <div className={align === 'start' ? `${styles.messageImages} ${styles.messageImagesStart}` : styles.messageImages}>
      <Image.PreviewGroup>
        {attachments.map((a, i) => (
          <Picture key={a.id} attachment={a} index={i} size={size} />
        ))}
      </Image.PreviewGroup>
    </div>
  );
}
