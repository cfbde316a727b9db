import { useEffect, useMemo, useState } from 'react';
import { App, Button, Empty, Input, Select, Skeleton, Switch, Table, Tag } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { DeleteOutlined, SearchOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useAppSelector } from '../../app/hooks';
import { useErrorText } from '../../components/useErrorText';
import { formatDateTime } from '../../lib/format';
import { LimitsCell } from '../limits/LimitsCell';
import { LimitsDialog, type LimitGroup } from '../limits/LimitsDialog';
import { USER_LIMIT_FIELDS, type LimitField } from '../limits/limitRules';
import { isApiError } from '../../lib/apiError';
import { useDeleteUserMutation, useListUsersInfiniteQuery, useUpdateUserMutation, type AdminUser } from './adminApi';
import { useListRolesQuery } from '../roles/rolesApi';
import styles from './admin.module.css';

const BUILTIN_ROLES = ['user', 'auditor', 'admin'];

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setV(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return v;
}

export function UsersSection() {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const { message, modal } = App.useApp();
  const errorText = useErrorText();
  const me = useAppSelector((s) => s.auth.user);
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim(), 250);
  const list = useListUsersInfiniteQuery({ q });
  const rows = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);
  const [update] = useUpdateUserMutation();
  const [removeUser] = useDeleteUserMutation();
  const [limitsOf, setLimitsOf] = useState<AdminUser | null>(null);
  const roleList = useListRolesQuery();
  const roleNames = useMemo(() => roleList.data?.map((r) => r.name) ?? BUILTIN_ROLES, [roleList.data]);
  const limitGroups = useMemo<LimitGroup<LimitField>[]>(
    () => [
      { title: t('limits.rates'), fields: ['rpm', 'tpm'] },
      { title: t('limits.tokens'), fields: ['daily_tokens', 'monthly_tokens'] },
      { title: t('limits.costs'), fields: ['daily_cost_cny', 'monthly_cost_cny'] },
    ],
    [t],
  );

  const patch = async (u: AdminUser, p: Parameters<typeof update>[0]['patch'], done: string) => {
    try {
      await update({ id: u.id, patch: p }).unwrap();
      message.success(done);
      return true;
    } catch (e) {
      message.error(errorText(e));
      return false;
    }
  };

  const confirmDelete = (u: AdminUser) => {
    modal.confirm({
      title: t('admin.deleteUserTitle', { name: u.username }),
      content: t('admin.deleteUserBody'),
      okText: t('admin.deleteUser'),
      okButtonProps: { danger: true },
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await removeUser(u.id).unwrap();
          message.success(t('admin.userDeleted'));
        } catch (e) {
          message.error(isApiError(e) && e.code === 'last_admin' ? t('admin.lastAdmin') : errorText(e));
        }
      },
    });
  };

  const columns: ColumnsType<AdminUser> = [
    {
      title: t('admin.user'),
      key: 'user',
      render: (_, u) => (
        <div>
          <div>
            {u.display_name || u.username} {u.id === me?.id && <Tag>{t('admin.you')}</Tag>}
          </div>
          <div className={styles.identity} title={`${u.username} · ${u.email}`}>
            {u.username} · {u.email}
          </div>
        </div>
      ),
    },
    {
      title: t('admin.role'),
      dataIndex: 'role',
      render: (role: string, u) => (
        <Select
          size="small"
          value={role}
          aria-label={t('admin.roleOf', { name: u.username })}
          className={styles.roleSelect}
          options={roleNames.map((r) => ({ value: r, label: t(`roles.${r}`, { defaultValue: r }) }))}
          onChange={(r) => void patch(u, { role: r }, t('admin.saved'))}
        />
      ),
    },
    {
      title: t('admin.enabled'),
      dataIndex: 'status',
      render: (status: string, u) => (
        <Switch
          size="small"
          checked={status === 'active'}
          aria-label={t('admin.enabledOf', { name: u.username })}
          onChange={(on) => void patch(u, { status: on ? 'active' : 'disabled' }, on ? t('admin.userEnabled') : t('admin.userDisabled'))}
        />
      ),
    },
    {
      title: t('admin.limits'),
      key: 'limits',
      render: (_, u) => (
        <LimitsCell
          values={u.quota}
          fields={USER_LIMIT_FIELDS}
          none={t('admin.roleDefaults')}
          editLabel={t('admin.limitsOf', { name: u.username })}
          onEdit={() => setLimitsOf(u)}
        />
      ),
    },
    {
      title: t('admin.lastSignIn'),
      dataIndex: 'last_sign_in_at',
      render: (v: string | null | undefined) => (v ? formatDateTime(v, lng) : t('admin.never')),
    },
    { title: t('admin.created'), dataIndex: 'created_at', render: (v: string) => formatDateTime(v, lng) },
    {
      title: '',
      key: 'actions',
      fixed: 'right',
      width: 48,
      render: (_, u) => (
        <Button
          size="small"
          danger
          type="text"
          icon={<DeleteOutlined />}
          aria-label={t('admin.deleteUserOf', { name: u.username })}
          onClick={() => confirmDelete(u)}
        />
      ),
    },
  ];

  return (
    <div className={styles.section}>
      <Input
        allowClear
        prefix={<SearchOutlined />}
        placeholder={t('admin.searchUsers')}
        aria-label={t('admin.searchUsers')}
        value={search}
        onChange={(e) => setSearch(e.target.value)}
        className={styles.search}
      />
      {list.isLoading ? (
        <Skeleton active />
      ) : rows.length === 0 ? (
        <Empty description={t('admin.noUsers')} />
      ) : (
        <Table<AdminUser> rowKey="id" size="small" columns={columns} dataSource={rows} pagination={false} scroll={{ x: 'max-content' }} data-testid="admin-users" />
      )}
      {list.hasNextPage && (
        <Button className={styles.more} loading={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
          {t('history.loadMore')}
        </Button>
      )}
      <LimitsDialog
        initial={limitsOf?.quota ?? null}
        title={t('admin.limitsOf', { name: limitsOf?.username ?? '' })}
        hint={t('admin.limitsHint')}
        emptyText={t('admin.roleDefault')}
        groups={limitGroups}
        savedText={t('admin.saved')}
        onSave={(quota) => update({ id: limitsOf?.id ?? '', patch: { quota } }).unwrap()}
        onClose={() => setLimitsOf(null)}
      />
    </div>
  );
}
