import { useState } from 'react';
import { Button } from 'antd';
import { KeyOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { isApiError, type ApiError } from '../../lib/apiError';
import {
  usePasskeySecondStepMutation,
  usePasskeySecondStepOptionsMutation,
  usePasskeySignInOptionsMutation,
  useSignInWithPasskeyMutation,
} from './passkeysApi';
import { assertionJson, isCancelled, passkeysSupported, requestOptions } from './webauthn';
import styles from './passkeys.module.css';

/** "Sign in with a passkey" (discoverable credentials); hidden where the browser has no WebAuthn. */
export function PasskeySignInButton({
  onSignedIn,
  onError,
  disabled,
}: {
  onSignedIn: () => void;
  onError: (e: ApiError | null) => void;
  disabled?: boolean;
}) {
  const { t } = useTranslation();
  const [getOptions] = usePasskeySignInOptionsMutation();
  const [signIn] = useSignInWithPasskeyMutation();
  const [busy, setBusy] = useState(false);
  if (!passkeysSupported()) return null;

  const onClick = async () => {
    onError(null);
    setBusy(true);
    try {
      const options = await getOptions().unwrap();
      const cred = (await navigator.credentials.get({ publicKey: requestOptions(options) })) as PublicKeyCredential | null;
      if (!cred) return;
      await signIn({ credential: assertionJson(cred) }).unwrap();
      onSignedIn();
    } catch (e) {
      if (isCancelled(e)) return;
      if (isApiError(e)) onError(e.code === 'passkey_not_accepted' ? { ...e, message: t('passkeys.notAccepted') } : e);
      else onError({ status: 0, code: 'passkey_failed', message: t('passkeys.signInFailed') });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Button className={styles.signIn} block size="large" icon={<KeyOutlined />} loading={busy} disabled={disabled} onClick={onClick}>
      {t('passkeys.signIn')}
    </Button>
  );
}

/** The second sign-in step answered with one of the user's passkeys (after the password). */
export function PasskeySecondStepButton({
  token,
  onSignedIn,
  onError,
  primary,
}: {
  token: string;
  onSignedIn: () => void;
  onError: (e: ApiError | null) => void;
  primary?: boolean;
}) {
  const { t } = useTranslation();
  const [getOptions] = usePasskeySecondStepOptionsMutation();
  const [answer] = usePasskeySecondStepMutation();
  const [busy, setBusy] = useState(false);
  if (!passkeysSupported()) return null;

  const onClick = async () => {
    onError(null);
    setBusy(true);
    try {
      const options = await getOptions({ mfa_token: token }).unwrap();
      const cred = (await navigator.credentials.get({ publicKey: requestOptions(options) })) as PublicKeyCredential | null;
      if (!cred) return;
      await answer({ mfa_token: token, credential: assertionJson(cred) }).unwrap();
      onSignedIn();
    } catch (e) {
      if (isCancelled(e)) return;
      if (isApiError(e)) onError(e.code === 'passkey_not_accepted' ? { ...e, message: t('passkeys.notAccepted') } : e);
      else onError({ status: 0, code: 'passkey_failed', message: t('passkeys.signInFailed') });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Button className={styles.signIn} type={primary ? 'primary' : 'default'} block size="large" icon={<KeyOutlined />} loading={busy} onClick={onClick}>
      {t('passkeys.useForStep')}
    </Button>
  );
}
