import { useState } from 'react';
import { App, Button, Empty, Form, Input, InputNumber, Modal, Skeleton, Switch, Table, Tag, Tooltip } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { PlusOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useErrorText } from '../../components/useErrorText';
import { formatDateTime } from '../../lib/format';
import {
  useAddUpstreamKeyMutation,
  useDeleteUpstreamKeyMutation,
  useListUpstreamKeysQuery,
  useRotateUpstreamKeyMutation,
  useUpdateUpstreamKeyMutation,
  type UpstreamKey,
} from './adminApi';
import styles from './admin.module.css';

const STATE_COLOR: Record<string, string> = {
  active: 'success',
  cooling: 'warning',
  probing: 'processing',
  disabled: 'error',
  retiring: 'default',
};

export function UpstreamKeysSection() {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const { modal, message } = App.useApp();
  const errorText = useErrorText();
  // Live state: refreshed while the tab is open.
  const list = useListUpstreamKeysQuery(undefined, { pollingInterval: 10_000 });
  const [add, adding] = useAddUpstreamKeyMutation();
  const [rotate, rotating] = useRotateUpstreamKeyMutation();
  const [update] = useUpdateUpstreamKeyMutation();
  const [remove] = useDeleteUpstreamKeyMutation();
  const [addOpen, setAddOpen] = useState(false);
  const [rotating_, setRotatingKey] = useState<UpstreamKey | null>(null);
  const [addForm] = Form.useForm<{ name: string; secret: string; weight?: number }>();
  const [rotateForm] = Form.useForm<{ secret: string }>();

  const run = async (p: Promise<unknown>, done: string) => {
    try {
      await p;
      message.success(done);
      return true;
    } catch (e) {
      message.error(errorText(e));
      return false;
    }
  };

  const confirmDelete = (k: UpstreamKey) =>
    modal.confirm({
      title: t('admin.deleteKeyTitle'),
      content: t('admin.deleteKeyBody', { name: k.name }),
      okText: t('common.delete'),
      okButtonProps: { danger: true },
      cancelText: t('common.cancel'),
      onOk: () => run(remove(k.id).unwrap(), t('admin.keyDeleted')),
    });

  const columns: ColumnsType<UpstreamKey> = [
    { title: t('admin.keyName'), dataIndex: 'name' },
    { title: t('admin.last4'), dataIndex: 'last4', render: (v: string) => <code>…{v}</code> },
    {
      title: t('admin.state'),
      key: 'state',
      render: (_, k) => {
        const state = k.health?.state ?? k.status;
        return <Tag color={STATE_COLOR[state] ?? 'default'}>{t(`admin.states.${state}`, { defaultValue: state })}</Tag>;
      },
    },
    {
      title: t('admin.weight'),
      dataIndex: 'weight',
      render: (w: number, k) => (
        <InputNumber
          size="small"
          min={1}
          max={1000}
          precision={0}
          defaultValue={w}
          aria-label={t('admin.weightOf', { name: k.name })}
          onBlur={(e) => {
            const v = Number(e.target.value);
            if (Number.isInteger(v) && v !== w && v >= 1 && v <= 1000) void run(update({ id: k.id, weight: v }).unwrap(), t('admin.saved'));
          }}
        />
      ),
    },
    { title: t('admin.inFlight'), key: 'inflight', align: 'right', render: (_, k) => k.health?.in_flight ?? 0 },
    {
      title: t('admin.lastHour'),
      key: 'hour',
      align: 'right',
      render: (_, k) => t('admin.callsErrors', { calls: k.health?.calls_last_hour ?? 0, errors: k.health?.errors_last_hour ?? 0 }),
    },
    {
      title: t('admin.lastError'),
      key: 'err',
      render: (_, k) =>
        k.health?.last_error ? (
          <Tooltip title={formatDateTime(k.health.last_error_at, lng)}>
            <Tag color="error">{k.health.last_error}</Tag>
          </Tooltip>
        ) : (
          '—'
        ),
    },
    {
      title: t('admin.enabled'),
      dataIndex: 'status',
      render: (s: string, k) => (
        <Switch
          size="small"
          checked={s === 'active'}
          aria-label={t('admin.enabledOf', { name: k.name })}
          onChange={(on) => void run(update({ id: k.id, status: on ? 'active' : 'disabled' }).unwrap(), t('admin.saved'))}
        />
      ),
    },
    {
      key: 'actions',
      render: (_, k) => (
        <span className={styles.actions}>
          <Button size="small" onClick={() => setRotatingKey(k)} aria-label={t('admin.rotateOf', { name: k.name })}>
            {t('admin.rotate')}
          </Button>
          <Button size="small" danger onClick={() => confirmDelete(k)} aria-label={t('admin.deleteOf', { name: k.name })}>
            {t('common.delete')}
          </Button>
        </span>
      ),
    },
  ];

  return (
    <div className={styles.section}>
      <Button type="primary" icon={<PlusOutlined />} className={styles.create} onClick={() => setAddOpen(true)}>
        {t('admin.addKey')}
      </Button>
      {list.isLoading ? (
        <Skeleton active />
      ) : (list.data ?? []).length === 0 ? (
        <Empty description={t('admin.noKeys')} />
      ) : (
        <Table<UpstreamKey> rowKey="id" size="small" columns={columns} dataSource={list.data} pagination={false} scroll={{ x: 'max-content' }} data-testid="admin-keys" />
      )}
      <Modal
        open={addOpen}
        title={t('admin.addKey')}
        okText={t('admin.add')}
        cancelText={t('common.cancel')}
        confirmLoading={adding.isLoading}
        onOk={() => addForm.submit()}
        onCancel={() => setAddOpen(false)}
        destroyOnHidden
      >
        <Form
          form={addForm}
          layout="vertical"
          requiredMark={false}
          initialValues={{ weight: 1 }}
          onFinish={async (v) => {
            if (await run(add({ name: v.name.trim(), secret: v.secret, weight: v.weight ?? 1 }).unwrap(), t('admin.keyAdded'))) {
              setAddOpen(false);
              addForm.resetFields();
            }
          }}
        >
          <Form.Item name="name" label={t('admin.keyName')} rules={[{ required: true, whitespace: true, message: t('admin.required') }]}>
            <Input autoFocus />
          </Form.Item>
          <Form.Item name="secret" label={t('admin.secret')} extra={t('admin.secretHint')} rules={[{ required: true, message: t('admin.required') }]}>
            <Input.Password autoComplete="off" />
          </Form.Item>
          <Form.Item name="weight" label={t('admin.weight')}>
            <InputNumber min={1} max={1000} precision={0} className={styles.full} />
          </Form.Item>
        </Form>
      </Modal>
      <Modal
        open={!!rotating_}
        title={t('admin.rotateTitle', { name: rotating_?.name ?? '' })}
        okText={t('admin.rotate')}
        cancelText={t('common.cancel')}
        confirmLoading={rotating.isLoading}
        onOk={() => rotateForm.submit()}
        onCancel={() => setRotatingKey(null)}
        destroyOnHidden
      >
        <Form
          form={rotateForm}
          layout="vertical"
          requiredMark={false}
          onFinish={async (v) => {
            if (rotating_ && (await run(rotate({ id: rotating_.id, secret: v.secret }).unwrap(), t('admin.keyRotated')))) {
              setRotatingKey(null);
              rotateForm.resetFields();
            }
          }}
        >
          <p className={styles.muted}>{t('admin.rotateHint')}</p>
          <Form.Item name="secret" label={t('admin.newSecret')} rules={[{ required: true, message: t('admin.required') }]}>
            <Input.Password autoComplete="off" autoFocus />
          </Form.Item>
        </Form>
      </Modal>
    </div>
  );
}
