import { useState, type ReactNode } from 'react';
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { LockOutlined, MailOutlined, UserOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useLocation, useNavigate } from 'react-router';
import { useAppSelector } from '../../app/hooks';
import { Logo } from '../../components/Logo';
import { PreferenceSwitches } from '../../components/PreferenceSwitches';
import { useErrorText } from '../../components/useErrorText';
import { isApiError, type ApiError } from '../../lib/apiError';
import { useCountdown } from '../../lib/useCountdown';
import {
  checkEmail,
  checkPassword,
  checkUsername,
  fieldFromServerMessage,
  PASSWORD_MAX_BYTES,
  PASSWORD_MIN_BYTES,
  USERNAME_MAX,
  USERNAME_MIN,
} from '../../lib/validation';
import { PasskeySignInButton } from '../passkeys/PasskeySignInButton';
import { SsoButtons } from '../sso/SsoButtons';
import { useLoginMutation, useRegisterMutation } from './authApi';
import { MfaStep } from '../mfa/MfaSignIn';
import {
  isEnrollmentChallenge,
  isMfaChallenge,
  isTokens,
  type MfaChallenge,
  type MfaEnrollmentChallenge,
} from '../mfa/mfaApi';
import type { SignInState } from './RequireAuth';
import styles from './auth.module.css';

function AuthLayout({ title, subtitle, children }: { title: string; subtitle: string; children: ReactNode }) {
  return (
    <main className={styles.wrap}>
      <div className={styles.corner}>
        <PreferenceSwitches />
      </div>
      <Card className={styles.card} variant="borderless">
        <div className={styles.brand}>
          <Logo size={44} />
          <Typography.Title level={1} className={styles.title}>
            {title}
          </Typography.Title>
          <Typography.Text type="secondary">{subtitle}</Typography.Text>
        </div>
        {children}
      </Card>
    </main>
  );
}

/** Alert for errors that are not about one field: rate limits (with a countdown), disabled accounts, outages. */
function FormError({ error, secondsLeft }: { error: ApiError; secondsLeft: number }) {
  const { t } = useTranslation();
  const errorText = useErrorText();
  if (error.code === 'rate_limited') {
    return (
      <Alert
        type="warning"
        showIcon
        role="alert"
        title={t('auth.rateLimitedTitle')}
        description={secondsLeft > 0 ? t('auth.rateLimitedWait', { seconds: secondsLeft }) : t('auth.rateLimitedReady')}
      />
    );
  }
  if (error.code === 'account_disabled') {
    return (
      <Alert type="error" showIcon role="alert" title={t('auth.disabledTitle')} description={t('auth.disabledHint')} />
    );
  }
  return (
    <Alert
      type="error"
      showIcon
      role="alert"
      title={errorText(error)}
      description={error.requestId ? t('errors.requestId', { id: error.requestId }) : undefined}
    />
  );
}

function useRedirectTarget(): { from: string; expired: boolean } {
  const location = useLocation();
  const state = (location.state ?? {}) as SignInState;
  const from = state.from && state.from.startsWith('/') && !state.from.startsWith('//') ? state.from : '/';
  return { from, expired: !!state.expired };
}

