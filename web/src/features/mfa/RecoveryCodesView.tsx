import { Alert, Button, Space } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { CopyButton } from '../../components/CopyButton';
import styles from './mfa.module.css';

function download(codes: string[]) {
  const text = `Bailian Hub recovery codes (each works once)\n\n${codes.join('\n')}\n`;
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = 'bailian-hub-recovery-codes.txt';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** Recovery codes, shown once: copy, download, then done. */
export function RecoveryCodesView({ codes, onDone }: { codes: string[]; onDone?: () => void }) {
  const { t } = useTranslation();
  return (
    <div className={styles.codes}>
      <Alert type="warning" showIcon title={t('mfa.codesTitle')} description={t('mfa.codesIntro')} />
      <ol className={styles.codeList} aria-label={t('mfa.codesTitle')} data-testid="recovery-codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ol>
      <Space wrap>
        <CopyButton text={codes.join('\n')} label={t('mfa.copyCodes')} />
        <Button icon={<DownloadOutlined />} onClick={() => download(codes)}>
          {t('mfa.downloadCodes')}
        </Button>
        {onDone && (
          <Button type="primary" onClick={onDone}>
            {t('mfa.codesSaved')}
          </Button>
        )}
      </Space>
    </div>
  );
}
