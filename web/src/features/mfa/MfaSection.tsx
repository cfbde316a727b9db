import { useState } from 'react';
import { Alert, App, Button, Card, Form, Input, Modal, Space, Tag, Typography } from 'antd';
import { SafetyCertificateOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useAppSelector } from '../../app/hooks';
import { CopyButton } from '../../components/CopyButton';
import { useErrorText } from '../../components/useErrorText';
import { isApiError } from '../../lib/apiError';
import { CodeFormItem, RecoveryCodeFormItem } from './CodeInput';
import {
  useBeginTotpMutation,
  useConfirmTotpMutation,
  useDisableTotpMutation,
  useGetMfaStatusQuery,
  useRegenerateRecoveryCodesMutation,
  type TotpEnrollment,
} from './mfaApi';
import { groupSecret, QrCode } from './QrCode';
import { RecoveryCodesView } from './RecoveryCodesView';
import styles from './mfa.module.css';

type Action = 'regenerate' | 'disable';

interface ActionValues {
  password: string;
  code?: string;
  recovery_code?: string;
}

/** Settings → two-step sign-in with an authenticator app (TOTP). */
export function MfaSection() {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const user = useAppSelector((s) => s.auth.user);
  const status = useGetMfaStatusQuery();
  const [begin, beginState] = useBeginTotpMutation();
  const [confirm, confirmState] = useConfirmTotpMutation();
  const [regenerate, regenerateState] = useRegenerateRecoveryCodesMutation();
  const [disable, disableState] = useDisableTotpMutation();
  const [enrollment, setEnrollment] = useState<TotpEnrollment | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [action, setAction] = useState<Action | null>(null);
  const [useRecovery, setUseRecovery] = useState(false);
  const [confirmForm] = Form.useForm<{ code: string }>();
  const [actionForm] = Form.useForm<ActionValues>();

  const start = async () => {
    try {
      setEnrollment(await begin().unwrap());
    } catch (e) {
      message.error(errorText(e));
    }
  };

  const onConfirm = async ({ code }: { code: string }) => {
    try {
      const r = await confirm({ code }).unwrap();
      setEnrollment(null);
      setCodes(r.recovery_codes);
      message.success(t('mfa.enabled'));
    } catch (e) {
      if (isApiError(e) && e.code === 'invalid_mfa_code') {
        confirmForm.setFields([{ name: 'code', errors: [t('mfa.codeWrong')] }]);
      } else {
        message.error(errorText(e));
      }
    }
  };

  const closeAction = () => {
    setAction(null);
    setUseRecovery(false);
    actionForm.resetFields();
  };

  const onAction = async (values: ActionValues) => {
    const body = useRecovery
      ? { password: values.password, recovery_code: (values.recovery_code ?? '').trim() }
      : { password: values.password, code: values.code ?? '' };
    try {
      if (action === 'regenerate') {
        const r = await regenerate(body).unwrap();
        setCodes(r.recovery_codes);
      } else {
        await disable(body).unwrap();
        message.success(t('mfa.disabled'));
      }
      closeAction();
    } catch (e) {
      if (isApiError(e) && e.code === 'invalid_credentials') {
        actionForm.setFields([{ name: 'password', errors: [t('validation.currentPasswordWrong')] }]);
      } else if (isApiError(e) && e.code === 'invalid_mfa_code') {
        actionForm.setFields([{ name: useRecovery ? 'recovery_code' : 'code', errors: [t('mfa.codeWrong')] }]);
      } else {
        message.error(errorText(e));
      }
    }
  };

  const s = status.data;
  const enabledAt = s?.enrolled_at ? new Date(s.enrolled_at).toLocaleDateString(i18n.language) : '';

  let body;
  if (codes) {
    body = <RecoveryCodesView codes={codes} onDone={() => setCodes(null)} />;
  } else if (status.isLoading) {
    body = <Typography.Text type="secondary">{t('common.loading')}</Typography.Text>;
  } else if (status.isError || !s) {
    body = (
      <Alert
        type="error"
        showIcon
        title={errorText(status.error)}
        action={<Button onClick={() => void status.refetch()}>{t('common.retry')}</Button>}
      />
    );
  } else if (s.totp_enabled) {
    body = (
      <Space orientation="vertical" size="middle" className={styles.form}>
        <Typography.Text>
          {t('mfa.onSince', { date: enabledAt })}{' '}
          <Typography.Text type={s.recovery_codes_left <= 2 ? 'danger' : 'secondary'}>
            {t('mfa.codesLeft', { count: s.recovery_codes_left })}
          </Typography.Text>
        </Typography.Text>
        <div className={styles.actions}>
          <Button onClick={() => setAction('regenerate')}>{t('mfa.regenerate')}</Button>
          <Button danger onClick={() => setAction('disable')} disabled={s.required}>
            {t('mfa.turnOff')}
          </Button>
        </div>
        {s.required && <Typography.Text type="secondary">{t('mfa.requiredByRole')}</Typography.Text>}
      </Space>
    );
  } else if (enrollment) {
    body = (
      <div className={styles.enroll}>
        <QrCode value={enrollment.otpauth_uri} label={t('mfa.qrAlt')} />
        <div className={styles.enrollText}>
          <Typography.Paragraph>{t('mfa.scan')}</Typography.Paragraph>
          <Typography.Text type="secondary">{t('mfa.manualEntry')}</Typography.Text>
          <div className={styles.secret}>
            <code data-testid="totp-secret">{groupSecret(enrollment.secret)}</code>
            <CopyButton text={enrollment.secret} label={t('mfa.copySecret')} />
          </div>
          <Form form={confirmForm} layout="vertical" requiredMark={false} onFinish={onConfirm} className={styles.form}>
            <CodeFormItem autoFocus />
            <Space wrap>
              <Button type="primary" htmlType="submit" loading={confirmState.isLoading}>
                {t('mfa.confirm')}
              </Button>
              <Button onClick={() => setEnrollment(null)}>{t('common.cancel')}</Button>
            </Space>
          </Form>
        </div>
      </div>
    );
  } else {
    body = (
      <Space orientation="vertical" size="middle">
        <Typography.Text type="secondary">{t('mfa.intro')}</Typography.Text>
        {s.required && <Alert type="info" showIcon title={t('mfa.requiredByRole')} />}
        <Button type="primary" onClick={start} loading={beginState.isLoading}>
          {t('mfa.setUp')}
        </Button>
      </Space>
    );
  }

  return (
    <Card
      className={styles.card}
      data-testid="mfa-card"
      title={
        <Space>
          <SafetyCertificateOutlined />
          {t('mfa.title')}
          {s && <Tag color={s.totp_enabled ? 'green' : 'default'}>{s.totp_enabled ? t('mfa.on') : t('mfa.off')}</Tag>}
        </Space>
      }
    >
      {body}
      <Modal
        open={action !== null}
        title={action === 'disable' ? t('mfa.turnOffTitle') : t('mfa.regenerateTitle')}
        okText={action === 'disable' ? t('mfa.turnOff') : t('mfa.regenerate')}
        okButtonProps={{
          danger: action === 'disable',
          loading: regenerateState.isLoading || disableState.isLoading,
          htmlType: 'submit',
          form: 'mfa-action',
        }}
        cancelText={t('common.cancel')}
        onCancel={closeAction}
        destroyOnHidden
      >
        <Typography.Paragraph type="secondary">
          {action === 'disable' ? t('mfa.turnOffIntro') : t('mfa.regenerateIntro')}
        </Typography.Paragraph>
        <Form id="mfa-action" form={actionForm} layout="vertical" requiredMark={false} onFinish={onAction}>
          <input type="text" name="username" autoComplete="username" value={user?.username ?? ''} readOnly hidden />
          <Form.Item name="password" label={t('settings.currentPassword')} rules={[{ required: true, message: t('validation.passwordRequired') }]}>
            <Input.Password autoComplete="current-password" />
          </Form.Item>
          {useRecovery ? <RecoveryCodeFormItem /> : <CodeFormItem />}
          <Button type="link" className={styles.switchLink} onClick={() => setUseRecovery((v) => !v)}>
            {useRecovery ? t('mfa.useApp') : t('mfa.useRecovery')}
          </Button>
        </Form>
      </Modal>
    </Card>
  );
}
