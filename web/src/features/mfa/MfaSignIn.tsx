import { useState } from 'react';
import { Alert, Button, Form, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { useAppDispatch } from '../../app/hooks';
import { useErrorText } from '../../components/useErrorText';
import { isApiError, type ApiError } from '../../lib/apiError';
import { sessionStarted } from '../auth/authSlice';
import { PasskeySecondStepButton } from '../passkeys/PasskeySignInButton';
import { CodeFormItem, RecoveryCodeFormItem } from './CodeInput';
import {
  useLoginEnrollConfirmMutation,
  useLoginEnrollMutation,
  useLoginMfaMutation,
  isMfaChallenge,
  type EnrolledSignIn,
  type MfaChallenge,
  type MfaEnrollmentChallenge,
  type TotpEnrollment,
} from './mfaApi';
import { groupSecret, QrCode } from './QrCode';
import { RecoveryCodesView } from './RecoveryCodesView';
import styles from './mfa.module.css';

/** The sign-in token is dead (used, expired or burnt): only a new password step helps. */
function isDeadToken(e: unknown): boolean {
  return isApiError(e) && e.code === 'invalid_mfa_token';
}

function StepError({ error }: { error: ApiError | null }) {
  const errorText = useErrorText();
  const { t } = useTranslation();
  if (!error) return null;
  const title = error.code === 'invalid_mfa_token' ? t('mfa.tokenExpired') : errorText(error);
  return <Alert className={styles.notice} type="error" showIcon role="alert" title={title} />;
}

/** After the password: the code from the authenticator app, a recovery code, or a passkey
 * (whichever `methods` the sign-in offered). */
export function MfaCodeStep({
  token,
  methods,
  onDone,
  onRestart,
}: {
  token: string;
  methods: string[];
  onDone: () => void;
  onRestart: () => void;
}) {
  const { t } = useTranslation();
  const [send, { isLoading }] = useLoginMfaMutation();
  const [recovery, setRecovery] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [form] = Form.useForm<{ code?: string; recovery_code?: string }>();

  const onFinish = async (v: { code?: string; recovery_code?: string }) => {
    setError(null);
    try {
      await send(recovery ? { mfa_token: token, recovery_code: (v.recovery_code ?? '').trim() } : { mfa_token: token, code: v.code ?? '' }).unwrap();
      onDone();
    } catch (e) {
      if (isApiError(e) && e.code === 'invalid_mfa_code') {
        form.setFields([{ name: recovery ? 'recovery_code' : 'code', errors: [t('mfa.codeWrong')] }]);
      } else {
        setError(isApiError(e) ? e : { status: 0, code: 'generic', message: '' });
      }
    }
  };

  const withCode = methods.includes('totp');
  const passkey = methods.includes('passkey') ? (
    <PasskeySecondStepButton token={token} primary={!withCode} onSignedIn={onDone} onError={setError} />
  ) : null;

  if (!withCode) {
    return (
      <>
        <Typography.Paragraph type="secondary">{t('mfa.usePasskey')}</Typography.Paragraph>
        <StepError error={error} />
        {error && isDeadToken(error) ? (
          <Button type="primary" block size="large" onClick={onRestart}>
            {t('mfa.startOver')}
          </Button>
        ) : (
          passkey
        )}
        <div className={styles.stepLinks}>
          <Button type="link" className={styles.switchLink} onClick={onRestart}>
            {t('mfa.startOver')}
          </Button>
        </div>
      </>
    );
  }

  return (
    <>
      <Typography.Paragraph type="secondary">{recovery ? t('mfa.enterRecovery') : t('mfa.enterCode')}</Typography.Paragraph>
      <StepError error={error} />
      <Form form={form} layout="vertical" requiredMark={false} onFinish={onFinish} disabled={isLoading} size="large">
        {recovery ? <RecoveryCodeFormItem autoFocus /> : <CodeFormItem autoFocus />}
        {error && isDeadToken(error) ? (
          <Button type="primary" block onClick={onRestart}>
            {t('mfa.startOver')}
          </Button>
        ) : (
          <Button type="primary" htmlType="submit" block loading={isLoading}>
            {t('mfa.verify')}
          </Button>
        )}
      </Form>
      {passkey && !(error && isDeadToken(error)) && <div className={styles.passkeyStep}>{passkey}</div>}
      <div className={styles.stepLinks}>
        <Button
          type="link"
          className={styles.switchLink}
          onClick={() => {
            setRecovery((r) => !r);
            form.resetFields();
          }}
        >
          {recovery ? t('mfa.useApp') : t('mfa.useRecovery')}
        </Button>
        <Button type="link" className={styles.switchLink} onClick={onRestart}>
          {t('mfa.startOver')}
        </Button>
      </div>
    </>
  );
}

/** The user's role requires MFA: set it up now, then the recovery codes, then in. */
export function MfaEnrollStep({ token, onDone, onRestart }: { token: string; onDone: () => void; onRestart: () => void }) {
  const { t } = useTranslation();
  const dispatch = useAppDispatch();
  const [enroll, enrollState] = useLoginEnrollMutation();
  const [confirm, confirmState] = useLoginEnrollConfirmMutation();
  const [secret, setSecret] = useState<TotpEnrollment | null>(null);
  const [signedIn, setSignedIn] = useState<EnrolledSignIn | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [form] = Form.useForm<{ code: string }>();

  const start = async () => {
    setError(null);
    try {
      setSecret(await enroll({ mfa_token: token }).unwrap());
    } catch (e) {
      setError(isApiError(e) ? e : { status: 0, code: 'generic', message: '' });
    }
  };

  const onFinish = async ({ code }: { code: string }) => {
    setError(null);
    try {
      setSignedIn(await confirm({ mfa_token: token, code }).unwrap());
    } catch (e) {
      if (isApiError(e) && e.code === 'invalid_mfa_code') {
        form.setFields([{ name: 'code', errors: [t('mfa.codeWrong')] }]);
      } else {
        setError(isApiError(e) ? e : { status: 0, code: 'generic', message: '' });
      }
    }
  };

  if (signedIn) {
    return (
      <RecoveryCodesView
        codes={signedIn.recovery_codes}
        onDone={() => {
          dispatch(sessionStarted(signedIn));
          onDone();
        }}
      />
    );
  }

  return (
    <>
      <Alert className={styles.notice} type="info" showIcon title={t('mfa.enrollRequired')} description={t('mfa.enrollRequiredHint')} />
      <StepError error={error} />
      {!secret ? (
        error && isDeadToken(error) ? (
          <Button type="primary" block size="large" onClick={onRestart}>
            {t('mfa.startOver')}
          </Button>
        ) : (
          <Button type="primary" block size="large" onClick={start} loading={enrollState.isLoading}>
            {t('mfa.setUp')}
          </Button>
        )
      ) : (
        <>
          <div className={styles.enroll}>
            <QrCode value={secret.otpauth_uri} label={t('mfa.qrAlt')} />
            <div className={styles.enrollText}>
              <Typography.Paragraph>{t('mfa.scan')}</Typography.Paragraph>
              <Typography.Text type="secondary">{t('mfa.manualEntry')}</Typography.Text>
              <div className={styles.secret}>
                <code data-testid="totp-secret">{groupSecret(secret.secret)}</code>
              </div>
            </div>
          </div>
          <Form form={form} layout="vertical" requiredMark={false} onFinish={onFinish} disabled={confirmState.isLoading} size="large">
            <CodeFormItem autoFocus />
            <Button type="primary" htmlType="submit" block loading={confirmState.isLoading}>
              {t('mfa.confirm')}
            </Button>
          </Form>
        </>
      )}
      <div className={styles.stepLinks}>
        <Button type="link" className={styles.switchLink} onClick={onRestart}>
          {t('mfa.startOver')}
        </Button>
      </div>
    </>
  );
}

/** The second step of a sign-in answered with a challenge (after a password or single sign-on). */
export function MfaStep({
  challenge,
  onDone,
  onRestart,
}: {
  challenge: MfaChallenge | MfaEnrollmentChallenge;
  onDone: () => void;
  onRestart: () => void;
}) {
  return isMfaChallenge(challenge) ? (
    <MfaCodeStep key={challenge.mfa_token} token={challenge.mfa_token} methods={challenge.methods} onDone={onDone} onRestart={onRestart} />
  ) : (
    <MfaEnrollStep key={challenge.mfa_token} token={challenge.mfa_token} onDone={onDone} onRestart={onRestart} />
  );
}
