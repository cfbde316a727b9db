import { Button, Descriptions, Grid, Modal, Popconfirm, Typography } from 'antd';
import { DeleteOutlined, DownloadOutlined, EditOutlined, LeftOutlined, RightOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useAppSelector } from '../../app/hooks';
import { formatDateTime } from '../../lib/format';
import { formatPrice, formatSize } from './imageModels';
import type { Generation } from './types';
import styles from './images.module.css';

export interface ImageViewerProps {
  generation: Generation | undefined;
  imageId: string | undefined;
  onClose: () => void;
  onShow: (imageId: string) => void;
  onReuse: (generation: Generation) => void;
  onDelete: (generation: Generation) => Promise<void>;
}

/** The size asked for, and the pixels received when they differ. */
function sizeText(requested: string, width: number, height: number): string {
  const asked = formatSize(requested);
  const got = width && height ? `${width} × ${height}` : '';
  return got && got !== asked ? `${asked} (${got} px)` : asked;
}

/** One image large, with its prompt, actual prompt, seed, size and model, and what to do with it. */
export function ImageViewer({ generation: g, imageId, onClose, onShow, onReuse, onDelete }: ImageViewerProps) {
  const { t } = useTranslation();
  const locale = useAppSelector((s) => s.prefs.language);
  const screens = Grid.useBreakpoint();
  const shown = (g?.images ?? []).filter((i) => i.status === 'succeeded' && i.url);
  const at = shown.findIndex((i) => i.id === imageId);
  const image = at >= 0 ? shown[at] : undefined;
  const open = !!g && !!image;

  const detail = (label: string, value: string | number | null | undefined) =>
    value === null || value === undefined || value === '' ? null : { key: label, label, children: String(value) };

  const items = g && image
    ? [
        detail(t('images.viewer.prompt'), g.prompt),
        image.actual_prompt && image.actual_prompt !== g.prompt ? detail(t('images.viewer.actualPrompt'), image.actual_prompt) : null,
        detail(t('images.viewer.negativePrompt'), g.negative_prompt),
        detail(t('images.viewer.seed'), image.seed ?? g.seed ?? t('images.viewer.seedRandom')),
        detail(t('images.viewer.size'), sizeText(g.size, image.width, image.height)),
        detail(t('images.viewer.model'), g.model),
        detail(t('images.viewer.created'), formatDateTime(g.created_at, locale)),
        g.cost_cny > 0 ? detail(t('images.viewer.cost'), formatPrice({ amount: g.cost_cny, currency: 'CNY' }, locale)) : null,
      ].filter((x): x is { key: string; label: string; children: string } => x !== null)
    : [];

  const step = (delta: number) => {
    const next = shown[at + delta];
    if (next) onShow(next.id);
  };

  return (
    <Modal
      open={open}
      onCancel={onClose}
      title={t('images.viewer.title')}
      footer={null}
      width={screens.md ? 1040 : '100%'}
      centered={!!screens.md}
      className={styles.viewer}
      destroyOnHidden
    >
      {g && image && (
        <div
          className={styles.viewerBody}
          onKeyDown={(e) => {
            if (e.key === 'ArrowLeft') step(-1);
            if (e.key === 'ArrowRight') step(1);
          }}
        >
          <div className={styles.viewerStage}>
            <img
              src={image.url ?? undefined}
              alt={t('images.imageAlt', { prompt: g.prompt })}
              width={image.width || undefined}
              height={image.height || undefined}
              className={styles.viewerImage}
            />
            {shown.length > 1 && (
              <div className={styles.viewerNav}>
                <Button shape="circle" icon={<LeftOutlined />} aria-label={t('images.viewer.previous')} disabled={at <= 0} onClick={() => step(-1)} />
                <Typography.Text type="secondary">{t('images.viewer.position', { index: at + 1, count: shown.length })}</Typography.Text>
                <Button shape="circle" icon={<RightOutlined />} aria-label={t('images.viewer.next')} disabled={at >= shown.length - 1} onClick={() => step(1)} />
              </div>
            )}
          </div>
          <div className={styles.viewerSide}>
            <Descriptions column={1} size="small" items={items} className={styles.viewerDetails} />
            <div className={styles.viewerActions}>
              {image.download_url && (
                <Button type="primary" icon={<DownloadOutlined />} href={image.download_url} download>
                  {t('images.viewer.download')}
                </Button>
              )}
              <Button icon={<EditOutlined />} onClick={() => onReuse(g)}>
                {t('images.viewer.reuse')}
              </Button>
              <Popconfirm
                title={t('images.viewer.deleteTitle')}
                description={t('images.viewer.deleteBody', { count: Math.max(1, g.images.length) })}
                okText={t('common.delete')}
                okButtonProps={{ danger: true }}
                cancelText={t('common.cancel')}
                onConfirm={() => onDelete(g)}
              >
                <Button danger icon={<DeleteOutlined />}>
                  {t('images.viewer.delete')}
                </Button>
              </Popconfirm>
            </div>
          </div>
        </div>
      )}
    </Modal>
  );
}
