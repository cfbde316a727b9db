import { Button, Result } from 'antd';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { TopBar } from './TopBar';
import styles from './components.module.css';

export function NotFound() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  return (
    <>
      <TopBar title={t('notFound.title')} />
      <div className={styles.center}>
        <Result
          status="404"
          title={t('notFound.title')}
          subTitle={t('notFound.hint')}
          extra={
            <Button type="primary" onClick={() => navigate('/')}>
              {t('notFound.home')}
            </Button>
          }
        />
      </div>
    </>
  );
}
