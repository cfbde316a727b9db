import { useEffect, useRef, useState } from 'react';
import { Button, Card, Result, Spin } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useErrorText } from '../../components/useErrorText';
import { isApiError, type ApiError } from '../../lib/apiError';
import { MfaStep } from '../mfa/MfaSignIn';
import { isTokens, type MfaChallenge, type MfaEnrollmentChallenge } from '../mfa/mfaApi';
import { useSsoExchangeMutation } from './ssoApi';
import styles from './sso.module.css';

/**
 * The end of a provider sign-in: the hub sent the browser here with a one-time ticket (60 s);
 * it is traded once for the same answer as a password sign-in.
 */
export function SsoCompletePage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const errorText = useErrorText();
  const [params] = useSearchParams();
  const ticket = params.get('ticket') ?? '';
  const [exchange] = useSsoExchangeMutation();
  const [error, setError] = useState<ApiError | null>(null);
  // An account with MFA (or whose role requires it) takes the second step here too.
  const [step, setStep] = useState<MfaChallenge | MfaEnrollmentChallenge | null>(null);
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return; // a ticket works once: never send it twice
    started.current = true;
    if (!ticket) {
      setError({ status: 401, code: 'invalid_ticket', message: '' });
      return;
    }
    exchange({ ticket })
      .unwrap()
      .then((answer) => (isTokens(answer) ? navigate('/', { replace: true }) : setStep(answer)))
      .catch((e: unknown) => setError(isApiError(e) ? e : { status: 0, code: 'generic', message: '' }));
  }, [ticket, exchange, navigate]);

  return (
    <main className={styles.page}>
      <Card className={styles.card} variant="borderless">
        {step ? (
          <MfaStep challenge={step} onDone={() => navigate('/', { replace: true })} onRestart={() => navigate('/login', { replace: true })} />
        ) : error ? (
          <Result
            status="warning"
            title={t('sso.failedTitle')}
            subTitle={error.code === 'invalid_ticket' ? t('sso.ticketExpired') : errorText(error)}
            extra={
              <Link to="/login">
                <Button type="primary">{t('sso.backToSignIn')}</Button>
              </Link>
            }
          />
        ) : (
          <div className={styles.waiting} role="status">
            <Spin />
            <span>{t('sso.signingIn')}</span>
          </div>
        )}
      </Card>
    </main>
  );
}
