import { useMemo, useState } from 'react';
import { Button, Descriptions, Drawer, Empty, Input, Select, Skeleton, Table, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useTranslation } from 'react-i18next';
import { formatDateTime } from '../../lib/format';
import { useListAuditInfiniteQuery, type AuditEntry, type AuditFilter } from './adminApi';
import styles from './admin.module.css';

const RANGES = [1, 7, 30, 90, 365];

export function AuditSection() {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [days, setDays] = useState(30);
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const [target, setTarget] = useState('');
  const [open, setOpen] = useState<AuditEntry | null>(null);
  const from = useMemo(() => new Date(Date.now() - days * 86_400_000).toISOString(), [days]);
  const filter: AuditFilter = { from, actor: actor.trim(), action: action.trim(), target: target.trim() };
  const list = useListAuditInfiniteQuery(filter);
  const rows = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);

  const columns: ColumnsType<AuditEntry> = [
    { title: t('admin.time'), dataIndex: 'created_at', render: (v: string) => formatDateTime(v, lng), width: 170 },
    { title: t('admin.action'), dataIndex: 'action', render: (v: string) => <Typography.Text code>{v}</Typography.Text> },
    { title: t('admin.actor'), dataIndex: 'actor_user_id', render: (v: string | null) => <span className={styles.mono}>{v ?? '—'}</span> },
    { title: t('admin.target'), dataIndex: 'target', render: (v: string) => <span className={styles.mono}>{v || '—'}</span> },
    { title: t('admin.ip'), dataIndex: 'ip' },
    {
      key: 'details',
      render: (_, e) => (
        <Button size="small" type="link" onClick={() => setOpen(e)}>
          {t('admin.details')}
        </Button>
      ),
    },
  ];

  return (
    <div className={styles.section}>
      <div className={styles.filters} role="group" aria-label={t('history.filters')}>
        <Select
          className={styles.filter}
          aria-label={t('history.range')}
          value={days}
          onChange={setDays}
          options={RANGES.map((d) => ({ value: d, label: t('history.lastDays', { count: d }) }))}
        />
        <Input className={styles.filter} allowClear placeholder={t('admin.actorId')} aria-label={t('admin.actorId')} value={actor} onChange={(e) => setActor(e.target.value)} />
        <Input className={styles.filter} allowClear placeholder={t('admin.actionName')} aria-label={t('admin.actionName')} value={action} onChange={(e) => setAction(e.target.value)} />
        <Input className={styles.filter} allowClear placeholder={t('admin.targetName')} aria-label={t('admin.targetName')} value={target} onChange={(e) => setTarget(e.target.value)} />
      </div>
      {list.isLoading ? (
        <Skeleton active />
      ) : rows.length === 0 ? (
        <Empty description={t('admin.noAudit')} />
      ) : (
        <Table<AuditEntry> rowKey="id" size="small" columns={columns} dataSource={rows} pagination={false} scroll={{ x: 'max-content' }} data-testid="admin-audit" />
      )}
      {list.hasNextPage && (
        <Button className={styles.more} loading={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
          {t('history.loadMore')}
        </Button>
      )}
      <Drawer open={!!open} onClose={() => setOpen(null)} title={open?.action} size={480}>
        {open && (
          <Descriptions column={1} size="small" bordered>
            <Descriptions.Item label={t('admin.time')}>{formatDateTime(open.created_at, lng)}</Descriptions.Item>
            <Descriptions.Item label={t('admin.actor')}>{open.actor_user_id ?? '—'}</Descriptions.Item>
            <Descriptions.Item label={t('admin.target')}>{open.target || '—'}</Descriptions.Item>
            <Descriptions.Item label={t('admin.ip')}>{open.ip || '—'}</Descriptions.Item>
            <Descriptions.Item label={t('admin.requestId')}>{open.request_id || '—'}</Descriptions.Item>
            <Descriptions.Item label={t('admin.detail')}>
              <pre className={styles.code}>{JSON.stringify(open.detail, null, 2)}</pre>
            </Descriptions.Item>
          </Descriptions>
        )}
      </Drawer>
    </div>
  );
}
