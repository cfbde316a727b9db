import { App, Button, Empty, Popconfirm, Result, Skeleton, Tag, Typography } from 'antd';
import { DesktopOutlined, MobileOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { useAppDispatch, useAppSelector } from '../../app/hooks';
import type { AuthSession } from '../../app/apiTypes';
import { useErrorText } from '../../components/useErrorText';
import { formatDateTime } from '../../lib/format';
import { describeUserAgent } from '../../lib/userAgent';
import { signOut, useListSessionsQuery, useRevokeSessionMutation } from '../auth/authApi';
import styles from './settings.module.css';

export function SessionsSection() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const dispatch = useAppDispatch();
  const errorText = useErrorText();
  const locale = useAppSelector((s) => s.prefs.language);
  const { data, isLoading, isError, error, refetch } = useListSessionsQuery();
  const [revoke, { isLoading: revoking, originalArgs }] = useRevokeSessionMutation();

  const onRevoke = async (s: AuthSession) => {
    try {
      await revoke(s.id).unwrap();
      if (s.current) {
        await dispatch(signOut());
        navigate('/login', { replace: true });
        return;
      }
      message.success(t('settings.sessionRevoked'));
    } catch (e) {
      message.error(errorText(e));
    }
  };

  if (isLoading) return <Skeleton active />;
  if (isError) {
    return (
      <Result
        status="warning"
        subTitle={errorText(error)}
        extra={<Button onClick={() => refetch()}>{t('common.retry')}</Button>}
      />
    );
  }

  const sessions = [...(data ?? [])].sort((a, b) => Number(!!b.current) - Number(!!a.current));
  return (
    <>
      <Typography.Paragraph type="secondary">{t('settings.sessionsIntro')}</Typography.Paragraph>
      {sessions.length === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('settings.noSessions')} />
      ) : (
        <ul className={styles.sessionList}>
          {sessions.map((s) => {
            const ua = describeUserAgent(s.user_agent);
            const name = [ua.browser, ua.os].filter(Boolean).join(' · ') || t('settings.unknownDevice');
            return (
              <li key={s.id} className={styles.session}>
                <span className={styles.sessionIcon} aria-hidden="true">
                  {ua.mobile ? <MobileOutlined /> : <DesktopOutlined />}
                </span>
                <div className={styles.sessionBody}>
                  <div className={styles.sessionTitle}>
                    <Typography.Text strong>{name}</Typography.Text>
                    {s.current && <Tag color="green">{t('settings.thisDevice')}</Tag>}
                  </div>
                  <div className={styles.muted}>
                    {[
                      s.ip,
                      t('settings.signedInAt', { time: formatDateTime(s.created_at, locale) }),
                      s.last_used_at ? t('settings.lastActive', { time: formatDateTime(s.last_used_at, locale) }) : null,
                    ]
                      .filter(Boolean)
                      .join(' · ')}
                  </div>
                </div>
                <Popconfirm
                  title={s.current ? t('settings.revokeCurrentConfirm') : t('settings.revokeConfirm')}
                  okText={t('settings.revoke')}
                  cancelText={t('common.cancel')}
                  okButtonProps={{ danger: true }}
                  onConfirm={() => onRevoke(s)}
                >
                  <Button
                    danger
                    size="small"
                    loading={revoking && originalArgs === s.id}
                    aria-label={t('settings.revokeSession', { name })}
                  >
                    {t('settings.revoke')}
                  </Button>
                </Popconfirm>
              </li>
            );
          })}
        </ul>
      )}
    </>
  );
}
