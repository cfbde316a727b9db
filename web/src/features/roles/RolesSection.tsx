import { useMemo, useState } from 'react';
import { App, Button, Checkbox, Drawer, Empty, Form, Input, Select, Skeleton, Switch, Table, Tag } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { DeleteOutlined, EditOutlined, PlusOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useErrorText } from '../../components/useErrorText';
import { useListModelsQuery } from '../models/modelsApi';
import {
  groupPermissions,
  useCreateRoleMutation,
  useDeleteRoleMutation,
  useListPermissionsQuery,
  useListRolesQuery,
  useUpdateRoleMutation,
  type RoleRecord,
} from './rolesApi';
import styles from './roles.module.css';

interface RoleForm {
  name: string;
  description: string;
  permissions: string[];
  models: string[];
  mfa_required: boolean;
}

/** Admin console: roles as data — list, create, edit (permissions, model allow-list, MFA) and delete. */
export function RolesSection() {
  const { t } = useTranslation();
  const { message, modal } = App.useApp();
  const errorText = useErrorText();
  const roles = useListRolesQuery();
  const perms = useListPermissionsQuery();
  const models = useListModelsQuery();
  const [createRole, creating] = useCreateRoleMutation();
  const [updateRole, updating] = useUpdateRoleMutation();
  const [deleteRole] = useDeleteRoleMutation();
  const [editing, setEditing] = useState<RoleRecord | 'new' | null>(null);
  const [form] = Form.useForm<RoleForm>();
  const groups = useMemo(() => groupPermissions(perms.data ?? []), [perms.data]);
  const modelOptions = useMemo(() => (models.data ?? []).map((m) => ({ value: m.id, label: m.id })), [models.data]);

  const open = (role: RoleRecord | 'new') => {
    setEditing(role);
    form.setFieldsValue(
      role === 'new'
        ? { name: '', description: '', permissions: [], models: [], mfa_required: false }
        : { name: role.name, description: role.description, permissions: role.permissions, models: role.models, mfa_required: role.mfa_required },
    );
  };

  const save = async (v: RoleForm) => {
    try {
      if (editing === 'new') {
        await createRole({ name: v.name.trim(), description: v.description, permissions: v.permissions, models: v.models, mfa_required: v.mfa_required }).unwrap();
        message.success(t('rolesAdmin.created'));
      } else if (editing) {
        await updateRole({ name: editing.name, patch: { description: v.description, permissions: v.permissions, models: v.models, mfa_required: v.mfa_required } }).unwrap();
        message.success(t('admin.saved'));
      }
      setEditing(null);
    } catch (e) {
      message.error(errorText(e));
    }
  };

  const remove = (role: RoleRecord) =>
    modal.confirm({
      title: t('rolesAdmin.deleteTitle', { name: role.name }),
      content: t('rolesAdmin.deleteBody'),
      okButtonProps: { danger: true },
      okText: t('rolesAdmin.delete'),
      onOk: async () => {
        try {
          await deleteRole(role.name).unwrap();
          message.success(t('rolesAdmin.deleted'));
        } catch (e) {
          message.error(errorText(e));
        }
      },
    });

  const columns: ColumnsType<RoleRecord> = [
    {
      title: t('rolesAdmin.name'),
      dataIndex: 'name',
      render: (name: string, r) => (
        <div>
          <span className={styles.mono}>{name}</span> {r.builtin && <Tag>{t('rolesAdmin.builtin')}</Tag>}
          {r.description && <div className={styles.muted}>{r.description}</div>}
        </div>
      ),
    },
    {
      title: t('rolesAdmin.permissions'),
      dataIndex: 'permissions',
      render: (p: string[]) => (
        <div className={styles.tags}>
          {p.map((x) => (
            <Tag key={x}>{x}</Tag>
          ))}
        </div>
      ),
    },
    {
      title: t('rolesAdmin.models'),
      dataIndex: 'models',
      render: (m: string[]) => (m.length === 0 ? <span className={styles.muted}>{t('rolesAdmin.allModels')}</span> : <div className={styles.tags}>{m.map((x) => <Tag key={x} color="blue">{x}</Tag>)}</div>),
    },
    {
      title: t('rolesAdmin.mfa'),
      dataIndex: 'mfa_required',
      render: (on: boolean) => (on ? <Tag color="orange">{t('rolesAdmin.mfaOn')}</Tag> : <span className={styles.muted}>—</span>),
    },
    {
      key: 'actions',
      render: (_, r) => (
        <span className={styles.actions}>
          <Button size="small" icon={<EditOutlined />} aria-label={t('rolesAdmin.editOf', { name: r.name })} onClick={() => open(r)} />
          {!r.builtin && (
            <Button size="small" danger icon={<DeleteOutlined />} aria-label={t('rolesAdmin.deleteOf', { name: r.name })} onClick={() => remove(r)} />
          )}
        </span>
      ),
    },
  ];

  return (
    <div className={styles.section}>
      <Button className={styles.create} type="primary" icon={<PlusOutlined />} onClick={() => open('new')}>
        {t('rolesAdmin.create')}
      </Button>
      {roles.isLoading ? (
        <Skeleton active />
      ) : (roles.data ?? []).length === 0 ? (
        <Empty />
      ) : (
        <Table<RoleRecord> rowKey="name" size="small" columns={columns} dataSource={roles.data} pagination={false} scroll={{ x: 'max-content' }} data-testid="admin-roles" />
      )}
      <Drawer
        open={editing !== null}
        onClose={() => setEditing(null)}
        title={editing === 'new' ? t('rolesAdmin.create') : t('rolesAdmin.editOf', { name: editing?.name ?? '' })}
        size={520}
        destroyOnHidden
        extra={
          <Button type="primary" loading={creating.isLoading || updating.isLoading} onClick={() => form.submit()}>
            {t('rolesAdmin.save')}
          </Button>
        }
      >
        <Form<RoleForm> form={form} layout="vertical" onFinish={(v) => void save(v)} requiredMark={false}>
          <Form.Item
            name="name"
            label={t('rolesAdmin.name')}
            extra={t('rolesAdmin.nameHint')}
            rules={[{ required: true, pattern: /^[a-z][a-z0-9_-]{0,31}$/, message: t('rolesAdmin.nameHint') }]}
          >
            <Input disabled={editing !== 'new'} autoComplete="off" />
          </Form.Item>
          <Form.Item name="description" label={t('rolesAdmin.description')} rules={[{ max: 255 }]}>
            <Input />
          </Form.Item>
          <Form.Item name="permissions" label={t('rolesAdmin.permissions')}>
            <Checkbox.Group className={styles.full}>
              {groups.map((g) => (
                <div key={g.group} className={styles.group}>
                  <div className={styles.groupTitle}>{t(`rolesAdmin.group_${g.group}`)}</div>
                  <div className={styles.checks}>
                    {g.items.map((p) => (
                      <Checkbox key={p.name} value={p.name}>
                        <span className={styles.mono}>{p.name}</span> <span className={styles.muted}>{p.description}</span>
                      </Checkbox>
                    ))}
                  </div>
                </div>
              ))}
            </Checkbox.Group>
          </Form.Item>
          <Form.Item name="models" label={t('rolesAdmin.models')} extra={t('rolesAdmin.modelsHint')}>
            <Select mode="tags" options={modelOptions} placeholder={t('rolesAdmin.allModels')} aria-label={t('rolesAdmin.models')} />
          </Form.Item>
          <Form.Item name="mfa_required" label={t('rolesAdmin.mfa')} extra={t('rolesAdmin.mfaHint')} valuePropName="checked">
            <Switch aria-label={t('rolesAdmin.mfa')} />
          </Form.Item>
        </Form>
      </Drawer>
    </div>
  );
}
