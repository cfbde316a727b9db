import { Form, Input } from 'antd';
import { useTranslation } from 'react-i18next';

/** A six-digit TOTP code field (one-time-code autocomplete, numeric keyboard on phones). */
export function CodeFormItem({ name = 'code', autoFocus = false }: { name?: string; autoFocus?: boolean }) {
  const { t } = useTranslation();
  return (
    <Form.Item
      name={name}
      label={t('mfa.code')}
      normalize={(v: string = '') => v.replace(/\D/g, '').slice(0, 6)}
      rules={[
        { required: true, message: t('mfa.codeRequired') },
        { pattern: /^\d{6}$/, message: t('mfa.codeSixDigits') },
      ]}
    >
      <Input
        autoComplete="one-time-code"
        inputMode="numeric"
        pattern="[0-9]*"
        maxLength={6}
        autoFocus={autoFocus}
        placeholder="123456"
        aria-label={t('mfa.code')}
      />
    </Form.Item>
  );
}

/** A recovery code field ("xxxx-xxxx-xxxx-xxxx"). */
export function RecoveryCodeFormItem({ name = 'recovery_code', autoFocus = false }: { name?: string; autoFocus?: boolean }) {
  const { t } = useTranslation();
  return (
    <Form.Item name={name} label={t('mfa.recoveryCode')} rules={[{ required: true, whitespace: true, message: t('mfa.recoveryCodeRequired') }]}>
      <Input autoComplete="off" autoCapitalize="none" spellCheck={false} autoFocus={autoFocus} placeholder="abcd-efgh-ijkl-mnop" />
    </Form.Item>
  );
}