export function LoginPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const status = useAppSelector((s) => s.auth.status);
  const expiredInStore = useAppSelector((s) => s.auth.expired);
  const { from, expired } = useRedirectTarget();
  const [login, { isLoading }] = useLoginMutation();
  const [error, setError] = useState<ApiError | null>(null);
  const secondsLeft = useCountdown(error?.retryAfter, error);
  const blocked = error?.code === 'rate_limited' && secondsLeft > 0;
  // MFA: after the right password, the code step (or enrollment when the role requires it).
  const [step, setStep] = useState<MfaChallenge | MfaEnrollmentChallenge | null>(null);

  if (status === 'authenticated') return <Navigate to={from} replace />;

  const onFinish = async (values: { username: string; password: string }) => {
    setError(null);
    try {
      const answer = await login({ username: values.username.trim(), password: values.password }).unwrap();
      if (isMfaChallenge(answer) || isEnrollmentChallenge(answer)) setStep(answer);
      else navigate(from, { replace: true });
    } catch (e) {
      setError(isApiError(e) ? e : { status: 0, code: 'generic', message: '' });
    }
  };

  if (step) {
    const done = () => navigate(from, { replace: true });
    const restart = () => setStep(null);
    return (
      <AuthLayout title={t('mfa.signInTitle')} subtitle={isMfaChallenge(step) ? t('mfa.signInSubtitle') : t('mfa.enrollSubtitle')}>
        <MfaStep challenge={step} onDone={done} onRestart={restart} />
      </AuthLayout>
    );
  }

  return (
    <AuthLayout title={t('auth.signInTitle')} subtitle={t('auth.signInSubtitle')}>
      {(expired || expiredInStore) && !error && (
        <Alert
          className={styles.notice}
          type="info"
          showIcon
          title={t('auth.sessionExpired')}
          description={t('auth.draftKept')}
        />
      )}
      {error && (
        <div className={styles.notice}>
          <FormError error={error} secondsLeft={secondsLeft} />
        </div>
      )}
      <Form layout="vertical" requiredMark={false} onFinish={onFinish} disabled={isLoading} size="large">
        <Form.Item
          name="username"
          label={t('auth.usernameOrEmail')}
          rules={[{ required: true, whitespace: true, message: t('validation.usernameOrEmailRequired') }]}
        >
          <Input prefix={<UserOutlined />} autoComplete="username" autoCapitalize="none" autoFocus />
        </Form.Item>
        <Form.Item
          name="password"
          label={t('auth.password')}
          rules={[{ required: true, message: t('validation.passwordRequired') }]}
        >
          <Input.Password prefix={<LockOutlined />} autoComplete="current-password" />
        </Form.Item>
        <Button type="primary" htmlType="submit" block loading={isLoading} disabled={blocked}>
          {blocked ? t('auth.retryIn', { seconds: secondsLeft }) : t('auth.signIn')}
        </Button>
      </Form>
      <PasskeySignInButton
        disabled={isLoading || blocked}
        onSignedIn={() => navigate(from, { replace: true })}
        onError={setError}
      />
      <SsoButtons />
      <div className={styles.switch}>
        <Typography.Text type="secondary">{t('auth.noAccount')}</Typography.Text>{' '}
        <Link to="/register" state={{ from }}>
          {t('auth.register')}
        </Link>
      </div>
    </AuthLayout>
  );
}

interface RegisterValues {
  username: string;
  email: string;
  display_name?: string;
  password: string;
  confirm: string;
}

const REGISTER_FIELDS = ['username', 'email', 'display_name', 'password'] as const;

