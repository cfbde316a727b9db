import { memo, useRef } from 'react';
import { Alert, Button, Popconfirm, Tooltip, Typography } from 'antd';
import { DeleteOutlined, EditOutlined, PictureOutlined, WarningOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useAppSelector } from '../../app/hooks';
import { formatDateTime } from '../../lib/format';
import { GenerationStatus, useReasonText } from './GenerationStatus';
import { useWatchGeneration } from './hooks';
import { formatSize, parseSize } from './imageModels';
import { useLazyGetGenerationQuery } from './imagesApi';
import { failureReason, isTerminal } from './status';
import type { GeneratedImage, Generation } from './types';
import styles from './images.module.css';

export interface GenerationCardProps {
  generation: Generation;
  onOpen: (generationId: string, imageId: string) => void;
  onReuse: (generation: Generation) => void;
  onDelete: (generation: Generation) => Promise<void>;
}

/** Signed URLs expire: an image that fails to load asks for fresh ones, at most once a minute. */
function useUrlRefresher(id: string) {
  const [fetchGeneration] = useLazyGetGenerationQuery();
  const last = useRef(0);
  return () => {
    const now = Date.now();
    if (now - last.current < 60_000) return;
    last.current = now;
    void fetchGeneration(id, false);
  };
}

function ImageTile({
  image,
  generation,
  onOpen,
  onBroken,
}: {
  image: GeneratedImage;
  generation: Generation;
  onOpen: () => void;
  onBroken: () => void;
}) {
  const { t } = useTranslation();
  const reasonText = useReasonText();
  if (image.status !== 'succeeded' || !image.url) {
    const reason = reasonText(failureReason(image.error));
    return (
      <Tooltip title={reason}>
        <div className={styles.tileFailed} role="img" aria-label={`${t('images.imageFailed')}: ${reason}`}>
          <WarningOutlined className={styles.tileFailedIcon} />
          <span>{t('images.status.failed')}</span>
        </div>
      </Tooltip>
    );
  }
  return (
    <button
      type="button"
      className={styles.tile}
      onClick={onOpen}
      aria-label={t('images.openImage', { index: image.index + 1, prompt: generation.prompt })}
    >
      <img
        src={image.url}
        alt={t('images.imageAlt', { prompt: generation.prompt })}
        width={image.width || undefined}
        height={image.height || undefined}
        loading="lazy"
        decoding="async"
        className={styles.thumb}
        onError={onBroken}
      />
    </button>
  );
}

/** One generation: its prompt, status, and its images (or placeholders while it runs). */
export const GenerationCard = memo(function GenerationCard({ generation: g, onOpen, onReuse, onDelete }: GenerationCardProps) {
  const { t } = useTranslation();
  const locale = useAppSelector((s) => s.prefs.language);
  const reasonText = useReasonText();
  useWatchGeneration(g.id, g.status);
  const refreshUrls = useUrlRefresher(g.id);
  const done = isTerminal(g.status);
  const dims = parseSize(g.size);
  const ratio = dims ? `${dims.width} / ${dims.height}` : '1 / 1';
  const failedWhole = g.status === 'failed' || g.status === 'canceled';

  return (
    <article className={styles.card} aria-label={g.prompt}>
      <div className={styles.cardHead}>
        <Typography.Paragraph className={styles.cardPrompt} ellipsis={{ rows: 2, tooltip: g.prompt }}>
          {g.prompt}
        </Typography.Paragraph>
        <div className={styles.cardActions}>
          <Tooltip title={t('images.viewer.reuse')}>
            <Button type="text" size="small" icon={<EditOutlined />} aria-label={t('images.viewer.reuse')} onClick={() => onReuse(g)} />
          </Tooltip>
          <Popconfirm
            title={t('images.viewer.deleteTitle')}
            description={t('images.viewer.deleteBody', { count: Math.max(1, g.images.length || g.n) })}
            okText={t('common.delete')}
            okButtonProps={{ danger: true }}
            cancelText={t('common.cancel')}
            onConfirm={() => onDelete(g)}
          >
            <Button type="text" size="small" icon={<DeleteOutlined />} aria-label={t('images.viewer.delete')} />
          </Popconfirm>
        </div>
      </div>
      <div className={styles.cardMeta}>
        <GenerationStatus generation={g} />
        <Typography.Text type="secondary" className={styles.metaText}>
          {g.model} · {formatSize(g.size)} · {formatDateTime(g.created_at, locale)}
        </Typography.Text>
      </div>
      {failedWhole && (
        <Alert type={g.status === 'canceled' ? 'info' : 'error'} showIcon title={reasonText(failureReason(g.error))} className={styles.cardAlert} />
      )}
      {!done && (
        <div className={styles.grid} aria-busy="true">
          {Array.from({ length: Math.max(1, g.n) }, (_, i) => (
            <div key={i} className={styles.tilePending} style={{ aspectRatio: ratio }}>
              <PictureOutlined className={styles.tilePendingIcon} />
            </div>
          ))}
        </div>
      )}
      {done && g.images.length > 0 && (
        <div className={styles.grid}>
          {g.images.map((image) => (
            <div key={image.id} className={styles.tileBox} style={{ aspectRatio: image.width && image.height ? `${image.width} / ${image.height}` : ratio }}>
              <ImageTile image={image} generation={g} onOpen={() => onOpen(g.id, image.id)} onBroken={refreshUrls} />
            </div>
          ))}
        </div>
      )}
    </article>
  );
});
