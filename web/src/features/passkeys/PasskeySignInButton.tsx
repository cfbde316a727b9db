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
import { assertionJson, isCancelled, passkeysSupported, requestOptions, type AssertionJson, type RequestOptionsJson } from './webauthn';
import styles from './passkeys.module.css';

interface CeremonyProps {
  label: string;
  primary?: boolean;
  disabled?: boolean;
  onSignedIn: () => void;
  onError: (e: ApiError | null) => void;
  /** The hub's request options, then the hub's answer to the assertion. */
  options: () => Promise<RequestOptionsJson>;
  answer: (credential: AssertionJson) => Promise<unknown>;
}

/** One WebAuthn sign-in ceremony behind a button; hidden where the browser has no WebAuthn. */
function PasskeyCeremonyButton({ label, primary, disabled, onSignedIn, onError, options, answer }: CeremonyProps) {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  if (!passkeysSupported()) return null;

  const onClick = async () => {
    onError(null);
    setBusy(true);
    try {
      const publicKey = requestOptions(await options());
      const cred = (await navigator.credentials.get({ publicKey })) as PublicKeyCredential | null;
      if (!cred) return;
      await answer(assertionJson(cred));
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
    <Button
      className={styles.signIn}
      type={primary ? 'primary' : 'default'}
      block
      size="large"
      icon={<KeyOutlined />}
      loading={busy}
      disabled={disabled}
      onClick={onClick}
    >
      {label}
    </Button>
  );
}

/** "Sign in with a passkey" (discoverable credentials, no password). */
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
  return (
    <PasskeyCeremonyButton
      label={t('passkeys.signIn')}
      disabled={disabled}
      onSignedIn={onSignedIn}
      onError={onError}
      options={() => getOptions().unwrap()}
      answer={(credential) => signIn({ credential }).unwrap()}
    />
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
  return (
    <PasskeyCeremonyButton
      label={t('passkeys.useForStep')}
      primary={primary}
      onSignedIn={onSignedIn}
      onError={onError}
      options={() => getOptions({ mfa_token: token }).unwrap()}
      answer={(credential) => answer({ mfa_token: token, credential }).unwrap()}
    />
  );
}
