import { useEffect } from 'react';
import { App, Button, Descriptions, Form, Input, Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import { useAppSelector } from '../../app/hooks';
import { useErrorText } from '../../components/useErrorText';
import { formatDateTime } from '../../lib/format';
import { useGetMeQuery, useUpdateMeMutation } from './usersApi';
import styles from './settings.module.css';

export const DISPLAY_NAME_MAX = 64;

export function ProfileSection() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const locale = useAppSelector((s) => s.prefs.language);
  const sessionUser = useAppSelector((s) => s.auth.user);
  const { data } = useGetMeQuery();
  const user = data ?? sessionUser;
  const [update, { isLoading }] = useUpdateMeMutation();
  const [form] = Form.useForm<{ display_name: string }>();

  useEffect(() => {
    form.setFieldsValue({ display_name: user?.display_name ?? '' });
  }, [user?.display_name, form]);

  if (!user) return null;

  return (
    <>
      <Descriptions column={1} size="small" bordered>
        <Descriptions.Item label={t('auth.username')}>{user.username}</Descriptions.Item>
        <Descriptions.Item label={t('auth.email')}>{user.email}</Descriptions.Item>
        <Descriptions.Item label={t('settings.role')}>
          <Tag>{t(`roles.${user.role}`, { defaultValue: user.role })}</Tag>
        </Descriptions.Item>
        <Descriptions.Item label={t('settings.memberSince')}>{formatDateTime(user.created_at, locale)}</Descriptions.Item>
      </Descriptions>
      <Form
        className={styles.profileForm}
        form={form}
        layout="vertical"
        requiredMark={false}
        onFinish={async (values) => {
          try {
            await update({ display_name: values.display_name.trim() }).unwrap();
            message.success(t('common.saved'));
          } catch (e) {
            message.error(errorText(e));
          }
        }}
      >
        <Form.Item
          name="display_name"
          label={t('settings.displayName')}
          rules={[{ max: DISPLAY_NAME_MAX, message: t('validation.displayNameTooLong', { max: DISPLAY_NAME_MAX }) }]}
        >
          <Input maxLength={DISPLAY_NAME_MAX} autoComplete="nickname" />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={isLoading}>
          {t('common.save')}
        </Button>
      </Form>
    </>
  );
}
