import { useState } from 'react';
import { App, Button, Card, Empty, Form, Input, Modal, Popconfirm, Result, Skeleton, Typography } from 'antd';
import { KeyOutlined, PlusOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useAppSelector } from '../../app/hooks';
import { useErrorText } from '../../components/useErrorText';
import { formatDateTime } from '../../lib/format';
import {
  type Passkey,
  useAddPasskeyMutation,
  useDeletePasskeyMutation,
  useListPasskeysQuery,
  usePasskeyCreationOptionsMutation,
  useRenamePasskeyMutation,
} from './passkeysApi';
import { attestationJson, creationOptions, isCancelled, passkeysSupported } from './webauthn';
import styles from './passkeys.module.css';

const NAME_MAX = 64;

/** Settings card: the user's passkeys (name, created, last used), add, rename, delete. */
export function PasskeysSection() {
  if (!passkeysSupported()) return null;
  return <PasskeysCard />;
}

function PasskeysCard() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const locale = useAppSelector((s) => s.prefs.language);
  const { data, isLoading, isError, error, refetch } = useListPasskeysQuery();
  const [getOptions] = usePasskeyCreationOptionsMutation();
  const [addPasskey] = useAddPasskeyMutation();
  const [renamePasskey, { isLoading: renaming }] = useRenamePasskeyMutation();
  const [deletePasskey, { isLoading: deleting, originalArgs: deletingId }] = useDeletePasskeyMutation();
  const [adding, setAdding] = useState(false);
  const [renameTarget, setRenameTarget] = useState<Passkey | null>(null);
  const [form] = Form.useForm<{ name: string }>();

  const onAdd = async () => {
    setAdding(true);
    try {
      const options = await getOptions().unwrap();
      const cred = (await navigator.credentials.create({ publicKey: creationOptions(options) })) as PublicKeyCredential | null;
      if (!cred) return;
      await addPasskey({ credential: attestationJson(cred) }).unwrap();
      message.success(t('passkeys.added'));
    } catch (e) {
      if (isCancelled(e)) message.info(t('passkeys.cancelled'));
      else if (e instanceof DOMException && e.name === 'InvalidStateError') message.warning(t('passkeys.alreadyRegistered'));
      else message.error(errorText(e));
    } finally {
      setAdding(false);
    }
  };

  const onRename = async (values: { name: string }) => {
    if (!renameTarget) return;
    try {
      await renamePasskey({ id: renameTarget.id, name: values.name.trim() }).unwrap();
      setRenameTarget(null);
      message.success(t('passkeys.renamed'));
    } catch (e) {
      message.error(errorText(e));
    }
  };

  const onDelete = async (p: Passkey) => {
    try {
      await deletePasskey(p.id).unwrap();
      message.success(t('passkeys.deleted'));
    } catch (e) {
      message.error(errorText(e));
    }
  };

  let body;
  if (isLoading) body = <Skeleton active />;
  else if (isError) {
    body = (
      <Result
        status="warning"
        subTitle={errorText(error)}
        extra={<Button onClick={() => refetch()}>{t('common.retry')}</Button>}
      />
    );
  } else if (!data || data.length === 0) {
    body = <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('passkeys.none')} />;
  } else {
    body = (
      <ul className={styles.list} aria-label={t('passkeys.title')}>
        {data.map((p) => (
          <li key={p.id} className={styles.item} data-testid="passkey-item">
            <span className={styles.icon} aria-hidden="true">
              <KeyOutlined />
            </span>
            <div className={styles.body}>
              <Typography.Text strong className={styles.name}>
                {p.name}
              </Typography.Text>
              <div className={styles.muted}>
                {[
                  t('passkeys.createdAt', { time: formatDateTime(p.created_at, locale) }),
                  p.last_used_at
                    ? t('passkeys.lastUsed', { time: formatDateTime(p.last_used_at, locale) })
                    : t('passkeys.neverUsed'),
                ].join(' · ')}
              </div>
            </div>
            <div className={styles.actions}>
              <Button
                size="small"
                onClick={() => {
                  form.setFieldsValue({ name: p.name });
                  setRenameTarget(p);
                }}
                aria-label={t('passkeys.renameOne', { name: p.name })}
              >
                {t('passkeys.rename')}
              </Button>
              <Popconfirm
                title={t('passkeys.deleteConfirm', { name: p.name })}
                okText={t('common.delete')}
                cancelText={t('common.cancel')}
                okButtonProps={{ danger: true }}
                onConfirm={() => onDelete(p)}
              >
                <Button
                  danger
                  size="small"
                  loading={deleting && deletingId === p.id}
                  aria-label={t('passkeys.deleteOne', { name: p.name })}
                >
                  {t('common.delete')}
                </Button>
              </Popconfirm>
            </div>
          </li>
        ))}
      </ul>
    );
  }

  return (
    <Card
      className={styles.card}
      data-testid="passkeys-card"
      title={
        <span className={styles.head}>
          <span>{t('passkeys.title')}</span>
        </span>
      }
      extra={
        <Button type="primary" icon={<PlusOutlined />} loading={adding} onClick={onAdd}>
          {t('passkeys.add')}
        </Button>
      }
    >
      <Typography.Paragraph type="secondary">{t('passkeys.intro')}</Typography.Paragraph>
      {body}
      <Modal
        open={!!renameTarget}
        title={t('passkeys.renameTitle')}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        confirmLoading={renaming}
        onOk={() => form.submit()}
        onCancel={() => setRenameTarget(null)}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" onFinish={onRename} requiredMark={false}>
          <Form.Item
            name="name"
            label={t('passkeys.name')}
            rules={[
              { required: true, whitespace: true, message: t('passkeys.nameRequired') },
              {
                validator: (_r, v: string | undefined) =>
                  new TextEncoder().encode(v ?? '').length <= NAME_MAX
                    ? Promise.resolve()
                    : Promise.reject(new Error(t('passkeys.nameTooLong', { max: NAME_MAX }))),
              },
            ]}
          >
            <Input autoFocus maxLength={NAME_MAX} />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
