import { Tag } from 'antd';
import { CheckCircleOutlined, ClockCircleOutlined, CloseCircleOutlined, ExclamationCircleOutlined, StopOutlined, SyncOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useNow } from './hooks';
import { elapsedSeconds, formatElapsed, imageCounts, phaseOf } from './status';
import type { Generation } from './types';

/** Queued / generating with a running clock / done / failed / canceled, as a small tag. */
export function GenerationStatus({ generation }: { generation: Generation }) {
  const { t } = useTranslation();
  const phase = phaseOf(generation.status);
  const now = useNow(phase === 'generating' || phase === 'queued');
  const elapsed = formatElapsed(elapsedSeconds(generation, now));
  switch (phase) {
    case 'queued':
      return (
        <Tag icon={<ClockCircleOutlined />} color="default" role="status">
          {t('images.status.queued')}
        </Tag>
      );
    case 'generating':
      return (
        <Tag icon={<SyncOutlined spin />} color="processing" role="status">
          {t('images.status.generating', { elapsed })}
        </Tag>
      );
    case 'done': {
      const { failed } = imageCounts(generation);
      if (failed > 0) {
        return (
          <Tag icon={<ExclamationCircleOutlined />} color="warning" role="status">
            {t('images.status.partial', { failed, count: generation.images.length })}
          </Tag>
        );
      }
      return (
        <Tag icon={<CheckCircleOutlined />} color="success" role="status" title={t('images.status.doneIn', { elapsed })}>
          {t('images.status.done')}
        </Tag>
      );
    }
    case 'canceled':
      return (
        <Tag icon={<StopOutlined />} color="default" role="status">
          {t('images.status.canceled')}
        </Tag>
      );
    default:
      return (
        <Tag icon={<CloseCircleOutlined />} color="error" role="status">
          {t('images.status.failed')}
        </Tag>
      );
  }
}

/** The sentence for a failure: our wording for known codes, else the service's message. */
export function useReasonText() {
  const { t } = useTranslation();
  return (reason: { key: string } | { text: string }) => ('key' in reason ? t(reason.key) : reason.text);
}
