import { useMemo, useState } from 'react';
import { App, Button, Empty, Input, Select, Skeleton, Table, Tag, Tooltip } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { UnlockOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useErrorText } from '../../components/useErrorText';
import { formatDateTime } from '../../lib/format';
import {
  SECURITY_EVENT_KINDS,
  isLocked,
  useListSecurityEventsInfiniteQuery,
  useUnlockSecurityEventMutation,
  type SecurityEvent,
} from './securityEventsApi';
import styles from './securityEvents.module.css';

const SEVERITY_COLOR: Record<string, string> = { high: 'red', medium: 'orange', low: 'default' };

/** Admin console: what the hub detected about itself, with an unlock action for the locks it set. */
export function SecurityEventsSection() {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const { message } = App.useApp();
  const errorText = useErrorText();
  const [kind, setKind] = useState<string | undefined>(undefined);
  const [user, setUser] = useState('');
  const list = useListSecurityEventsInfiniteQuery({ kind, user: user.trim() });
  const rows = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);
  const [unlock, unlocking] = useUnlockSecurityEventMutation();
  const now = Date.now();

  const doUnlock = async (e: SecurityEvent) => {
    try {
      await unlock(e.id).unwrap();
      message.success(t('security.unlocked'));
    } catch (err) {
      message.error(errorText(err));
    }
  };

  const columns: ColumnsType<SecurityEvent> = [
    { title: t('admin.time'), dataIndex: 'created_at', render: (v: string) => formatDateTime(v, lng), width: 170 },
    {
      title: t('security.kind'),
      dataIndex: 'kind',
      render: (k: string, e) => (
        <span>
          <Tag color={SEVERITY_COLOR[e.severity]}>{t(`security.severity_${e.severity}`)}</Tag>
          {t(`security.kind_${k}`, { defaultValue: k })}
        </span>
      ),
    },
    { title: t('admin.user'), dataIndex: 'user_id', render: (v: string | null) => <span className={styles.mono}>{v ?? '—'}</span> },
    { title: t('admin.ip'), dataIndex: 'ip', render: (v: string) => v || '—' },
    {
      title: t('security.detail'),
      dataIndex: 'detail',
      render: (d: Record<string, unknown>) => <pre className={styles.code}>{JSON.stringify(d)}</pre>,
    },
    {
      title: t('security.action'),
      key: 'action',
      render: (_, e) =>
        e.action === 'none' ? (
          <span className={styles.muted}>—</span>
        ) : isLocked(e, now) ? (
          <Tooltip title={e.locked_until ? t('security.until', { time: formatDateTime(e.locked_until, lng) }) : undefined}>
            <Button size="small" icon={<UnlockOutlined />} loading={unlocking.isLoading} onClick={() => void doUnlock(e)} aria-label={t('security.unlockOf', { kind: t(`security.kind_${e.kind}`) })}>
              {t('security.unlock')}
            </Button>
          </Tooltip>
        ) : (
          <span className={styles.muted}>{t(`security.action_${e.action}`)} · {t('security.over')}</span>
        ),
    },
  ];

  return (
    <div className={styles.section}>
      <div className={styles.filters} role="group" aria-label={t('history.filters')}>
        <Select
          className={styles.filter}
          allowClear
          placeholder={t('security.allKinds')}
          aria-label={t('security.kind')}
          value={kind}
          onChange={setKind}
          options={SECURITY_EVENT_KINDS.map((k) => ({ value: k, label: t(`security.kind_${k}`) }))}
        />
        <Input className={styles.filter} allowClear placeholder={t('security.userId')} aria-label={t('security.userId')} value={user} onChange={(e) => setUser(e.target.value)} />
      </div>
      {list.isLoading ? (
        <Skeleton active />
      ) : rows.length === 0 ? (
        <Empty description={t('security.none')} />
      ) : (
        <Table<SecurityEvent> rowKey="id" size="small" columns={columns} dataSource={rows} pagination={false} scroll={{ x: 'max-content' }} data-testid="admin-security-events" />
      )}
      {list.hasNextPage && (
        <Button className={styles.more} loading={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
          {t('history.loadMore')}
        </Button>
      )}
    </div>
  );
}
