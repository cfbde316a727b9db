import { useEffect, useMemo, useState } from 'react';
import { App, Button, Empty, Input, InputNumber, Modal, Select, Skeleton, Switch, Table, Tag } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { SearchOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useAppSelector } from '../../app/hooks';
import { useErrorText } from '../../components/useErrorText';
import { formatDateTime, formatNumber } from '../../lib/format';
import { useListUsersInfiniteQuery, useUpdateUserMutation, type AdminUser } from './adminApi';
import styles from './admin.module.css';

const ROLES = ['user', 'auditor', 'admin'];

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
  const { message } = App.useApp();
  const errorText = useErrorText();
  const me = useAppSelector((s) => s.auth.user);
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim(), 250);
  const list = useListUsersInfiniteQuery({ q });
  const rows = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);
  const [update] = useUpdateUserMutation();
  const [quotaFor, setQuotaFor] = useState<AdminUser | null>(null);
  const [quota, setQuota] = useState<number | null>(null);

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

  const columns: ColumnsType<AdminUser> = [
    {
      title: t('admin.user'),
      key: 'user',
      render: (_, u) => (
        <div>
          <div>
            {u.display_name || u.username} {u.id === me?.id && <Tag>{t('admin.you')}</Tag>}
          </div>
          <div className={styles.muted}>
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
          options={ROLES.map((r) => ({ value: r, label: t(`roles.${r}`, { defaultValue: r }) }))}
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
      title: t('admin.dailyTokens'),
      key: 'quota',
      render: (_, u) => (
        <Button
          size="small"
          type="link"
          aria-label={t('admin.quotaOf', { name: u.username })}
          onClick={() => {
            setQuota(u.quota?.daily_tokens ?? null);
            setQuotaFor(u);
          }}
        >
          {u.quota?.daily_tokens == null ? t('admin.unlimited') : formatNumber(u.quota.daily_tokens, lng)}
        </Button>
      ),
    },
    {
      title: t('admin.lastSignIn'),
      dataIndex: 'last_sign_in_at',
      render: (v: string | null | undefined) => (v ? formatDateTime(v, lng) : t('admin.never')),
    },
    { title: t('admin.created'), dataIndex: 'created_at', render: (v: string) => formatDateTime(v, lng) },
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
      <Modal
        open={!!quotaFor}
        title={t('admin.quotaTitle', { name: quotaFor?.username ?? '' })}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        onCancel={() => setQuotaFor(null)}
        onOk={async () => {
          if (quotaFor && (await patch(quotaFor, { quota: { daily_tokens: quota, rpm: quotaFor.quota?.rpm ?? null } }, t('admin.saved'))))
            setQuotaFor(null);
        }}
        destroyOnHidden
      >
        <InputNumber
          min={0}
          precision={0}
          className={styles.full}
          value={quota}
          onChange={(v) => setQuota(v ?? null)}
          placeholder={t('admin.unlimited')}
          aria-label={t('admin.dailyTokens')}
        />
        <div className={styles.muted}>{t('admin.quotaHint')}</div>
      </Modal>
    </div>
  );
}
