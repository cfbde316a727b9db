import { lazy, Suspense, useMemo, useState } from 'react';
import { App, Button, Card, Empty, Grid, Result, Select, Skeleton, Statistic, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { DownloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useAppDispatch } from '../../app/hooks';
import { CopyButton } from '../../components/CopyButton';
import { TopBar } from '../../components/TopBar';
import { useErrorText } from '../../components/useErrorText';
import { formatDateTime, formatNumber } from '../../lib/format';
import { useListApiKeysQuery } from '../apiKeys/apiKeysApi';
import { downloadCallsCsv } from './downloadCsv';
import {
  CALL_KINDS,
  useGetDashboardQuery,
  useListCallsInfiniteQuery,
  type ApiCall,
  type CallKind,
  type Dashboard,
  type HistoryFilter,
} from './historyApi';
import styles from './history.module.css';

// The chart library is only downloaded when statistics are shown.
const HistoryCharts = lazy(() => import('./HistoryCharts'));

const RANGES = [1, 7, 30, 90, 365] as const;
const DAY_MS = 86_400_000;

/** [from, to) covering the last `days` local calendar days, today included. */
export function rangeOf(days: number, now = new Date()): { from: string; to: string } {
  const end = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
  const start = new Date(end.getTime() - days * DAY_MS);
  return { from: start.toISOString(), to: end.toISOString() };
}

export function cny(n: number, locale: string): string {
  return new Intl.NumberFormat(locale, { style: 'currency', currency: 'CNY', maximumFractionDigits: 4 }).format(n);
}

function isError(c: ApiCall) {
  return c.status_code >= 400 || !!c.error_code;
}

function RequestId({ id }: { id: string | null }) {
  if (!id) return <>—</>;
  return (
    <span className={styles.requestId}>
      <Typography.Text className={`${styles.mono} ${styles.requestIdText}`} title={id}>
        {id}
      </Typography.Text>
      <CopyButton text={id} size="small" />
    </span>
  );
}

export function Totals({ data, loading }: { data: Dashboard | undefined; loading: boolean }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const tt = data?.totals;
  const rate = tt && tt.calls > 0 ? (tt.errors / tt.calls) * 100 : 0;
  const items = [
    { key: 'calls', title: t('history.totalCalls'), value: formatNumber(tt?.calls ?? 0, lng) },
    { key: 'tokens', title: t('history.totalTokens'), value: formatNumber(tt?.total_tokens ?? 0, lng) },
    { key: 'images', title: t('history.totalImages'), value: formatNumber(tt?.images ?? 0, lng) },
    { key: 'cost', title: t('history.totalCost'), value: cny(tt?.cost_cny ?? 0, lng) },
    { key: 'errors', title: t('history.errorRate'), value: `${rate.toFixed(1)} %` },
  ];
  return (
    <div className={styles.totals} data-testid="history-totals">
      {items.map((x) => (
        <Card size="small" key={x.key}>
          <Statistic title={x.title} value={x.value} loading={loading} />
        </Card>
      ))}
    </div>
  );
}

export function ChartsArea({ data, loading }: { data: Dashboard | undefined; loading: boolean }) {
  if (loading || !data) return <Skeleton active paragraph={{ rows: 6 }} />;
  return (
    <Suspense fallback={<Skeleton active paragraph={{ rows: 6 }} />}>
      <HistoryCharts data={data} />
    </Suspense>
  );
}

export function HistoryPage() {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const dispatch = useAppDispatch();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const compact = !Grid.useBreakpoint().md;

  const [days, setDays] = useState<number>(30);
  const [model, setModel] = useState<string | undefined>();
  const [status, setStatus] = useState<'ok' | 'error' | undefined>();
  const [kind, setKind] = useState<CallKind | undefined>();
  const [key, setKey] = useState<string | undefined>();
  const [exporting, setExporting] = useState(false);
  // The range is fixed when chosen, so the queries keep one cache key while the page is open.
  const range = useMemo(() => rangeOf(days), [days]);
  const filter: HistoryFilter = { ...range, model, status, kind, key };

  const dashboard = useGetDashboardQuery(filter);
  const calls = useListCallsInfiniteQuery(filter);
  const keys = useListApiKeysQuery();
  const keyName = useMemo(() => new Map((keys.data ?? []).map((k) => [k.id, k.name])), [keys.data]);
  const rows = useMemo(() => calls.data?.pages.flatMap((p) => p.items) ?? [], [calls.data]);
  const models = useMemo(
    () => [...new Set([...(dashboard.data?.by_model.map((m) => m.key ?? '') ?? []), ...(model ? [model] : [])])].filter(Boolean),
    [dashboard.data, model],
  );

  const keyLabel = (id: string | null) => (id ? (keyName.get(id) ?? `${id.slice(0, 8)}…`) : t('history.webUi'));
  const statusTag = (c: ApiCall) =>
    isError(c) ? <Tag color="error">{c.error_code || c.status_code}</Tag> : <Tag color="success">{c.status_code}</Tag>;

  const columns: ColumnsType<ApiCall> = [
    { title: t('history.time'), dataIndex: 'created_at', render: (v: string) => formatDateTime(v, lng), width: 170 },
    { title: t('history.kind'), dataIndex: 'kind', render: (v: CallKind) => t(`history.kinds.${v}`) },
    { title: t('history.model'), dataIndex: 'model' },
    { title: t('history.status'), key: 'status', render: (_, c) => statusTag(c) },
    { title: t('history.inputTokens'), dataIndex: 'input_tokens', align: 'right', render: (v: number) => formatNumber(v, lng) },
    { title: t('history.outputTokens'), dataIndex: 'output_tokens', align: 'right', render: (v: number) => formatNumber(v, lng) },
    { title: t('history.images'), dataIndex: 'image_count', align: 'right' },
    { title: t('history.latency'), dataIndex: 'latency_ms', align: 'right', render: (v: number) => `${formatNumber(v, lng)} ms` },
    {
      title: t('history.ttft'),
      dataIndex: 'first_token_ms',
      align: 'right',
      render: (v: number | null) => (v === null ? '—' : `${formatNumber(v, lng)} ms`),
    },
    { title: t('history.cost'), dataIndex: 'cost_cny', align: 'right', render: (v: number) => cny(v, lng) },
    { title: t('history.requestId'), dataIndex: 'upstream_request_id', render: (v: string | null) => <RequestId id={v} /> },
    { title: t('history.key'), dataIndex: 'api_key_id', render: (v: string | null) => keyLabel(v) },
  ];

  const onExport = async () => {
    setExporting(true);
    const err = await dispatch(downloadCallsCsv(filter));
    setExporting(false);
    if (err) message.error(errorText(err));
  };

  const kindOptions = [
    { value: '', label: t('history.allKinds') },
    ...CALL_KINDS.map((k) => ({ value: k, label: t(`history.kinds.${k}`) })),
  ];

  let list;
  if (calls.isLoading) {
    list = <Skeleton active paragraph={{ rows: 8 }} />;
  } else if (calls.isError && rows.length === 0) {
    list = (
      <Result status="warning" subTitle={errorText(calls.error)} extra={<Button onClick={() => calls.refetch()}>{t('common.retry')}</Button>} />
    );
  } else if (rows.length === 0) {
    list = <Empty description={t('history.noCalls')} data-testid="history-empty" />;
  } else if (compact) {
    list = (
      <div className={styles.cards} data-testid="history-cards">
        {rows.map((c) => (
          <Card size="small" key={c.id} data-testid="history-row">
            <div className={styles.cardHead}>
              <Typography.Text strong>{c.model || '—'}</Typography.Text>
              {statusTag(c)}
            </div>
            <div className={styles.label}>
              {formatDateTime(c.created_at, lng)} · {t(`history.kinds.${c.kind}`)} · {keyLabel(c.api_key_id)}
            </div>
            <div className={styles.cardGrid}>
              <span className={styles.label}>{t('history.tokens')}</span>
              <span>
                {formatNumber(c.input_tokens, lng)} / {formatNumber(c.output_tokens, lng)}
              </span>
              <span className={styles.label}>{t('history.latency')}</span>
              <span>
                {formatNumber(c.latency_ms, lng)} ms
                {c.first_token_ms !== null && ` (${t('history.ttft')} ${formatNumber(c.first_token_ms, lng)} ms)`}
              </span>
              <span className={styles.label}>{t('history.cost')}</span>
              <span>{cny(c.cost_cny, lng)}</span>
              {c.image_count > 0 && (
                <>
                  <span className={styles.label}>{t('history.images')}</span>
                  <span>{c.image_count}</span>
                </>
              )}
              <span className={styles.label}>{t('history.requestId')}</span>
              <RequestId id={c.upstream_request_id} />
            </div>
          </Card>
        ))}
      </div>
    );
  } else {
    list = (
      <Table<ApiCall>
        data-testid="history-table"
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={rows}
        pagination={false}
        scroll={{ x: 'max-content' }}
        onRow={() => ({ 'data-testid': 'history-row' }) as React.HTMLAttributes<HTMLElement>}
      />
    );
  }

  return (
    <div className={styles.page}>
      <TopBar
        title={t('history.title')}
        extra={
          <Button icon={<DownloadOutlined />} loading={exporting} onClick={onExport} disabled={rows.length === 0}>
            {compact ? t('history.csv') : t('history.exportCsv')}
          </Button>
        }
      />
      <div className={styles.scroll}>
        <div className={styles.inner}>
          <div className={styles.filters} role="group" aria-label={t('history.filters')}>
            <Select
              className={styles.filter}
              aria-label={t('history.range')}
              value={days}
              onChange={setDays}
              options={RANGES.map((d) => ({ value: d, label: t('history.lastDays', { count: d }) }))}
            />
            <Select
              className={styles.filter}
              aria-label={t('history.model')}
              value={model ?? ''}
              onChange={(v) => setModel(v || undefined)}
              options={[{ value: '', label: t('history.allModels') }, ...models.map((m) => ({ value: m, label: m }))]}
            />
            <Select
              className={styles.filter}
              aria-label={t('history.status')}
              value={status ?? ''}
              onChange={(v) => setStatus((v || undefined) as 'ok' | 'error' | undefined)}
              options={[
                { value: '', label: t('history.allStatuses') },
                { value: 'ok', label: t('history.statusOk') },
                { value: 'error', label: t('history.statusError') },
              ]}
            />
            <Select
              className={styles.filter}
              aria-label={t('history.kind')}
              value={kind ?? ''}
              onChange={(v) => setKind((v || undefined) as CallKind | undefined)}
              options={kindOptions}
            />
            <Select
              className={styles.filter}
              aria-label={t('history.key')}
              value={key ?? ''}
              onChange={(v) => setKey(v || undefined)}
              options={[
                { value: '', label: t('history.allKeys') },
                { value: 'none', label: t('history.webUi') },
                ...(keys.data ?? []).map((k) => ({ value: k.id, label: `${k.name} (${k.prefix}…)` })),
              ]}
            />
          </div>
          {dashboard.isError ? (
            <Result status="warning" subTitle={errorText(dashboard.error)} />
          ) : (
            <>
              <Totals data={dashboard.data} loading={dashboard.isLoading} />
              <ChartsArea data={dashboard.data} loading={dashboard.isLoading} />
            </>
          )}
          <Typography.Title level={2} className="visually-hidden">
            {t('history.calls')}
          </Typography.Title>
          {list}
          {calls.hasNextPage && (
            <div className={styles.more}>
              <Button loading={calls.isFetchingNextPage} onClick={() => void calls.fetchNextPage()}>
                {t('history.loadMore')}
              </Button>
            </div>
          )}
        </div>
      </div>
    </div>
  );
}