export function RegisterPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const status = useAppSelector((s) => s.auth.status);
  const { from } = useRedirectTarget();
  const [form] = Form.useForm<RegisterValues>();
  const [register, { isLoading: registering }] = useRegisterMutation();
  const [login, { isLoading: signingIn }] = useLoginMutation();
  const [error, setError] = useState<ApiError | null>(null);
  const secondsLeft = useCountdown(error?.retryAfter, error);
  const blocked = error?.code === 'rate_limited' && secondsLeft > 0;
  const busy = registering || signingIn;

  if (status === 'authenticated') return <Navigate to={from} replace />;

  const onFinish = async (values: RegisterValues) => {
    setError(null);
    const body = {
      username: values.username.trim(),
      email: values.email.trim(),
      password: values.password,
      ...(values.display_name?.trim() ? { display_name: values.display_name.trim() } : {}),
    };
    try {
      await register(body).unwrap();
    } catch (e) {
      const err = isApiError(e) ? e : ({ status: 0, code: 'generic', message: '' } as ApiError);
      if (err.code === 'username_taken') {
        form.setFields([{ name: 'username', errors: [t('validation.usernameTaken')] }]);
      } else if (err.code === 'email_taken') {
        form.setFields([{ name: 'email', errors: [t('validation.emailTaken')] }]);
      } else if (err.code === 'validation_failed' && fieldFromServerMessage(err.message, REGISTER_FIELDS)) {
        const field = fieldFromServerMessage(err.message, REGISTER_FIELDS)!;
        form.setFields([{ name: field, errors: [err.message] }]);
      } else {
        setError(err);
      }
      return;
    }
    try {
      const answer = await login({ username: body.username, password: body.password }).unwrap();
      // A role that requires MFA: the sign-in page takes it from there.
      if (isTokens(answer)) navigate(from, { replace: true });
      else navigate('/login', { replace: true, state: { from } });
    } catch {
      navigate('/login', { replace: true, state: { from } });
    }
  };

  const usernameMessages = {
    required: t('validation.usernameRequired'),
    length: t('validation.usernameLength', { min: USERNAME_MIN, max: USERNAME_MAX }),
    charset: t('validation.usernameCharset'),
  };
  const emailMessages = { required: t('validation.emailRequired'), invalid: t('validation.emailInvalid') };
  const passwordMessages = {
    required: t('validation.passwordRequired'),
    too_short: t('validation.passwordTooShort', { min: PASSWORD_MIN_BYTES }),
    too_long: t('validation.passwordTooLong', { max: PASSWORD_MAX_BYTES }),
    same_as_username: t('validation.passwordSameAsUsername'),
    same_as_email: t('validation.passwordSameAsEmail'),
  };

  return (
    <AuthLayout title={t('auth.registerTitle')} subtitle={t('auth.registerSubtitle')}>
      {error && (
        <div className={styles.notice}>
          <FormError error={error} secondsLeft={secondsLeft} />
        </div>
      )}
      <Form
        form={form}
        layout="vertical"
        requiredMark={false}
        onFinish={onFinish}
        disabled={busy}
        size="large"
        validateTrigger="onBlur"
      >
        <Form.Item
          name="username"
          label={t('auth.username')}
          extra={t('auth.usernameHint', { min: USERNAME_MIN, max: USERNAME_MAX })}
          rules={[
            {
              validator: (_, v: string = '') => {
                const p = checkUsername(v.trim());
                return p ? Promise.reject(new Error(usernameMessages[p])) : Promise.resolve();
              },
            },
          ]}
        >
          <Input prefix={<UserOutlined />} autoComplete="username" autoCapitalize="none" autoFocus />
        </Form.Item>
        <Form.Item
          name="email"
          label={t('auth.email')}
          rules={[
            {
              validator: (_, v: string = '') => {
                const p = checkEmail(v.trim());
                return p ? Promise.reject(new Error(emailMessages[p])) : Promise.resolve();
              },
            },
          ]}
        >
          <Input prefix={<MailOutlined />} type="email" autoComplete="email" autoCapitalize="none" />
        </Form.Item>
        <Form.Item name="display_name" label={t('auth.displayNameOptional')} rules={[{ max: 64 }]}>
          <Input autoComplete="nickname" maxLength={64} />
        </Form.Item>
        <Form.Item
          name="password"
          label={t('auth.password')}
          extra={t('auth.passwordHint', { min: PASSWORD_MIN_BYTES, max: PASSWORD_MAX_BYTES })}
          dependencies={['username', 'email']}
          rules={[
            ({ getFieldValue }) => ({
              validator: (_, v: string = '') => {
                const p = checkPassword(v, {
                  username: String(getFieldValue('username') ?? '').trim(),
                  email: String(getFieldValue('email') ?? '').trim(),
                });
                return p ? Promise.reject(new Error(passwordMessages[p])) : Promise.resolve();
              },
            }),
          ]}
        >
          <Input.Password prefix={<LockOutlined />} autoComplete="new-password" />
        </Form.Item>
        <Form.Item
          name="confirm"
          label={t('auth.confirmPassword')}
          dependencies={['password']}
          rules={[
            { required: true, message: t('validation.confirmRequired') },
            ({ getFieldValue }) => ({
              validator: (_, v: string) =>
                !v || v === getFieldValue('password')
                  ? Promise.resolve()
                  : Promise.reject(new Error(t('validation.passwordMismatch'))),
            }),
          ]}
        >
          <Input.Password prefix={<LockOutlined />} autoComplete="new-password" />
        </Form.Item>
        <Button type="primary" htmlType="submit" block loading={busy} disabled={blocked}>
          {blocked ? t('auth.retryIn', { seconds: secondsLeft }) : t('auth.createAccount')}
        </Button>
      </Form>
      <div className={styles.switch}>
        <Typography.Text type="secondary">{t('auth.haveAccount')}</Typography.Text>{' '}
        <Link to="/login" state={{ from }}>
          {t('auth.signIn')}
        </Link>
      </div>
    </AuthLayout>
  );
}
