import { App, Button, Progress, Space, Typography } from 'antd';
import { DownloadOutlined, ExportOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useAppDispatch } from '../../app/hooks';
import { useErrorText } from '../../components/useErrorText';
import { isApiError } from '../../lib/apiError';
import { formatDateTime } from '../../lib/format';
import { downloadExport, useListExportsQuery, useStartExportMutation } from './dataRightsApi';
import styles from './dataRights.module.css';

const POLL_MS = 1000;

/** Settings → Your data: "Export my data" as a background job with progress and a download. */
export function DataExportSection() {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const dispatch = useAppDispatch();
  const list = useListExportsQuery();
  const latest = list.data?.items[0];
  const busy = latest?.status === 'pending' || latest?.status === 'running';
  // Poll while the newest export is being made.
  useListExportsQuery(undefined, { pollingInterval: busy ? POLL_MS : 0, skip: !busy });
  const [start, { isLoading }] = useStartExportMutation();

  const onStart = async () => {
    try {
      await start().unwrap();
    } catch (e) {
      if (isApiError(e) && e.code === 'export_in_progress') message.info(t('dataRights.inProgress'));
      else message.error(errorText(e));
    }
  };

  const onDownload = async () => {
    if (!latest) return;
    const err = await dispatch(downloadExport(latest));
    if (err) message.error(errorText(err));
  };

  return (
    <section className={styles.section} aria-labelledby="export-title">
      <Typography.Title level={5} id="export-title">
        {t('dataRights.exportTitle')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('dataRights.exportIntro')}</Typography.Paragraph>
      {latest && (
        <div className={styles.status} data-testid="export-status">
          {busy && (
            <>
              <Typography.Text>{t('dataRights.making')}</Typography.Text>
              <Progress percent={latest.progress} size="small" aria-label={t('dataRights.progress')} />
            </>
          )}
          {latest.status === 'ready' && (
            <Space orientation="vertical" size={4}>
              <Typography.Text>
                {t('dataRights.ready', { time: latest.expires_at ? formatDateTime(latest.expires_at, i18n.language) : '' })}
              </Typography.Text>
              <Button icon={<DownloadOutlined />} onClick={() => void onDownload()} data-testid="export-download">
                {t('dataRights.download', { size: Math.max(1, Math.round(latest.bytes / 1024)) })}
              </Button>
            </Space>
          )}
          {latest.status === 'failed' && <Typography.Text type="danger">{t('dataRights.failed')}</Typography.Text>}
        </div>
      )}
      <Button type="primary" icon={<ExportOutlined />} loading={isLoading} disabled={busy} onClick={() => void onStart()}>
        {t('dataRights.exportButton')}
      </Button>
    </section>
  );
}
