import { useMemo, useState } from 'react';
import { Alert, App, Button, Empty, Form, Input, InputNumber, Modal, Select, Skeleton, Table, Tabs, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { KeyOutlined, PlusOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { CopyButton } from '../../components/CopyButton';
import { useErrorText } from '../../components/useErrorText';
import { formatDateTime } from '../../lib/format';
import { LimitsCell } from '../limits/LimitsCell';
import { LimitsDialog, type LimitGroup } from '../limits/LimitsDialog';
import { KEY_LIMIT_FIELDS, type KeyLimitField } from '../limits/limitRules';
import { chatModels, pickModel, useListModelsQuery } from '../models/modelsApi';
import {
  keyExamples,
  useCreateApiKeyMutation,
  useListApiKeysQuery,
  useRevokeApiKeyMutation,
  useSetApiKeyLimitsMutation,
  type ApiKey,
  type CreatedApiKey,
} from './apiKeysApi';
import styles from './apiKeys.module.css';

interface CreateForm {
  name: string;
  expires_in_days?: number | null;
  models?: string[];
}

/** Settings → API keys: platform keys for the OpenAI-compatible API. */
export function ApiKeysSection() {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const { modal, message } = App.useApp();
  const errorText = useErrorText();
  const list = useListApiKeysQuery();
  const models = useListModelsQuery();
  const [create, creating] = useCreateApiKeyMutation();
  const [revoke] = useRevokeApiKeyMutation();
  const [setLimits] = useSetApiKeyLimitsMutation();
  const [limitsOf, setLimitsOf] = useState<ApiKey | null>(null);
  const limitGroups = useMemo<LimitGroup<KeyLimitField>[]>(() => [{ fields: KEY_LIMIT_FIELDS }], []);
  const [open, setOpen] = useState(false);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [form] = Form.useForm<CreateForm>();

  const onCreate = async (v: CreateForm) => {
    try {
      const key = await create({
        name: v.name.trim(),
        ...(v.expires_in_days ? { expires_in_days: v.expires_in_days } : {}),
        ...(v.models?.length ? { models: v.models } : {}),
      }).unwrap();
      setOpen(false);
      form.resetFields();
      setCreated(key);
    } catch (e) {
      message.error(errorText(e));
    }
  };

  const confirmRevoke = (k: ApiKey) => {
    modal.confirm({
      title: t('apiKeys.revokeTitle'),
      content: t('apiKeys.revokeBody', { name: k.name }),
      okText: t('apiKeys.revoke'),
      okButtonProps: { danger: true },
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await revoke(k.id).unwrap();
          message.success(t('apiKeys.revoked'));
        } catch (e) {
          message.error(errorText(e));
        }
      },
    });
  };

  const columns: ColumnsType<ApiKey> = [
    { title: t('apiKeys.name'), dataIndex: 'name' },
    { title: t('apiKeys.prefix'), dataIndex: 'prefix', render: (v: string) => <Typography.Text code>{v}…</Typography.Text> },
    {
      title: t('apiKeys.models'),
      dataIndex: 'models',
      render: (v: string[]) => (v.length ? v.map((m) => <Tag key={m}>{m}</Tag>) : t('apiKeys.anyModel')),
    },
    {
      title: t('apiKeys.limits'),
      key: 'limits',
      render: (_, k) => (
        <LimitsCell
          values={k.limits}
          fields={KEY_LIMIT_FIELDS}
          none={t('apiKeys.noLimits')}
          editLabel={t('apiKeys.limitsOf', { name: k.name })}
          onEdit={() => setLimitsOf(k)}
        />
      ),
    },
    { title: t('apiKeys.lastUsed'), dataIndex: 'last_used_at', render: (v: string | null) => (v ? formatDateTime(v, lng) : t('apiKeys.never')) },
    { title: t('apiKeys.expires'), dataIndex: 'expires_at', render: (v: string | null) => (v ? formatDateTime(v, lng) : t('apiKeys.noExpiry')) },
    {
      key: 'actions',
      render: (_, k) => (
        <Button danger size="small" onClick={() => confirmRevoke(k)} aria-label={t('apiKeys.revokeNamed', { name: k.name })}>
          {t('apiKeys.revoke')}
        </Button>
      ),
    },
  ];

  const base = window.location.origin;
  const examples = created ? keyExamples(base, created.key, created.models[0] ?? pickModel(chatModels(models.data), null) ?? 'qwen-plus') : null;

  return (
    <div className={styles.section}>
      <Typography.Paragraph type="secondary">{t('apiKeys.intro', { base: `${base}/v1` })}</Typography.Paragraph>
      <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} className={styles.create}>
        {t('apiKeys.create')}
      </Button>
      {list.isLoading ? (
        <Skeleton active />
      ) : (list.data ?? []).length === 0 ? (
        <Empty image={<KeyOutlined className={styles.emptyIcon} />} description={t('apiKeys.empty')} />
      ) : (
        <Table<ApiKey>
          rowKey="id"
          size="small"
          columns={columns}
          dataSource={list.data}
          pagination={false}
          scroll={{ x: 'max-content' }}
          data-testid="api-keys-table"
        />
      )}
      <Modal
        open={open}
        title={t('apiKeys.create')}
        okText={t('apiKeys.createOk')}
        cancelText={t('common.cancel')}
        confirmLoading={creating.isLoading}
        onOk={() => form.submit()}
        onCancel={() => setOpen(false)}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" onFinish={onCreate} requiredMark={false}>
          <Form.Item
            name="name"
            label={t('apiKeys.name')}
            rules={[{ required: true, whitespace: true, message: t('apiKeys.nameRequired') }, { max: 100 }]}
          >
            <Input autoFocus maxLength={100} />
          </Form.Item>
          <Form.Item name="expires_in_days" label={t('apiKeys.expiresInDays')} extra={t('apiKeys.expiresHint')}>
            <InputNumber min={1} max={3650} precision={0} className={styles.full} />
          </Form.Item>
          <Form.Item name="models" label={t('apiKeys.models')} extra={t('apiKeys.modelsHint')}>
            <Select
              mode="multiple"
              allowClear
              options={(models.data ?? []).filter((m) => m.enabled !== false).map((m) => ({ value: m.id, label: m.id }))}
            />
          </Form.Item>
        </Form>
      </Modal>
      <LimitsDialog
        initial={limitsOf ? { rpm: limitsOf.limits?.rpm ?? null, tpm: limitsOf.limits?.tpm ?? null } : null}
        title={t('apiKeys.limitsOf', { name: limitsOf?.name ?? '' })}
        hint={t('apiKeys.limitsHint')}
        emptyText={t('apiKeys.noLimit')}
        groups={limitGroups}
        savedText={t('apiKeys.limitsSaved')}
        onSave={(limits) => setLimits({ id: limitsOf?.id ?? '', limits }).unwrap()}
        onClose={() => setLimitsOf(null)}
      />
      <Modal
        open={!!created}
        title={t('apiKeys.createdTitle')}
        onCancel={() => setCreated(null)}
        footer={<Button type="primary" onClick={() => setCreated(null)}>{t('apiKeys.done')}</Button>}
        width={720}
        destroyOnHidden
      >
        {created && examples && (
          <div className={styles.created}>
            <Alert type="warning" showIcon title={t('apiKeys.shownOnce')} />
            <div className={styles.keyRow}>
              <Typography.Text code className={styles.key} data-testid="new-api-key">
                {created.key}
              </Typography.Text>
              <CopyButton text={created.key} label={t('apiKeys.copyKey')} />
            </div>
            <Tabs
              size="small"
              items={(['curl', 'python', 'node'] as const).map((k) => ({
                key: k,
                label: t(`apiKeys.example_${k}`),
                children: (
                  <div className={styles.example}>
                    <pre className={styles.code}>{examples[k]}</pre>
                    <CopyButton text={examples[k]} />
                  </div>
                ),
              }))}
            />
          </div>
        )}
      </Modal>
    </div>
  );
}
