import { App, Button, Form, Input, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { useAppSelector } from '../../app/hooks';
import { useErrorText } from '../../components/useErrorText';
import { isApiError } from '../../lib/apiError';
import { checkPassword, PASSWORD_MAX_BYTES, PASSWORD_MIN_BYTES } from '../../lib/validation';
import { useChangePasswordMutation } from './usersApi';
import styles from './settings.module.css';

interface Values {
  current_password: string;
  new_password: string;
  confirm: string;
}

export function PasswordSection() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const user = useAppSelector((s) => s.auth.user);
  const [change, { isLoading }] = useChangePasswordMutation();
  const [form] = Form.useForm<Values>();

  const messages = {
    required: t('validation.passwordRequired'),
    too_short: t('validation.passwordTooShort', { min: PASSWORD_MIN_BYTES }),
    too_long: t('validation.passwordTooLong', { max: PASSWORD_MAX_BYTES }),
    same_as_username: t('validation.passwordSameAsUsername'),
    same_as_email: t('validation.passwordSameAsEmail'),
  };

  const onFinish = async (values: Values) => {
    try {
      await change({ current_password: values.current_password, new_password: values.new_password }).unwrap();
      form.resetFields();
      message.success(t('settings.passwordChanged'));
    } catch (e) {
      if (isApiError(e) && (e.code === 'invalid_credentials' || e.code === 'invalid_password' || e.code === 'wrong_password')) {
        form.setFields([{ name: 'current_password', errors: [t('validation.currentPasswordWrong')] }]);
      } else if (isApiError(e) && e.code === 'validation_failed') {
        form.setFields([{ name: 'new_password', errors: [e.message || t('errors.generic')] }]);
      } else {
        message.error(errorText(e));
      }
    }
  };

  return (
    <Form className={styles.form} form={form} layout="vertical" requiredMark={false} onFinish={onFinish}>
      <Typography.Paragraph type="secondary">{t('settings.passwordIntro')}</Typography.Paragraph>
      {/* Lets password managers attach the new password to the right account. */}
      <input type="text" name="username" autoComplete="username" value={user?.username ?? ''} readOnly hidden />
      <Form.Item
        name="current_password"
        label={t('settings.currentPassword')}
        rules={[{ required: true, message: t('validation.passwordRequired') }]}
      >
        <Input.Password autoComplete="current-password" />
      </Form.Item>
      <Form.Item
        name="new_password"
        label={t('settings.newPassword')}
        extra={t('auth.passwordHint', { min: PASSWORD_MIN_BYTES, max: PASSWORD_MAX_BYTES })}
        rules={[
          {
            validator: (_, v: string = '') => {
              const p = checkPassword(v, { username: user?.username, email: user?.email });
              return p ? Promise.reject(new Error(messages[p])) : Promise.resolve();
            },
          },
        ]}
      >
        <Input.Password autoComplete="new-password" />
      </Form.Item>
      <Form.Item
        name="confirm"
        label={t('auth.confirmPassword')}
        dependencies={['new_password']}
        rules={[
          { required: true, message: t('validation.confirmRequired') },
          ({ getFieldValue }) => ({
            validator: (_, v: string) =>
              !v || v === getFieldValue('new_password')
                ? Promise.resolve()
                : Promise.reject(new Error(t('validation.passwordMismatch'))),
          }),
        ]}
      >
        <Input.Password autoComplete="new-password" />
      </Form.Item>
      <Button type="primary" htmlType="submit" loading={isLoading}>
        {t('settings.changePassword')}
      </Button>
    </Form>
  );
}
