import { useState } from 'react';
import { Alert, App, Button, Checkbox, Form, Input, Modal, Typography } from 'antd';
import { DeleteOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { useAppDispatch, useAppSelector } from '../../app/hooks';
import { useErrorText } from '../../components/useErrorText';
import { isApiError } from '../../lib/apiError';
import { sessionEnded } from '../auth/authSlice';
import { useGetMfaStatusQuery } from '../mfa/mfaApi';
import { useDeleteAccountMutation } from './dataRightsApi';
import styles from './dataRights.module.css';

interface Values {
  password: string;
  mfa_code?: string;
  confirm: boolean;
}

/** Settings → Your data: the danger zone. The password again, an explicit confirmation, then gone. */
export function DeleteAccountSection() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const user = useAppSelector((s) => s.auth.user);
  const [open, setOpen] = useState(false);
  const [remove, { isLoading }] = useDeleteAccountMutation();
  // Fresh, not the profile cached at sign-in: TOTP may have been turned on since.
  const mfa = useGetMfaStatusQuery(undefined, { skip: !open });
  const mfaOn = mfa.data?.totp_enabled ?? !!user?.mfa_enabled;
  const [form] = Form.useForm<Values>();

  const onFinish = async (values: Values) => {
    try {
      const code = values.mfa_code?.trim();
      await remove({ password: values.password, ...(code ? { mfa_code: code } : {}) }).unwrap();
      setOpen(false);
      dispatch(sessionEnded({ expired: false }));
      message.success(t('dataRights.deleted'));
      void navigate('/login', { replace: true });
    } catch (e) {
      if (isApiError(e) && e.code === 'invalid_credentials') {
        form.setFields([{ name: 'password', errors: [t('validation.currentPasswordWrong')] }]);
      } else if (isApiError(e) && (e.code === 'invalid_mfa_code' || e.code === 'mfa_required')) {
        form.setFields([{ name: 'mfa_code', errors: [t('mfa.codeWrong')] }]);
      } else if (isApiError(e) && e.code === 'last_admin') {
        message.error(t('dataRights.lastAdmin'));
      } else {
        message.error(errorText(e));
      }
    }
  };

  return (
    <section className={styles.danger} aria-labelledby="delete-title">
      <Typography.Title level={5} id="delete-title" type="danger">
        {t('dataRights.deleteTitle')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('dataRights.deleteIntro')}</Typography.Paragraph>
      <Button danger icon={<DeleteOutlined />} onClick={() => setOpen(true)}>
        {t('dataRights.deleteButton')}
      </Button>
      <Modal
        open={open}
        title={t('dataRights.deleteConfirmTitle')}
        okText={t('dataRights.deleteForever')}
        okButtonProps={{ danger: true, loading: isLoading, htmlType: 'submit', form: 'delete-account' }}
        cancelText={t('common.cancel')}
        onCancel={() => {
          setOpen(false);
          form.resetFields();
        }}
        destroyOnHidden
      >
        <Alert type="warning" showIcon message={t('dataRights.deleteWarning')} className={styles.warning} />
        <Form id="delete-account" form={form} layout="vertical" requiredMark={false} onFinish={onFinish}>
          <input type="text" name="username" autoComplete="username" value={user?.username ?? ''} readOnly hidden />
          <Form.Item
            name="password"
            label={t('dataRights.passwordAgain')}
            rules={[{ required: true, message: t('validation.passwordRequired') }]}
          >
            <Input.Password autoComplete="current-password" />
          </Form.Item>
          {mfaOn && (
            <Form.Item
              name="mfa_code"
              label={t('mfa.deleteCode')}
              rules={[{ required: true, whitespace: true, message: t('mfa.codeRequired') }]}
            >
              <Input autoComplete="one-time-code" autoCapitalize="none" spellCheck={false} />
            </Form.Item>
          )}
          <Form.Item
            name="confirm"
            valuePropName="checked"
            rules={[
              {
                validator: (_, v: boolean) =>
                  v ? Promise.resolve() : Promise.reject(new Error(t('dataRights.confirmRequired'))),
              },
            ]}
          >
            <Checkbox>{t('dataRights.confirmLabel', { name: user?.username ?? '' })}</Checkbox>
          </Form.Item>
        </Form>
      </Modal>
    </section>
  );
}
