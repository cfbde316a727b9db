import { Spin } from 'antd';
import { useTranslation } from 'react-i18next';
import styles from './components.module.css';

export function FullPageSpinner() {
  const { t } = useTranslation();
  return (
    <div className={styles.center} role="status" aria-live="polite">
      <Spin size="large" />
      <span className="visually-hidden">{t('common.loading')}</span>
    </div>
  );
}
