import { Button, Divider } from 'antd';
import { LoginOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { ssoStartUrl, useSsoProvidersQuery } from './ssoApi';
import styles from './sso.module.css';

/**
 * "Sign in with …" for each configured provider. Each is a plain link (a full navigation to the
 * hub, which redirects to the provider). When the list cannot be loaded the buttons are simply
 * absent: password sign-in never depends on a provider.
 */
export function SsoButtons() {
  const { t } = useTranslation();
  const { data } = useSsoProvidersQuery();
  if (!data || data.length === 0) return null;
  return (
    <div className={styles.buttons}>
      <Divider plain>{t('sso.or')}</Divider>
      {data.map((p) => (
        <Button key={p.id} block size="large" icon={<LoginOutlined />} href={ssoStartUrl(p.id)}>
          {t('sso.signInWith', { name: p.display_name })}
        </Button>
      ))}
    </div>
  );
}
