import { Alert } from 'antd';
import { useTranslation } from 'react-i18next';
import { useReadinessQuery } from './systemApi';
import styles from './system.module.css';

/** A slim notice while the hub answers from its built-in simulator. */
export function DemoBanner() {
  const { t } = useTranslation();
  const { data } = useReadinessQuery();
  if (data?.demo_mode !== true) return null;
  return <Alert banner type="info" showIcon className={styles.banner} title={t('demo.banner')} />;
}
