import { App, Button, Card, Empty, Popconfirm, Skeleton, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { useAppSelector } from '../../app/hooks';
import { useErrorText } from '../../components/useErrorText';
import { isApiError } from '../../lib/apiError';
import { formatDateTime } from '../../lib/format';
import { useIdentitiesQuery, useUnlinkIdentityMutation, type UserIdentity } from './ssoApi';
import styles from './sso.module.css';

/** Settings: the single-sign-on identities linked to the account, each removable but the last way in. */
export function IdentitiesCard() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const locale = useAppSelector((s) => s.prefs.language);
  const { data, isLoading, isError, error } = useIdentitiesQuery();
  const [unlink, { isLoading: unlinking, originalArgs }] = useUnlinkIdentityMutation();

  const onUnlink = async (i: UserIdentity) => {
    try {
      await unlink(i.id).unwrap();
      message.success(t('sso.unlinked', { provider: i.provider_display_name }));
    } catch (e) {
      message.error(isApiError(e) && e.code === 'last_sign_in_method' ? t('sso.lastMethod') : errorText(e));
    }
  };

  return (
    <Card title={t('sso.identitiesTitle')} className={styles.identities} size="small">
      <Typography.Paragraph type="secondary">{t('sso.identitiesIntro')}</Typography.Paragraph>
      {isLoading ? (
        <Skeleton active paragraph={{ rows: 1 }} />
      ) : isError ? (
        <Typography.Text type="danger">{errorText(error)}</Typography.Text>
      ) : !data || data.length === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('sso.noIdentities')} />
      ) : (
        <ul className={styles.identityList}>
          {data.map((i) => (
            <li key={i.id} className={styles.identity}>
              <div className={styles.identityText}>
                <Typography.Text strong>{i.provider_display_name}</Typography.Text>
                <Typography.Text type="secondary" className={styles.email}>
                  {i.email}
                </Typography.Text>
                <Typography.Text type="secondary">
                  {i.last_login_at
                    ? t('sso.lastUsed', { when: formatDateTime(i.last_login_at, locale) })
                    : t('sso.linkedAt', { when: formatDateTime(i.created_at, locale) })}
                </Typography.Text>
              </div>
              <Popconfirm
                title={t('sso.unlinkConfirm', { provider: i.provider_display_name })}
                okText={t('sso.unlink')}
                cancelText={t('common.cancel')}
                onConfirm={() => onUnlink(i)}
              >
                <Button danger loading={unlinking && originalArgs === i.id}>
                  {t('sso.unlink')}
                </Button>
              </Popconfirm>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
