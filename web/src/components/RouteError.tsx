import { Button, Result } from 'antd';
import { useTranslation } from 'react-i18next';
import styles from './components.module.css';

/** Shown when a page chunk fails to load (e.g. offline after a release) or a page crashes. */
export function RouteError() {
  const { t } = useTranslation();
  return (
    <div className={styles.center}>
      <Result
        status="warning"
        title={t('errors.pageFailed')}
        subTitle={t('errors.pageFailedHint')}
        extra={
          <Button type="primary" onClick={() => window.location.reload()}>
            {t('common.reload')}
          </Button>
        }
      />
    </div>
  );
}
