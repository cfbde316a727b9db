import { useState } from 'react';
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { LockOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useErrorText } from '../../components/useErrorText';
import { isApiError, type ApiError } from '../../lib/apiError';
import { MfaStep } from '../mfa/MfaSignIn';
import { isTokens, type MfaChallenge, type MfaEnrollmentChallenge } from '../mfa/mfaApi';
import { useSsoLinkMutation } from './ssoApi';
import styles from './sso.module.css';

/**
 * A provider vouched for an email that already has an account here. Nothing is linked until
 * the account's owner confirms with its password (one try: the link request is single use).
 */
export function SsoLinkPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const errorText = useErrorText();
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const provider = params.get('provider') ?? '';
  const email = params.get('email') ?? '';
  const [link, { isLoading }] = useSsoLinkMutation();
  const [error, setError] = useState<ApiError | null>(null);
  const [step, setStep] = useState<MfaChallenge | MfaEnrollmentChallenge | null>(null);

  const onFinish = async (values: { password: string }) => {
    setError(null);
    try {
      const answer = await link({ link_token: token, password: values.password }).unwrap();
      if (isTokens(answer)) navigate('/', { replace: true });
      else setStep(answer);
    } catch (e) {
      setError(isApiError(e) ? e : { status: 0, code: 'generic', message: '' });
    }
  };

  const spent = error && (error.code === 'invalid_credentials' || error.code === 'invalid_link_token');
  if (step) {
    return (
      <main className={styles.page}>
        <Card className={styles.card} variant="borderless">
          <MfaStep challenge={step} onDone={() => navigate('/', { replace: true })} onRestart={() => navigate('/login', { replace: true })} />
        </Card>
      </main>
    );
  }
  return (
    <main className={styles.page}>
      <Card className={styles.card} variant="borderless">
        <Typography.Title level={1} className={styles.title}>
          {t('sso.linkTitle', { provider })}
        </Typography.Title>
        <Typography.Paragraph>{t('sso.linkIntro', { provider, email })}</Typography.Paragraph>
        {error && (
          <Alert
            className={styles.notice}
            type="error"
            showIcon
            role="alert"
            title={
              error.code === 'invalid_credentials'
                ? t('sso.linkWrongPassword')
                : error.code === 'invalid_link_token'
                  ? t('sso.linkExpired')
                  : errorText(error)
            }
          />
        )}
        {spent ? (
          <Link to="/login">
            <Button type="primary" block size="large">
              {t('sso.backToSignIn')}
            </Button>
          </Link>
        ) : (
          <Form layout="vertical" requiredMark={false} onFinish={onFinish} disabled={isLoading || !token} size="large">
            <Form.Item
              name="password"
              label={t('sso.linkPassword')}
              rules={[{ required: true, message: t('validation.passwordRequired') }]}
            >
              <Input.Password prefix={<LockOutlined />} autoComplete="current-password" autoFocus />
            </Form.Item>
            <Button type="primary" htmlType="submit" block loading={isLoading}>
              {t('sso.linkConfirm')}
            </Button>
          </Form>
        )}
        <div className={styles.cancel}>
          <Link to="/login">{t('sso.linkCancel')}</Link>
        </div>
      </Card>
    </main>
  );
}
