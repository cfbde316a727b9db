import { useMemo, useState } from 'react';
import { Card, Result, Select } from 'antd';
import { useTranslation } from 'react-i18next';
import { useErrorText } from '../../components/useErrorText';
import { formatNumber } from '../../lib/format';
import { ChartsArea, cny, rangeOf, Totals } from '../history/HistoryPage';
import { useGetDashboardQuery, type RankedBucket } from '../history/historyApi';
import styles from './admin.module.css';

const RANGES = [1, 7, 30, 90, 365];

function Ranked({ title, rows, label }: { title: string; rows: RankedBucket[]; label: (key: string | null) => string }) {
  const { t, i18n } = useTranslation();
  return (
    <Card size="small" title={title}>
      {rows.length === 0 ? (
        <div className={styles.muted}>{t('history.noCalls')}</div>
      ) : (
        <ol className={styles.ranked}>
          {rows.map((r) => (
            <li key={r.key ?? ''} className={styles.rankedRow}>
              <span className={styles.mono}>{label(r.key)}</span>
              <span>
                {cny(r.cost_cny, i18n.language)} · {t('admin.nCalls', { count: r.calls, n: formatNumber(r.calls, i18n.language) })}
              </span>
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}

/** Platform-wide statistics (admins and auditors). */
export function StatsSection() {
  const { t } = useTranslation();
  const errorText = useErrorText();
  const [days, setDays] = useState(30);
  const range = useMemo(() => rangeOf(days), [days]);
  const q = useGetDashboardQuery({ ...range, scope: 'platform' });
  return (
    <div className={styles.section}>
      <Select
        className={styles.filter}
        aria-label={t('history.range')}
        value={days}
        onChange={setDays}
        options={RANGES.map((d) => ({ value: d, label: t('history.lastDays', { count: d }) }))}
      />
      {q.isError ? (
        <Result status="warning" subTitle={errorText(q.error)} />
      ) : (
        <>
          <Totals data={q.data} loading={q.isLoading} />
          <ChartsArea data={q.data} loading={q.isLoading} />
          {q.data && (
            <div className={styles.rankedGrid}>
              <Ranked title={t('admin.topUsers')} rows={q.data.top_users ?? []} label={(k) => k ?? '—'} />
              <Ranked title={t('admin.topKeys')} rows={q.data.top_keys ?? []} label={(k) => k ?? t('history.webUi')} />
            </div>
          )}
        </>
      )}
    </div>
  );
}
